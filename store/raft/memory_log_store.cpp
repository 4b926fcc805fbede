// memory_log_store.cpp: see memory_log_store.h.
#include "store/raft/memory_log_store.h"

#include "common/assert.h"

#include <algorithm>

namespace mgmt::store::raft {

MemoryLogStore::MemoryLogStore() : entries_(1) {}

InitialState MemoryLogStore::initial_state() const {
  return InitialState{hard_state_, snapshot_.meta.conf_state};
}

uint64_t MemoryLogStore::first_index() const { return entries_.front().index + 1; }
uint64_t MemoryLogStore::last_index() const { return entries_.front().index + entries_.size() - 1; }

Result<uint64_t> MemoryLogStore::term(uint64_t index) const {
  const uint64_t offset = entries_.front().index;
  if (index < offset) return fail(Code::out_of_range, "raft log: entry compacted");
  if (index > last_index()) return fail(Code::unavailable, "raft log: entry not yet written");
  return entries_[index - offset].term;
}

Result<std::vector<Entry>> MemoryLogStore::entries(uint64_t lo, uint64_t hi,
                                                   uint64_t max_bytes) const {
  const uint64_t offset = entries_.front().index;
  if (lo <= offset) return fail(Code::out_of_range, "raft log: entry compacted");
  if (hi > last_index() + 1) return fail(Code::unavailable, "raft log: entry not yet written");
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset];
    bytes += entry_size(e);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

Result<Snapshot> MemoryLogStore::snapshot() const { return snapshot_; }

void MemoryLogStore::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return;
  const uint64_t first = first_index();
  if (ents.back().index < first) return;
  auto begin = ents.begin();
  if (begin->index < first) begin += static_cast<std::ptrdiff_t>(first - begin->index);
  const uint64_t offset = entries_.front().index;
  MGMT_ASSERT_MSG(begin->index <= last_index() + 1, "raft log: append leaves a gap");
  entries_.resize(begin->index - offset);
  entries_.insert(entries_.end(), begin, ents.end());
}

bool MemoryLogStore::apply_snapshot(const Snapshot& snap) {
  if (snap.meta.index <= snapshot_.meta.index) return false;
  snapshot_ = snap;
  entries_.assign(1, Entry{snap.meta.term, snap.meta.index, EntryType::normal, {}});
  hard_state_.commit = std::max(hard_state_.commit, snap.meta.index);
  return true;
}

void MemoryLogStore::create_snapshot_and_compact(uint64_t index, const ConfState& cs,
                                                 std::string data) {
  const uint64_t offset = entries_.front().index;
  MGMT_ASSERT(index > offset && index <= last_index());
  snapshot_.meta = SnapshotMeta{index, entries_[index - offset].term, cs};
  snapshot_.data = std::move(data);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(index - offset));
  entries_.front().data.clear();
  entries_.front().type = EntryType::normal;
}

}  // namespace mgmt::store::raft
