// data_dir.cpp: opening the agent's data directory; see data_dir.h.
#include "agent/run/data_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace mgmt::agent::run {

DataDir::DataDir(std::filesystem::path path, bool temporary)
    : path_(std::move(path)), temporary_(temporary) {}

DataDir::~DataDir() {
  if (temporary_) {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
}

Result<std::unique_ptr<DataDir>> DataDir::open(const std::string& prefix, bool temporary) {
  if (temporary) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/mgmt-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return fail(Code::unavailable, "cannot create a temporary data dir from " + pattern + ": " +
                                         std::strerror(errno) +
                                         "; set TMPDIR to a writable directory");
    }
    return std::unique_ptr<DataDir>(new DataDir(pattern, true));
  }
  std::filesystem::path path = prefix.empty() ? kDefaultPrefix : prefix;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return fail(Code::permission_denied,
                "cannot create data dir " + path.string() + ": " + ec.message() +
                    "; run as root, or choose another with --prefix DIR or --tmp-prefix");
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return fail(Code::failed_precondition, "data dir " + path.string() +
                                               " is not a directory; choose another with "
                                               "--prefix DIR");
  }
  if (::access(path.c_str(), W_OK) != 0) {
    return fail(Code::permission_denied,
                "data dir " + path.string() + " is not writable by this user; run as root, "
                "fix its permissions, or choose another with --prefix DIR or --tmp-prefix");
  }
  return std::unique_ptr<DataDir>(new DataDir(path, false));
}

}  // namespace mgmt::agent::run
