// inotify_watch.h: watches one directory with inotify and calls back when an entry with a
// given name (or any entry, for an empty name) changes: created, written, deleted, moved,
// attributes. A thread waits on the inotify descriptor and an eventfd that stop uses.
// Thread-safety: the callback runs on the watch's thread; destroy from any other thread.
#pragma once

#include "agent/resources/resource.h"

#include <functional>
#include <string>
#include <thread>

namespace mgmt::agent::resources {

class InotifyWatch final : public Watch {
 public:
  // Nothing is watched (and no thread starts) if the directory cannot be watched; ok() says.
  InotifyWatch(const std::string& directory, const std::string& name,
               std::function<void()> on_change);
  ~InotifyWatch() override;
  bool ok() const { return inotify_fd_ >= 0; }

 private:
  int inotify_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
};

}  // namespace mgmt::agent::resources
