// cluster_checker.h: Raft's safety properties, checked across all simulated members after
// every step. Each check is named after the property it guards (see ../shared/TESTING.md):
//   election safety, log matching, leader completeness, state machine safety, monotonicity
//   (term/commit/applied, also across restarts; one vote per term), persist before send,
//   no acknowledged write lost, linearizable reads, and every node's local invariants.
// The first violation is kept (later ones are usually consequences).
#pragma once

#include "store/raft/node.h"
#include "test/support/sim/sim_disk.h"

#include <map>
#include <optional>
#include <string>

namespace mgmt::test::sim {

class ClusterChecker {
 public:
  // A message is leaving `from`: everything it reveals must be durable on `disk`.
  void on_send(const Message& m, const SimDisk& disk);
  // `node` persisted `entries` to `disk`.
  void on_save(NodeId node, const std::vector<Entry>& entries, const SimDisk& disk);
  // After every processed Ready (and at start-up) of a running node.
  void on_state(const Node& node, const SimDisk& disk, const SimStateMachine& sm);
  // An entry is applied on `node` (before it takes effect).
  void on_apply(NodeId node, const Entry& e);
  // A client write was acknowledged at `index`; a read was answered at `index` having been
  // issued when `acked_before` was the newest acknowledged index.
  void on_ack(uint64_t index, const std::string& value);
  void on_read(NodeId node, uint64_t index, uint64_t acked_before);
  // A node restarts: its in-memory history is forgotten, its durable history is kept.
  void on_restart(NodeId node);
  // End of run: every acknowledged write is in the canonical log at its index.
  void final_check(uint64_t leader_applied);

  uint64_t max_acked_index() const { return max_acked_; }
  uint64_t max_committed() const { return max_committed_; }
  const std::optional<std::string>& violation() const { return violation_; }
  void violate(std::string what);

 private:
  struct Durable {
    HardState hs;
    uint64_t applied = 0;
  };
  struct Live {
    uint64_t term = 0, commit = 0, applied = 0;
    bool leader = false;
  };
  std::map<uint64_t, NodeId> leader_of_term_;
  // (index, term) -> (entry hash, term of the entry before it)
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>> entries_;
  // index -> (entry term, term of the node that first reported it committed)
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> committed_term_;
  std::map<uint64_t, uint64_t> applied_hash_;     // index -> entry hash, as first applied
  std::map<uint64_t, std::string> acked_;         // index -> value
  std::map<NodeId, Durable> durable_;
  std::map<NodeId, Live> live_;
  uint64_t max_acked_ = 0;
  uint64_t max_committed_ = 0;
  std::optional<std::string> violation_;
};

}  // namespace mgmt::test::sim
