// watch_hub.h: the registry of watchers of one KvStore and the delivery of events to them.
// Invariants: a watcher's next_revision only grows; an event is delivered to a watcher only if
// its revision is >= next_revision, after which next_revision = revision + 1, so every event is
// delivered at most once and in revision order; the KvStore delivers every revision (history,
// then live), so also at least once.
// Thread-safety: all methods lock the hub's mutex; sinks run under it.
#pragma once

#include "store/mvcc/kv_store.h"

#include <map>
#include <mutex>
#include <vector>

namespace mgmt::store::mvcc {

class WatchHub {
 public:
  struct Watcher {
    WatchRequest request;
    WatchSink sink;
    int64_t next_revision = 0;
  };

  // Registers a watcher whose first wanted revision is next_revision; returns its id.
  WatcherId add(const WatchRequest& request, WatchSink sink, int64_t next_revision);
  bool remove(WatcherId id);
  // Delivers the events of one revision (all with that mod_revision) to matching watchers.
  void notify(int64_t revision, const std::vector<Event>& events);
  // Delivers to one watcher only (history replay); honours its next_revision and filters.
  void deliver_to(WatcherId id, int64_t revision, const std::vector<Event>& events);
  void send_compacted(WatcherId id, int64_t compact_revision);
  void progress(WatcherId id, int64_t current_revision);
  std::size_t size() const;

 private:
  void deliver_locked(WatcherId id, Watcher& w, int64_t revision, const std::vector<Event>& events);

  mutable std::mutex mu_;
  WatcherId next_id_ = 1;            // guarded by mu_
  std::map<WatcherId, Watcher> watchers_;  // guarded by mu_
};

}  // namespace mgmt::store::mvcc
