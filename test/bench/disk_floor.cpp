// disk_floor.cpp: see disk_floor.h.
#include "test/bench/disk_floor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mgmt::bench {

namespace {

constexpr std::size_t kFileBytes = 64 << 20;

Error io_error(const std::string& what, const std::string& path) {
  return Error(Code::internal, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<int> create_written_file(const std::string& path, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(io_error("cannot create", path));
  auto give_up = [&](const std::string& what) {
    auto error = io_error(what, path);
    ::close(fd);
    ::unlink(path.c_str());
    return fail(error);
  };
  const std::vector<char> block(1 << 20, 0);
  for (std::size_t written = 0; written < bytes; written += block.size()) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      return give_up("cannot fill");
    }
  }
  if (::fsync(fd) != 0) return give_up("cannot sync");
  return fd;
}

Result<std::vector<double>> measure_synced_appends(const std::string& dir,
                                                   std::size_t record_bytes,
                                                   std::chrono::seconds run_for) {
  const std::string path = dir + "/disk-floor.bin";
  auto opened = create_written_file(path, kFileBytes);
  if (!opened) return fail(opened.error());
  const int fd = *opened;
  struct Closer {
    int fd;
    std::string path;
    ~Closer() {
      ::close(fd);
      ::unlink(path.c_str());
    }
  } closer{fd, path};

  const std::vector<char> record(record_bytes, 'r');
  std::vector<double> latencies;
  const auto deadline = std::chrono::steady_clock::now() + run_for;
  for (off_t offset = 0; offset + static_cast<off_t>(record_bytes) <= off_t(kFileBytes);
       offset += static_cast<off_t>(record_bytes)) {
    const auto start = std::chrono::steady_clock::now();
    if (start >= deadline) break;
    if (::pwrite(fd, record.data(), record.size(), offset) !=
        static_cast<ssize_t>(record.size())) {
      return fail(io_error("cannot append to", path));
    }
    if (::fdatasync(fd) != 0) return fail(io_error("cannot sync", path));
    latencies.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  return latencies;
}

}  // namespace mgmt::bench
