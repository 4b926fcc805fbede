// inotify_watch.cpp: the process-wide inotify hub and its subscriptions; see inotify_watch.h.
#include "agent/resources/inotify_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace mgmt::agent::resources {
namespace {

class InotifyHub {
 public:
  static InotifyHub& instance() {
    static InotifyHub hub;
    return hub;
  }

  uint64_t subscribe(const std::string& directory, const std::string& name,
                     std::function<void()> callback) {
    std::lock_guard lock(mutex_);
    if (fd_ < 0) return 0;
    int wd = -1;
    if (auto it = wd_of_dir_.find(directory); it != wd_of_dir_.end()) {
      wd = it->second;
    } else {
      uint32_t mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                      IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
      wd = ::inotify_add_watch(fd_, directory.c_str(), mask);
      if (wd < 0) return 0;
      wd_of_dir_[directory] = wd;
    }
    uint64_t id = ++next_id_;
    subscriptions_[id] = Subscription{wd, name, std::move(callback)};
    return id;
  }

  void unsubscribe(uint64_t id) {
    std::lock_guard dispatching(dispatch_mutex_);  // waits for a running callback to end
    std::lock_guard lock(mutex_);
    subscriptions_.erase(id);
  }

 private:
  struct Subscription {
    int wd;
    std::string name;
    std::function<void()> callback;
  };

  InotifyHub() {
    fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd_ < 0) return;
    thread_ = std::thread([this] { loop(); });
    thread_.detach();  // lives as long as the process; the OS closes the descriptor
  }

  void loop() {
    alignas(inotify_event) char buffer[65536];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0) continue;
      ssize_t n = ::read(fd_, buffer, sizeof(buffer));
      if (n <= 0) continue;
      struct Event {
        int wd;
        std::string entry;
        bool self;  // the watched directory itself was deleted or moved
      };
      std::vector<Event> events;
      for (ssize_t at = 0; at < n;) {
        inotify_event event;
        std::memcpy(&event, buffer + at, sizeof(event));
        std::string entry = event.len > 0 ? std::string(buffer + at + sizeof(event)) : "";
        events.push_back(
            Event{event.wd, std::move(entry), (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0});
        at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
      }
      std::lock_guard dispatching(dispatch_mutex_);
      std::vector<std::function<void()>*> due;
      {
        std::lock_guard lock(mutex_);
        for (auto& [id, s] : subscriptions_) {
          for (const auto& e : events) {
            if (s.wd == e.wd && (s.name.empty() || e.self || e.entry == s.name)) {
              due.push_back(&s.callback);
              break;
            }
          }
        }
      }
      // Subscriptions cannot go away meanwhile: unsubscribe waits for dispatch_mutex_.
      for (auto* callback : due) (*callback)();
    }
  }

  std::mutex dispatch_mutex_;  // held while callbacks run
  std::mutex mutex_;           // guards wd_of_dir_, subscriptions_, next_id_
  int fd_ = -1;
  std::map<std::string, int> wd_of_dir_;
  std::map<uint64_t, Subscription> subscriptions_;
  uint64_t next_id_ = 0;
  std::thread thread_;
};

}  // namespace

InotifyWatch::InotifyWatch(const std::string& directory, const std::string& name,
                           std::function<void()> on_change) {
  id_ = InotifyHub::instance().subscribe(directory, name, std::move(on_change));
}

InotifyWatch::~InotifyWatch() {
  if (id_ != 0) InotifyHub::instance().unsubscribe(id_);
}

}  // namespace mgmt::agent::resources
