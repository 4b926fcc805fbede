// raft_log.h: the core's view of the log: the durable part (a LogStore, read-only) followed by
// the unstable part (entries and possibly a snapshot the driver has not persisted yet), plus the
// commit and applied indexes.
// Invariants: applied <= committed <= last_index(); unstable entries start at offset_ and are
// consecutive; a pending snapshot precedes them (offset_ == snapshot index + 1). Committed
// entries are never truncated (asserted: doing so is a bug that would break safety).
#pragma once

#include "store/raft/log_store.h"

#include <optional>

namespace mgmt::store::raft {

class RaftLog {
 public:
  RaftLog(const LogStore& storage, uint64_t max_next_entries_bytes);

  uint64_t first_index() const;
  uint64_t last_index() const;
  uint64_t last_term() const;
  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }

  // Term of entry i; 0 when i is compacted or not in the log (a term that never matches).
  uint64_t term_or_zero(uint64_t index) const;
  Result<uint64_t> term(uint64_t index) const;
  bool match_term(uint64_t index, uint64_t term) const;
  // Entries from lo to the end, at most max_bytes (at least one).
  Result<std::vector<Entry>> entries(uint64_t lo, uint64_t max_bytes) const;
  Result<std::vector<Entry>> slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;

  // Raft's "at least as up-to-date" comparison (§5.4.1).
  bool is_up_to_date(uint64_t last_index, uint64_t last_term) const;

  // Follower side of AppendEntries: if (index, log_term) matches, appends what conflicts or is new
  // and raises commit to min(committed, last new index). Returns the last new index, or nothing
  // when the previous entry does not match.
  std::optional<uint64_t> maybe_append(uint64_t index, uint64_t log_term, uint64_t committed,
                                       const std::vector<Entry>& ents);
  // Appends at the end (after truncating a conflicting unstable suffix). Returns last index.
  uint64_t append(const std::vector<Entry>& ents);
  // Largest index <= index whose term is <= term (the fast-rejection hint, etcd style).
  uint64_t find_conflict_by_term(uint64_t index, uint64_t term) const;

  // Leader commit: only an entry of the current term is committed by counting replicas (Figure 8).
  bool maybe_commit(uint64_t max_index, uint64_t term);
  void commit_to(uint64_t index);
  void applied_to(uint64_t index);

  // Unstable part handed to the driver, and acknowledgements of it being durable.
  const std::vector<Entry>& unstable_entries() const { return unstable_; }
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_snapshot_; }
  void stable_to(uint64_t index, uint64_t term);
  void stable_snapshot_to(uint64_t index);
  // Index of the last entry that is durable (what a leader may count as its own ack).
  uint64_t last_stable_index() const;

  // Committed entries not yet applied (at most the configured byte budget).
  bool has_next_entries() const;
  std::vector<Entry> next_entries() const;

  Result<Snapshot> snapshot() const;
  // Installs a snapshot as the new base of the log (follower catch-up).
  void restore(const Snapshot& snapshot);

 private:
  uint64_t find_conflict(const std::vector<Entry>& ents) const;

  const LogStore& storage_;
  std::optional<Snapshot> unstable_snapshot_;
  std::vector<Entry> unstable_;
  uint64_t offset_;  // index of unstable_[0]
  uint64_t committed_ = 0;
  uint64_t applied_ = 0;
  uint64_t max_next_entries_bytes_;
};

}  // namespace mgmt::store::raft
