// key_index.h: the in-memory index of the MVCC store: for every key, its history since the last
// compaction as (revision, KeyValue or deletion), oldest first. Rebuilt from the kv column on
// open. (etcd keeps only revisions in its btree index and reads values from bbolt; we keep the
// values too, so reads never touch the disk.)
// Invariants: each key's history is sorted by Revision, strictly increasing; no empty history is
// kept; a history never starts with a deletion. A compaction at C that is still being walked
// (compact_some) leaves entries older than C in the histories not walked yet: entries a read at
// >= C never sees (dropped_by tells which), so only what visits whole histories must skip them.
// Thread-safety: none; guarded by the owning KvStore's lock.
#pragma once

#include "store/mvcc/kv_codec.h"
#include "store/mvcc/types.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mgmt::store::mvcc {

struct HistoryEntry {
  Revision rev;
  std::shared_ptr<const KeyValue> kv;  // null for a deletion
};

class KeyIndex {
 public:
  using History = std::vector<HistoryEntry>;

  // Appends a change; rev must be newer than the key's last entry.
  void append(const std::string& key, Revision rev, std::shared_ptr<const KeyValue> kv);

  // The key's value visible at main revision `at` (null if absent then).
  std::shared_ptr<const KeyValue> get(const std::string& key, int64_t at) const;

  // Calls visit for each key in the range (empty end = single key; "\0" = to the end) that is
  // live at `at`, in key order, until visit returns false.
  void visit_live(const std::string& key, const std::string& range_end, int64_t at,
                  const std::function<bool(const std::shared_ptr<const KeyValue>&)>& visit) const;

  // Calls visit(key, history) for each key in the range (same range rules).
  void visit_histories(const std::string& key, const std::string& range_end,
                       const std::function<void(const std::string&, const History&)>& visit) const;

  // Drops what no read at >= at can see; hands each dropped entry to `removed` (its value too,
  // so that the caller can free it later, outside its lock).
  void compact(int64_t at, const std::function<void(HistoryEntry&&)>& removed);
  // The same for at most max_keys keys from `from` on (key order); returns the key to go on
  // from, or nullopt once the last key is done. Keys added or removed between calls are fine:
  // what changed since the compaction is newer than `at`.
  std::optional<std::string> compact_some(int64_t at, const std::string& from,
                                          std::size_t max_keys,
                                          const std::function<void(HistoryEntry&&)>& removed);
  // True if a compaction at `at` drops h[i]: an older entry than the key's newest one at or
  // before `at`, or that one if it is a deletion.
  static bool dropped_by(const History& h, std::size_t i, int64_t at) {
    if (h[i].rev.main > at) return false;
    return !h[i].kv || (i + 1 < h.size() && h[i + 1].rev.main <= at);
  }

  std::size_t key_count() const { return index_.size(); }
  // The bytes the histories hold: each entry's key and value plus kEntryOverhead (its revision
  // and fields). What the space quota counts (store/server/space_quota.h). The one member safe
  // to read without the owner's lock.
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  static constexpr int64_t kEntryOverhead = 64;

 private:
  static int64_t entry_bytes(const std::string& key, const HistoryEntry& e) {
    return static_cast<int64_t>(key.size() + (e.kv ? e.kv->value.size() : 0)) + kEntryOverhead;
  }

  std::map<std::string, History, std::less<>> index_;
  std::atomic<int64_t> bytes_{0};
};

// True if key is inside [begin, end) per etcd's range rules (end empty = key == begin,
// end "\0" = key >= begin).
bool in_range(const std::string& key, const std::string& begin, const std::string& end);

}  // namespace mgmt::store::mvcc
