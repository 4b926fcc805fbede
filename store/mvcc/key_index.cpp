// key_index.cpp: see key_index.h.
#include "store/mvcc/key_index.h"

#include "common/assert.h"

namespace mgmt::store::mvcc {
namespace {

bool is_from_key(const std::string& end) { return end.size() == 1 && end[0] == '\0'; }

// The entry visible at main revision `at`: the last one with rev.main <= at.
const HistoryEntry* visible(const KeyIndex::History& h, int64_t at) {
  const HistoryEntry* found = nullptr;
  for (auto it = h.rbegin(); it != h.rend(); ++it) {
    if (it->rev.main <= at) {
      found = &*it;
      break;
    }
  }
  return found;
}

}  // namespace

bool in_range(const std::string& key, const std::string& begin, const std::string& end) {
  if (end.empty()) return key == begin;
  if (is_from_key(end)) return key >= begin;
  return key >= begin && key < end;
}

void KeyIndex::append(const std::string& key, Revision rev, std::shared_ptr<const KeyValue> kv) {
  auto& h = index_[key];
  MGMT_ASSERT(h.empty() || h.back().rev < rev);
  if (h.empty() && !kv) {
    index_.erase(key);
    return;
  }
  h.push_back(HistoryEntry{rev, std::move(kv)});
  bytes_.fetch_add(entry_bytes(key, h.back()), std::memory_order_relaxed);
}

std::shared_ptr<const KeyValue> KeyIndex::get(const std::string& key, int64_t at) const {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  const HistoryEntry* e = visible(it->second, at);
  return e ? e->kv : nullptr;
}

void KeyIndex::visit_histories(
    const std::string& key, const std::string& range_end,
    const std::function<void(const std::string&, const History&)>& visit) const {
  if (range_end.empty()) {
    auto it = index_.find(key);
    if (it != index_.end()) visit(it->first, it->second);
    return;
  }
  bool to_end = is_from_key(range_end);
  if (!to_end && range_end <= key) return;
  for (auto it = index_.lower_bound(key); it != index_.end(); ++it) {
    if (!to_end && it->first >= range_end) break;
    visit(it->first, it->second);
  }
}

void KeyIndex::visit_live(
    const std::string& key, const std::string& range_end, int64_t at,
    const std::function<bool(const std::shared_ptr<const KeyValue>&)>& visit) const {
  if (range_end.empty()) {
    auto kv = get(key, at);
    if (kv) visit(kv);
    return;
  }
  bool to_end = is_from_key(range_end);
  if (!to_end && range_end <= key) return;
  for (auto it = index_.lower_bound(key); it != index_.end(); ++it) {
    if (!to_end && it->first >= range_end) break;
    const HistoryEntry* e = visible(it->second, at);
    if (e && e->kv && !visit(e->kv)) return;
  }
}

namespace {

// Drops the entries of one history that a compaction at `at` drops.
void compact_history(KeyIndex::History& h, int64_t at,
                     const std::function<void(HistoryEntry&&)>& removed) {
  std::size_t drop = 0;
  while (drop < h.size() && KeyIndex::dropped_by(h, drop, at)) ++drop;
  // dropped_by holds for a prefix only: what follows the newest entry at or before `at`.
  for (std::size_t i = 0; i < drop; ++i) removed(std::move(h[i]));
  h.erase(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(drop));
  // What remains starts with a put: a deletion only ever follows a put.
}

}  // namespace

void KeyIndex::compact(int64_t at, const std::function<void(HistoryEntry&&)>& removed) {
  std::optional<std::string> from = std::string();
  while (from) from = compact_some(at, *from, index_.size() + 1, removed);
}

std::optional<std::string> KeyIndex::compact_some(
    int64_t at, const std::string& from, std::size_t max_keys,
    const std::function<void(HistoryEntry&&)>& removed) {
  auto it = index_.lower_bound(from);
  for (std::size_t n = 0; it != index_.end(); ++n) {
    if (n == max_keys) return it->first;
    compact_history(it->second, at, [&](HistoryEntry&& entry) {
      bytes_.fetch_sub(entry_bytes(it->first, entry), std::memory_order_relaxed);
      removed(std::move(entry));
    });
    if (it->second.empty()) {
      it = index_.erase(it);
    } else {
      ++it;
    }
  }
  return std::nullopt;
}

}  // namespace mgmt::store::mvcc
