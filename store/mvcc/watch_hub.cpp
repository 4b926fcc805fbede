// watch_hub.cpp: see watch_hub.h.
#include "store/mvcc/watch_hub.h"

#include "store/mvcc/key_index.h"

namespace mgmt::store::mvcc {

WatcherId WatchHub::add(const WatchRequest& request, WatchSink sink, int64_t next_revision) {
  std::lock_guard lock(mu_);
  WatcherId id = next_id_++;
  watchers_.emplace(id, Watcher{request, std::move(sink), next_revision});
  return id;
}

bool WatchHub::remove(WatcherId id) {
  std::lock_guard lock(mu_);
  return watchers_.erase(id) > 0;
}

std::size_t WatchHub::size() const {
  std::lock_guard lock(mu_);
  return watchers_.size();
}

void WatchHub::deliver_locked(WatcherId id, Watcher& w, int64_t last_revision,
                              int64_t header_revision, const std::vector<Event>& events) {
  if (w.unsynced || last_revision < w.next_revision) return;
  int64_t first_wanted = w.next_revision;
  w.next_revision = last_revision + 1;
  WatchEvents out;
  out.watcher = id;
  out.revision = header_revision;
  for (const auto& e : events) {
    if (e.kv.mod_revision < first_wanted) continue;
    if (e.type == Event::Type::put && w.request.no_put) continue;
    if (e.type == Event::Type::del && w.request.no_delete) continue;
    if (!in_range(e.kv.key, w.request.key, w.request.range_end)) continue;
    out.events.push_back(e);
    if (!w.request.prev_kv) out.events.back().prev_kv.reset();
  }
  if (!out.events.empty()) w.sink(out);
}

void WatchHub::notify(int64_t revision, const std::vector<Event>& events) {
  std::lock_guard lock(mu_);
  for (auto& [id, w] : watchers_) deliver_locked(id, w, revision, revision, events);
}

void WatchHub::deliver_to(WatcherId id, int64_t last_revision, int64_t header_revision,
                          const std::vector<Event>& events) {
  std::lock_guard lock(mu_);
  auto it = watchers_.find(id);
  if (it != watchers_.end()) deliver_locked(id, it->second, last_revision, header_revision, events);
}

void WatchHub::send_compacted(WatcherId id, int64_t compact_revision) {
  std::lock_guard lock(mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  WatchEvents out;
  out.watcher = id;
  out.compact_revision = compact_revision;
  it->second.sink(out);
  watchers_.erase(it);
}

void WatchHub::stop_behind(WatcherId id, int64_t from, int64_t header_revision) {
  std::lock_guard lock(mu_);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  it->second.unsynced = true;
  WatchEvents out;
  out.watcher = id;
  out.revision = header_revision;
  out.behind_from = from;
  it->second.sink(out);
}

void WatchHub::progress(WatcherId id, int64_t current_revision) {
  std::lock_guard lock(mu_);
  for (auto& [wid, w] : watchers_) {
    if ((id != 0 && wid != id) || w.unsynced) continue;
    WatchEvents out;
    out.watcher = wid;
    out.revision = current_revision;
    w.sink(out);
  }
}

}  // namespace mgmt::store::mvcc
