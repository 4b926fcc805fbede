// inotify_watch.cpp: see inotify_watch.h.
#include "agent/resources/inotify_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace mgmt::agent::resources {

InotifyWatch::InotifyWatch(const std::string& directory, const std::string& name,
                           std::function<void()> on_change) {
  inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0) return;
  uint32_t mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                  IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
  if (::inotify_add_watch(inotify_fd_, directory.c_str(), mask) < 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return;
  }
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this, name, on_change = std::move(on_change)] {
    alignas(inotify_event) char buffer[8192];
    for (;;) {
      pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      ssize_t n = ::read(inotify_fd_, buffer, sizeof(buffer));
      if (n <= 0) continue;
      bool relevant = false;
      for (ssize_t at = 0; at < n;) {
        inotify_event event;
        std::memcpy(&event, buffer + at, sizeof(event));
        std::string entry = event.len > 0 ? std::string(buffer + at + sizeof(event)) : "";
        if (name.empty() || entry == name || (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF))) {
          relevant = true;
        }
        at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
      }
      if (relevant) on_change();  // one call per batch: events coalesce
    }
  });
}

InotifyWatch::~InotifyWatch() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

}  // namespace mgmt::agent::resources
