// memory_log_store.h: a LogStore kept in memory, with the writes a driver makes after a Ready
// (append with suffix replacement, hard state, snapshot install, compaction). Used by unit tests
// and by the simulator as the durable part of a simulated disk.
// Invariants: as LogStore; entries_[0] is a dummy holding the snapshot's index and term.
#pragma once

#include "store/raft/log_store.h"

namespace mgmt::store::raft {

class MemoryLogStore : public LogStore {
 public:
  MemoryLogStore();

  InitialState initial_state() const override;
  uint64_t first_index() const override;
  uint64_t last_index() const override;
  Result<uint64_t> term(uint64_t index) const override;
  Result<std::vector<Entry>> entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const override;
  Result<Snapshot> snapshot() const override;

  void set_hard_state(const HardState& hs) { hard_state_ = hs; }
  // Bootstrap: the membership a fresh log starts with.
  void set_conf_state(const ConfState& cs) { snapshot_.meta.conf_state = cs; }
  const HardState& hard_state() const { return hard_state_; }
  // Appends consecutive entries; a stored suffix from entries.front().index on is replaced.
  // Entries at or below the snapshot index are skipped.
  void append(const std::vector<Entry>& entries);
  // Replaces everything by the snapshot (an older one than ours is ignored: returns false).
  bool apply_snapshot(const Snapshot& snapshot);
  // Records a snapshot at `index` (<= last_index) with the given membership and data, then drops
  // entries up to it.
  void create_snapshot_and_compact(uint64_t index, const ConfState& cs, std::string data);

 private:
  HardState hard_state_;
  Snapshot snapshot_;
  std::vector<Entry> entries_;  // entries_[0] = dummy (snapshot index/term)
};

}  // namespace mgmt::store::raft
