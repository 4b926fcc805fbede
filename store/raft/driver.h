// driver.h: the Ready loop around the core, written against interfaces so that the same code
// runs in production (RocksDB log, gRPC transport, Asio ticker) and in the deterministic
// simulator (in-memory disk with faults, simulated network). Per Ready, in this order:
//   1. persist snapshot, entries and hard state in ONE synced write (DurableLog::save); the
//      hard state only when its term or vote moved: the commit index is volatile, and a
//      restart starts from the applied index at least (Config::applied);
//   2. install the snapshot into the state machine;
//   3. send the messages (only now: they may reveal a vote or an ack of what was just saved;
//      a leader whose term and vote are already saved sends before step 1 instead, so that
//      its followers persist while it does);
//   4. apply the committed entries (each apply records its index atomically with its effect);
//   5. advance the core; then compact the log once enough was applied.
// A failed save or apply stops the driver for good (failed()): nothing more is sent or
// acknowledged; the process restarts from what is durable. That is the "a failed fsync stops
// acknowledgements rather than lying" rule.
// Threading: none. The owner calls every method from one thread or strand.
#pragma once

#include "common/result.h"
#include "store/raft/node.h"

#include <functional>
#include <span>
#include <memory>
#include <optional>

namespace mgmt::store::raft {

// The durable log the driver writes; the core reads it through LogStore.
class DurableLog : public LogStore {
 public:
  // One atomic synced write: install `snapshot` (dropping older entries), then store `entries`
  // (replacing any stored suffix from entries.front().index on), then the hard state.
  virtual Result<void> save(const std::optional<Snapshot>& snapshot,
                            const std::vector<Entry>& entries,
                            const std::optional<HardState>& hard_state) = 0;
  // Records a snapshot at `index` (with that membership and state-machine data) and drops the
  // entries up to it.
  virtual Result<void> compact(uint64_t index, const ConfState& conf_state, std::string data) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Best effort, never blocks; lost messages are Raft's problem, not the caller's. Taken by
  // value: the driver hands its messages over (a snapshot carries the whole state).
  virtual void send(Message m) = 0;
  // The messages sent so far should leave now (the driver calls it after each Ready's sends,
  // before it waits for the disk); a transport may hold them until then.
  virtual void dispatch() {}
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // The index of the last applied entry, durable (survives restarts).
  virtual uint64_t applied_index() const = 0;
  // Applies one committed entry (normal or membership) and records its index, atomically.
  virtual Result<void> apply(const Entry& entry) = 0;
  // Applies consecutive committed entries in order. A state machine may record them together
  // (their effects and the last index in one atomic write); the default applies one by one.
  virtual Result<void> apply_all(std::span<const Entry> entries) {
    for (const Entry& e : entries) {
      if (auto r = apply(e); !r) return r;
    }
    return ok();
  }
  // Replaces the state by a snapshot's data; applied_index() becomes its index.
  virtual Result<void> restore(const Snapshot& snapshot) = 0;
  // The state at applied_index(), for compaction.
  virtual Result<std::string> snapshot_data() const = 0;
};

struct DriverOptions {
  // Take a snapshot and compact once this many applied entries are in the log (0: never).
  uint64_t compact_after = 10000;
  // Applied entries a compaction leaves in the log, so that a follower a little behind catches
  // up from it rather than from a snapshot (etcd keeps 5000). Only for a state machine whose
  // snapshots are taken when sent (snapshot_data() empty): one that hands its state over at
  // compaction is compacted at the applied index, which its snapshot describes.
  uint64_t keep_after_compaction = 0;
  std::function<void(const ReadState&)> on_read;
  std::function<void(const SoftState&)> on_soft_state;
};

class Driver {
 public:
  static Result<std::unique_ptr<Driver>> open(const Config& config, DurableLog& log,
                                              Transport& transport, StateMachine& state,
                                              DriverOptions options);

  void tick() { node_->tick(); }
  Result<void> step(const Message& m) { return node_->step(m); }
  Result<uint64_t> propose(std::string data) { return node_->propose(std::move(data)); }
  Result<uint64_t> propose_conf_change(const ConfChange& cc) {
    return node_->propose_conf_change(cc);
  }
  void read_index(std::string context) { node_->read_index(std::move(context)); }
  void transfer_leadership(NodeId to) { node_->transfer_leadership(to); }

  // Runs Ready batches until none is left. Errors (and stays failed) on a storage failure.
  Result<void> process_ready();

  const Node& node() const { return *node_; }
  Node& node() { return *node_; }
  const std::optional<Error>& failure() const { return failure_; }

 private:
  Driver(std::unique_ptr<Node> node, DurableLog& log, Transport& transport, StateMachine& state,
         DriverOptions options);
  Result<void> stop(Error e);
  Result<void> maybe_compact();

  std::unique_ptr<Node> node_;
  DurableLog& log_;
  Transport& transport_;
  StateMachine& state_;
  DriverOptions options_;
  HardState saved_;  // the hard state last persisted (its commit index may be older)
  // The highest conf change index among the entries committed so far (this run): the log is
  // never compacted below it with today's membership, which it changed.
  uint64_t last_conf_change_ = 0;
  std::optional<Error> failure_;
};

}  // namespace mgmt::store::raft
