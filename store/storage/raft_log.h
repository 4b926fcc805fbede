// raft_log.h: the Raft log and hard state of one member, in the `raft` column family.
// It stores what the Raft core hands the driver in a Ready (entries, hard state, snapshot
// metadata) as opaque bytes with their index and term, and answers the read-only questions of
// etcd's raft.Storage (first/last index, term, entries, hard state, snapshot metadata). An adapter
// in the Raft driver turns this into store/raft's LogStore (its types are the core's own).
//
// Layout (column `raft`):
//   "e" + 8-byte BE index -> 8-byte BE term, then the entry bytes as the core encoded them
//   "hs"                  -> 8-byte BE term, vote, commit
//   "snap"                -> 8-byte BE index, term, then the snapshot's ConfState bytes
// Entries present are exactly [first_index(), last_index()]; snapshot index = first_index() - 1
// (0 in a fresh log). Terms never decrease along the log (checked on append: a bug otherwise).
//
// Durability: save() writes entries and hard state in ONE batch, synced unless only the commit
// index moved (a hint the leader repeats; RocksDB's log keeps writes in order, so a lost
// commit-only batch loses nothing later either; the driver passes a hard state only when its
// term or vote moved, so the stored commit index may be older than the applied one); the
// in-memory view
// (first/last index, term cache) moves only after the write succeeded, so a failed write leaves
// the log as it was and nothing is acknowledged. A crash during save() leaves either the whole
// batch or none of it.
//
// Thread-safety: reads may run concurrently with each other; writes (save, apply_snapshot,
// compact) come from the one Raft strand and exclude reads (internal shared mutex).
#pragma once

#include "common/result.h"
#include "store/storage/storage.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace mgmt::store::storage {

struct StoredEntry {
  uint64_t index = 0;
  uint64_t term = 0;
  std::string data;  // the whole entry as the Raft core serialises it
  bool operator==(const StoredEntry&) const = default;
};

struct StoredHardState {
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t commit = 0;
  bool operator==(const StoredHardState&) const = default;
};

struct StoredSnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  std::string conf_state;  // opaque, as the core serialises its ConfState
  bool operator==(const StoredSnapshotMeta&) const = default;
};

class RaftLog {
 public:
  // Loads the hard state, snapshot metadata and the terms of all stored entries.
  [[nodiscard]] static Result<std::unique_ptr<RaftLog>> open(Storage& storage);

  // etcd's Storage.FirstIndex/LastIndex: first = snapshot index + 1; last = newest entry (or the
  // snapshot index when the log is empty).
  uint64_t first_index() const;
  uint64_t last_index() const;
  StoredHardState hard_state() const;
  StoredSnapshotMeta snapshot_meta() const;

  // Term of entry i: Code::out_of_range ("compacted") for i < snapshot index, Code::unavailable
  // for i > last_index(); term of the snapshot index is the snapshot's term.
  [[nodiscard]] Result<uint64_t> term(uint64_t index) const;
  // Entries [lo, hi), at most max_bytes of data but always at least one. Same errors as term().
  [[nodiscard]] Result<std::vector<StoredEntry>> entries(uint64_t lo, uint64_t hi,
                                                         uint64_t max_bytes) const;

  // One batch (synced when it holds entries, a new term or a vote): the new hard state (if
  // any) and the entries (if any). Entries must be
  // consecutive, start at or below last_index() + 1 and above the snapshot index; a stored
  // suffix from entries.front().index on is replaced (the conflicting tail is truncated).
  [[nodiscard]] Result<void> save(const std::optional<StoredHardState>& hard_state,
                                  const std::vector<StoredEntry>& entries);

  // Installs a snapshot's metadata: drops every entry, first_index() = meta.index + 1. The
  // hard state's commit is raised to meta.index if lower. One synced batch. The state machine
  // (kv, leases, meta) is restored separately (Storage::load_state), before this call.
  [[nodiscard]] Result<void> apply_snapshot(const StoredSnapshotMeta& meta);

  // Log compaction after a snapshot at `index` was taken: drops entries <= index; the snapshot
  // metadata becomes (index, term(index), conf_state). Requires first_index() <= index <=
  // last_index(); errors otherwise (out_of_range for already compacted).
  [[nodiscard]] Result<void> compact(uint64_t index, std::string conf_state);

 private:
  explicit RaftLog(Storage& storage);

  Storage& storage_;
  mutable std::shared_mutex mu_;
  StoredHardState hard_state_;      // guarded by mu_
  StoredSnapshotMeta snapshot_;     // guarded by mu_
  std::vector<uint64_t> terms_;     // guarded by mu_; terms_[i] = term of snapshot_.index + 1 + i
};

}  // namespace mgmt::store::storage
