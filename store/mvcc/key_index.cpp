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

void KeyIndex::compact(int64_t at, const std::function<void(HistoryEntry&&)>& removed) {
  for (auto it = index_.begin(); it != index_.end();) {
    History& h = it->second;
    // Index of the newest entry with main <= at.
    std::size_t keep_from = 0;
    bool any = false;
    for (std::size_t i = 0; i < h.size(); ++i) {
      if (h[i].rev.main <= at) {
        keep_from = i;
        any = true;
      }
    }
    if (any) {
      // A deletion at or before `at` is not needed either: absence is the default.
      std::size_t drop = h[keep_from].kv ? keep_from : keep_from + 1;
      for (std::size_t i = 0; i < drop; ++i) removed(std::move(h[i]));
      h.erase(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(drop));
      // What remains starts with a put: a deletion only ever follows a put.
    }
    if (h.empty()) {
      it = index_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace mgmt::store::mvcc
