// watch_hub.h: the registry of watchers of one KvStore and the delivery of events to them.
// Invariants: a watcher's next_revision only grows; an event is delivered to a watcher only if
// its revision is >= next_revision, and a delivery covering revisions up to R sets next_revision
// to R + 1, so every event is delivered at most once and in revision order; the KvStore delivers
// every revision (history, then live), so also at least once.
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
    bool unsynced = false;  // its replay stopped short: it gets nothing more
  };

  // Registers a watcher whose first wanted revision is next_revision; returns its id.
  WatcherId add(const WatchRequest& request, WatchSink sink, int64_t next_revision);
  bool remove(WatcherId id);
  // Delivers the events of one revision (all with that mod_revision) to matching watchers.
  void notify(int64_t revision, const std::vector<Event>& events);
  // Delivers to one watcher only (history replay): events of revisions up to last_revision, in
  // order, in one response whose header revision is header_revision. Honours next_revision and
  // the filters.
  void deliver_to(WatcherId id, int64_t last_revision, int64_t header_revision,
                  const std::vector<Event>& events);
  // Tells the watcher its start is compacted, then removes it. The response's header carries no
  // revision, as etcd 3.4's.
  void send_compacted(WatcherId id, int64_t compact_revision);
  // Tells the watcher its replay stopped before revision `from` (behind_from); it gets nothing
  // more, live events and progress included.
  void stop_behind(WatcherId id, int64_t from, int64_t header_revision);
  void progress(WatcherId id, int64_t current_revision);
  std::size_t size() const;

 private:
  void deliver_locked(WatcherId id, Watcher& w, int64_t last_revision, int64_t header_revision,
                      const std::vector<Event>& events);

  mutable std::mutex mu_;
  WatcherId next_id_ = 1;            // guarded by mu_
  std::map<WatcherId, Watcher> watchers_;  // guarded by mu_
};

}  // namespace mgmt::store::mvcc
