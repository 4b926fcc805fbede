// text_file.cpp: see text_file.h.
#include "agent/resources/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mgmt::agent::resources {

Result<std::optional<std::string>> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return fail(Code::unavailable, "cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return std::optional<std::string>(out.str());
}

Result<void> write_text_file_atomic(const std::string& path, const std::string& content,
                                    mode_t mode_if_new) {
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  const std::string tmp = path + ".mgmt-tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(Code::unavailable, "cannot write " + tmp + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(Code::unavailable, "cannot write " + tmp + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  const mode_t mode = exists ? (st.st_mode & 07777) : mode_if_new;
  bool ok_so_far = ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  if (ok_so_far && exists) (void)::fchown(fd, st.st_uid, st.st_gid);
  ok_so_far = (::close(fd) == 0) && ok_so_far;
  if (!ok_so_far || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return fail(Code::unavailable, "cannot replace " + path + ": " + why);
  }
  return ok();
}

}  // namespace mgmt::agent::resources
