// inotify_watch.h: file change events for resources. One inotify instance serves the whole
// process (the kernel allows only 128 instances per user by default), with one watch per
// directory however many resources look at it; each InotifyWatch subscribes to one entry of one
// directory (or to every entry, for an empty name) and is called when it is created, written,
// deleted, moved or has its attributes changed. Events of one read coalesce into one call.
// Thread-safety: callbacks run on the hub's thread, one at a time; after the destructor of an
// InotifyWatch returns its callback is never called again (do not destroy a watch from inside
// a callback).
#pragma once

#include "agent/resources/resource.h"

#include <cstdint>
#include <functional>
#include <string>

namespace mgmt::agent::resources {

class InotifyWatch final : public Watch {
 public:
  // ok() is false when the directory cannot be watched (it does not exist yet, or the kernel
  // refused); nothing is then delivered.
  InotifyWatch(const std::string& directory, const std::string& name,
               std::function<void()> on_change);
  ~InotifyWatch() override;
  bool ok() const { return id_ != 0; }

 private:
  uint64_t id_ = 0;
};

}  // namespace mgmt::agent::resources
