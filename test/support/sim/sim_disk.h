// sim_disk.h: a simulated member's disk: the durable Raft log (DurableLog over MemoryLogStore)
// and the durable state machine. Writes are atomic and synced, like a RocksDB WriteBatch with
// sync: a crash during a save loses that whole batch (a torn last record is dropped on recovery)
// and nothing else. Faults: the next save fails with an I/O error, or the node crashes in it.
// The state machine is a hash chain over applied entries, so two members that applied the same
// entries have the same state; snapshots carry (index, hash).
#pragma once

#include "store/raft/driver.h"
#include "store/raft/memory_log_store.h"

#include <functional>

namespace mgmt::test::sim {

using namespace mgmt::store::raft;

class SimDisk : public DurableLog {
 public:
  enum class Fault { none, io_error, crash };

  InitialState initial_state() const override { return log_.initial_state(); }
  uint64_t first_index() const override { return log_.first_index(); }
  uint64_t last_index() const override { return log_.last_index(); }
  Result<uint64_t> term(uint64_t i) const override { return log_.term(i); }
  Result<std::vector<Entry>> entries(uint64_t lo, uint64_t hi, uint64_t max) const override {
    return log_.entries(lo, hi, max);
  }
  Result<Snapshot> snapshot() const override { return log_.snapshot(); }

  Result<void> save(const std::optional<Snapshot>& snapshot, const std::vector<Entry>& entries,
                    const std::optional<HardState>& hard_state) override;
  Result<void> compact(uint64_t index, const ConfState& cs, std::string data) override;

  void arm(Fault f) { fault_ = f; }
  bool crashed_in_save() const { return crashed_; }
  void clear_crash() { crashed_ = false; }
  const HardState& hard_state() const { return log_.hard_state(); }
  const MemoryLogStore& log() const { return log_; }
  uint64_t saves = 0;
  std::function<void(const std::vector<Entry>&)> on_saved;  // after a successful save

 private:
  MemoryLogStore log_;
  Fault fault_ = Fault::none;
  bool crashed_ = false;
};

class SimStateMachine : public StateMachine {
 public:
  // Called for every applied entry before it takes effect (the cluster's checkers).
  std::function<Result<void>(const Entry&)> on_apply;

  uint64_t applied_index() const override { return applied_; }
  Result<void> apply(const Entry& e) override;
  Result<void> restore(const Snapshot& s) override;
  Result<std::string> snapshot_data() const override;
  uint64_t hash() const { return hash_; }

 private:
  uint64_t applied_ = 0;
  uint64_t hash_ = 0;
};

uint64_t hash_entry(uint64_t chain, const Entry& e);

}  // namespace mgmt::test::sim
