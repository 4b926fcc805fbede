// sim_cluster.h: N Raft members in one thread, each running the production Driver over a
// SimDisk and a SimStateMachine, connected by a SimNetwork, with a ClusterChecker watching
// every step. Scenario tests drive it by hand (campaign, propose, partition, crash, tick);
// the random simulator (raft_simulation.h) drives it from a seed.
// One loop iteration (tick()): deliver due messages -> tick every running member -> after each
// input the member's Ready loop runs and the checkers run.
#pragma once

#include "store/raft/driver.h"
#include "test/support/sim/cluster_checker.h"
#include "test/support/sim/sim_disk.h"
#include "test/support/sim/sim_network.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace mgmt::test::sim {

struct ClusterOptions {
  uint64_t election_tick = 10;
  uint64_t heartbeat_tick = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  ReadOnlyOption read_only = ReadOnlyOption::safe;
  uint64_t compact_after = 0;  // 0: never compact
  uint64_t max_inflight = 256;
  uint64_t max_size_per_msg = 1 << 20;
  std::ostream* trace = nullptr;  // one fixed-column line per event when set
};

class SimCluster {
 public:
  SimCluster(uint64_t seed, const std::set<NodeId>& voters, ClusterOptions options);
  ~SimCluster();

  // Members.
  void add_member(NodeId id);  // a new, empty member (it joins once the leader adds it)
  void crash(NodeId id);
  void restart(NodeId id);
  void pause(NodeId id, uint64_t ticks);
  bool running(NodeId id) const;
  bool exists(NodeId id) const { return members_.count(id) != 0; }
  std::set<NodeId> ids() const;
  Node& node(NodeId id);
  SimDisk& disk(NodeId id);
  SimStateMachine& state(NodeId id);

  // Time and delivery.
  // One loop iteration; members for which skip_tick() is true miss this tick (clock skew).
  void tick(const std::function<bool(NodeId)>& skip_tick = {});
  void tick_node(NodeId id);
  // Delivers every queued message (and what they cause) without ticking, up to a bound.
  void deliver_all(uint64_t max_rounds = 1000);
  // Delivers the messages queued now (not those they cause); returns how many.
  size_t deliver_round();
  bool run_until(const std::function<bool()>& done, uint64_t max_ticks);
  uint64_t now() const { return now_; }
  SimNetwork& network() { return network_; }
  void isolate(NodeId id);
  void heal() { network_.unblock_all(); }

  // Clients.
  void campaign(NodeId id);
  // Proposes `value` on `id`; it is acknowledged when `id` applies it.
  Result<uint64_t> propose(NodeId id, const std::string& value);
  Result<uint64_t> propose_conf_change(NodeId id, const ConfChange& cc);
  void transfer_leadership(NodeId from, NodeId to);
  // A linearizable read on `id`; answered reads are counted in reads_served().
  void read(NodeId id);
  bool acked(const std::string& value) const { return acked_values_.count(value) != 0; }
  uint64_t reads_served() const { return reads_served_; }

  // The running leader with the highest term, if any.
  std::optional<NodeId> leader() const;
  ClusterChecker& checker() { return checker_; }
  const std::optional<std::string>& violation() const { return checker_.violation(); }
  void trace(NodeId id, const std::string& event);

  struct Stats {
    uint64_t crashes = 0, restarts = 0, pauses = 0, storage_faults = 0, proposals = 0, acked = 0,
             reads = 0, conf_changes = 0, transfers = 0, snapshots_sent = 0, elections = 0;
  };
  Stats stats;

 private:
  struct Member;
  class MemberTransport;
  void start(Member& m);
  void process(Member& m);
  void deliver(const Message& m);

  Random rng_;
  ClusterOptions options_;
  SimNetwork network_;
  ClusterChecker checker_;
  std::map<NodeId, std::unique_ptr<Member>> members_;
  std::map<std::string, uint64_t> acked_values_;
  uint64_t now_ = 0;
  uint64_t reads_served_ = 0;
  uint64_t next_read_ = 0;
};

}  // namespace mgmt::test::sim
