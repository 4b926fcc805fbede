// raft_log.cpp: see raft_log.h.
#include "store/raft/raft_log.h"

#include "common/assert.h"

#include <algorithm>
#include <string>

namespace mgmt::store::raft {

RaftLog::RaftLog(const LogStore& storage, uint64_t max_next_entries_bytes)
    : storage_(storage), offset_(storage.last_index() + 1),
      max_next_entries_bytes_(max_next_entries_bytes) {
  committed_ = storage.first_index() - 1;
  applied_ = storage.first_index() - 1;
}

uint64_t RaftLog::first_index() const {
  if (unstable_snapshot_) return unstable_snapshot_->meta.index + 1;
  return storage_.first_index();
}

uint64_t RaftLog::last_index() const {
  if (!unstable_.empty()) return offset_ + unstable_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->meta.index;
  return storage_.last_index();
}

uint64_t RaftLog::last_term() const { return term_or_zero(last_index()); }

Result<uint64_t> RaftLog::term(uint64_t index) const {
  const uint64_t dummy = first_index() - 1;
  if (index < dummy) return fail(Code::out_of_range, "raft log: entry compacted");
  if (index > last_index()) return fail(Code::unavailable, "raft log: entry not yet written");
  if (!unstable_.empty() && index >= offset_) return unstable_[index - offset_].term;
  if (unstable_snapshot_ && index == unstable_snapshot_->meta.index) {
    return unstable_snapshot_->meta.term;
  }
  return storage_.term(index);
}

uint64_t RaftLog::term_or_zero(uint64_t index) const {
  auto t = term(index);
  return t ? *t : 0;
}

bool RaftLog::match_term(uint64_t index, uint64_t t) const {
  auto got = term(index);
  return got && *got == t;
}

Result<std::vector<Entry>> RaftLog::entries(uint64_t lo, uint64_t max_bytes) const {
  if (lo > last_index()) return std::vector<Entry>{};
  return slice(lo, last_index() + 1, max_bytes);
}

Result<std::vector<Entry>> RaftLog::slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  MGMT_ASSERT(lo <= hi);
  if (lo < first_index()) return fail(Code::out_of_range, "raft log: entry compacted");
  MGMT_ASSERT_MSG(hi <= last_index() + 1, "raft log: slice past the end");
  std::vector<Entry> out;
  if (lo == hi) return out;
  if (lo < offset_) {
    auto stored = storage_.entries(lo, std::min(hi, offset_), max_bytes);
    if (!stored) return fail(stored.error());
    out = std::move(*stored);
    if (out.size() < std::min(hi, offset_) - lo) return out;  // byte limit reached
  }
  uint64_t bytes = 0;
  for (const Entry& e : out) bytes += entry_size(e);
  for (uint64_t i = std::max(lo, offset_); i < hi; ++i) {
    const Entry& e = unstable_[i - offset_];
    bytes += entry_size(e);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

bool RaftLog::is_up_to_date(uint64_t lasti, uint64_t t) const {
  const uint64_t our_term = last_term();
  return t > our_term || (t == our_term && lasti >= last_index());
}

uint64_t RaftLog::find_conflict(const std::vector<Entry>& ents) const {
  for (const Entry& e : ents) {
    if (!match_term(e.index, e.term)) return e.index;
  }
  return 0;
}

std::optional<uint64_t> RaftLog::maybe_append(uint64_t index, uint64_t log_term,
                                              uint64_t committed,
                                              const std::vector<Entry>& ents) {
  if (!match_term(index, log_term)) return std::nullopt;
  const uint64_t last_new = index + ents.size();
  const uint64_t conflict = find_conflict(ents);
  if (conflict != 0) {
    MGMT_ASSERT_MSG(conflict > committed_, "raft log: a committed entry would be overwritten");
    append(std::vector<Entry>(ents.begin() + static_cast<std::ptrdiff_t>(conflict - index - 1),
                              ents.end()));
  }
  commit_to(std::min(committed, last_new));
  return last_new;
}

uint64_t RaftLog::append(const std::vector<Entry>& ents) {
  if (ents.empty()) return last_index();
  const uint64_t after = ents.front().index;
  MGMT_ASSERT_MSG(after > committed_, "raft log: a committed entry would be overwritten");
  MGMT_ASSERT_MSG(after <= last_index() + 1, "raft log: append leaves a gap");
  if (after == offset_ + unstable_.size()) {
    unstable_.insert(unstable_.end(), ents.begin(), ents.end());
  } else if (after <= offset_) {
    // Replaces (part of) the durable suffix: the driver's save truncates from `after`.
    offset_ = after;
    unstable_ = ents;
  } else {
    unstable_.resize(after - offset_);
    unstable_.insert(unstable_.end(), ents.begin(), ents.end());
  }
  return last_index();
}

uint64_t RaftLog::find_conflict_by_term(uint64_t index, uint64_t t) const {
  for (;;) {
    auto got = term(index);
    if (!got || *got <= t) return index;
    if (index == 0) return 0;
    --index;
  }
}

bool RaftLog::maybe_commit(uint64_t max_index, uint64_t t) {
#ifdef MGMT_RAFT_BROKEN_COMMIT_RULE
  // Deliberately broken core for the simulator's self-test: commits by counting replicas of
  // an entry from an earlier term (the bug Figure 8 of the Raft paper shows).
  (void)t;
  if (max_index > committed_) {
#else
  if (max_index > committed_ && term_or_zero(max_index) == t) {
#endif
    commit_to(max_index);
    return true;
  }
  return false;
}

void RaftLog::commit_to(uint64_t index) {
  if (index <= committed_) return;
  MGMT_ASSERT_MSG(index <= last_index(), "raft log: commit index past the last entry");
  committed_ = index;
}

void RaftLog::applied_to(uint64_t index) {
  if (index == 0) return;
  MGMT_ASSERT_MSG(index <= committed_ && index >= applied_, "raft log: applied out of range");
  applied_ = index;
}

void RaftLog::stable_to(uint64_t index, uint64_t t) {
  if (unstable_.empty() || index < offset_) return;
  if (index - offset_ >= unstable_.size()) return;
  if (unstable_[index - offset_].term != t) return;  // replaced since: not what was persisted
  unstable_.erase(unstable_.begin(), unstable_.begin() + static_cast<std::ptrdiff_t>(
                                                            index + 1 - offset_));
  offset_ = index + 1;
}

void RaftLog::stable_snapshot_to(uint64_t index) {
  if (unstable_snapshot_ && unstable_snapshot_->meta.index == index) unstable_snapshot_.reset();
}

uint64_t RaftLog::last_stable_index() const {
  if (unstable_snapshot_) return 0;  // the durable log is about to be replaced
  return std::min(storage_.last_index(), offset_ - 1);
}

bool RaftLog::has_next_entries() const {
  return committed_ > std::max(applied_, first_index() - 1);
}

std::vector<Entry> RaftLog::next_entries() const {
  const uint64_t lo = std::max(applied_ + 1, first_index());
  if (committed_ + 1 <= lo) return {};
  auto ents = slice(lo, committed_ + 1, max_next_entries_bytes_);
  MGMT_ASSERT_MSG(ents.has_value(), "raft log: committed entries unavailable");
  return std::move(*ents);
}

Result<Snapshot> RaftLog::snapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  return storage_.snapshot();
}

void RaftLog::restore(const Snapshot& snap) {
  committed_ = snap.meta.index;
  unstable_snapshot_ = snap;
  unstable_.clear();
  offset_ = snap.meta.index + 1;
}

}  // namespace mgmt::store::raft
