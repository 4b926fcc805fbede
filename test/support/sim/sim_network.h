// sim_network.h: the simulated network between members: every message gets a seeded delay (so
// messages reorder), may be lost or duplicated, and is dropped when a partition blocks its link
// at send or at delivery time. Partitions are per directed link, so one-way partitions are
// expressible. Deterministic: the same seed and calls give the same deliveries.
#pragma once

#include "store/raft/random.h"
#include "store/raft/types.h"

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace mgmt::test::sim {

using store::raft::Message;
using store::raft::NodeId;
using store::raft::Random;

struct NetworkFaults {
  uint64_t loss_per_million = 0;
  uint64_t duplicate_per_million = 0;
  uint64_t min_delay = 1;  // ticks
  uint64_t max_delay = 1;
};

class SimNetwork {
 public:
  explicit SimNetwork(Random& rng) : rng_(rng) {}

  void set_faults(const NetworkFaults& f) { faults_ = f; }
  const NetworkFaults& faults() const { return faults_; }

  void send(uint64_t now, const Message& m);
  // Messages due at or before `now`, in delivery order.
  std::vector<Message> due(uint64_t now);
  // Puts a message back for the next tick (its receiver is paused).
  void defer(uint64_t now, const Message& m);

  void block(NodeId from, NodeId to) { blocked_.insert({from, to}); }
  void unblock_all() { blocked_.clear(); }
  bool blocked(NodeId from, NodeId to) const { return blocked_.count({from, to}) != 0; }
  // Cuts every link between the two groups, in both directions.
  void split(const std::set<NodeId>& a, const std::set<NodeId>& b);
  bool partitioned() const { return !blocked_.empty(); }

  uint64_t sent = 0, delivered = 0, lost = 0, duplicated = 0;

 private:
  void enqueue(uint64_t at, const Message& m);

  Random& rng_;
  NetworkFaults faults_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::multimap<std::pair<uint64_t, uint64_t>, Message> queue_;  // (tick, seq) -> message
  uint64_t seq_ = 0;
};

}  // namespace mgmt::test::sim
