// raft_simulation.cpp: see raft_simulation.h.
#include "test/support/sim/raft_simulation.h"

#include <algorithm>
#include <sstream>
#include <vector>

namespace mgmt::test::sim {
namespace {

template <typename T>
T pick(Random& rng, const std::vector<T>& choices) {
  return choices[rng.below(choices.size())];
}

struct Rates {  // per million, per tick
  uint64_t propose, read, partition, heal, crash, crash_in_save, restart, pause, storage_fault,
      conf_change, transfer, skew, fresh_leader_fault;
};

NodeId pick_member(Random& rng, SimCluster& c, bool want_running) {
  std::vector<NodeId> ids;
  for (NodeId id : c.ids()) {
    if (c.running(id) == want_running) ids.push_back(id);
  }
  if (ids.empty()) return kNone;
  return ids[rng.below(ids.size())];
}

}  // namespace

std::string replay_command(uint64_t seed, const std::string& program) {
  return program + " --seed " + std::to_string(seed) + " --trace";
}

SimulationResult run_simulation(const SimulationOptions& opts) {
  Random rng(opts.seed);
  SimulationResult result;
  result.seed = opts.seed;

  const uint64_t voters = pick<uint64_t>(rng, {1, 3, 3, 3, 5, 5});
  ClusterOptions co;
  co.election_tick = pick<uint64_t>(rng, {5, 10, 10, 20});
  co.heartbeat_tick = pick<uint64_t>(rng, {1, 1, 2});
  co.pre_vote = rng.chance(850'000);
  co.check_quorum = rng.chance(850'000);
  co.compact_after = pick<uint64_t>(rng, {0, 3, 10, 50});
  co.max_inflight = pick<uint64_t>(rng, {1, 1, 4, 256});
  co.max_size_per_msg = pick<uint64_t>(rng, {1, 1, 64, 1 << 20});
  co.trace = opts.trace;
  NetworkFaults nf;
  nf.loss_per_million = pick<uint64_t>(rng, {0, 10'000, 100'000, 300'000});
  nf.duplicate_per_million = pick<uint64_t>(rng, {0, 10'000, 100'000});
  nf.min_delay = 1;
  // Raft needs a round trip well below the election timeout (§5.6): at most half of it.
  nf.max_delay = std::max<uint64_t>(1, co.election_tick / pick<uint64_t>(rng, {20, 4, 2}) / 2);
  Rates r;
  r.propose = pick<uint64_t>(rng, {50'000, 200'000, 500'000});
  r.read = pick<uint64_t>(rng, {0, 50'000, 200'000});
  r.partition = pick<uint64_t>(rng, {0, 2'000, 10'000, 30'000});
  r.heal = pick<uint64_t>(rng, {10'000, 50'000});
  r.crash = pick<uint64_t>(rng, {0, 1'000, 5'000, 20'000});
  r.crash_in_save = pick<uint64_t>(rng, {0, 1'000, 3'000});
  r.restart = pick<uint64_t>(rng, {10'000, 50'000});
  r.pause = pick<uint64_t>(rng, {0, 2'000});
  r.storage_fault = pick<uint64_t>(rng, {0, 0, 500});
  r.conf_change = pick<uint64_t>(rng, {0, 2'000, 10'000});
  r.transfer = pick<uint64_t>(rng, {0, 1'000, 5'000});
  r.skew = pick<uint64_t>(rng, {0, 0, 100'000});
  // Faults aimed at leaders that have not committed an entry of their term yet: the window in
  // which commit-rule bugs (Figure 8) show.
  r.fresh_leader_fault = pick<uint64_t>(rng, {0, 0, 50'000, 200'000});
  // Lease reads only where the leader's clock is never stopped (a paused leader would trust an
  // expired lease: the documented limit of lease-based reads).
  if (r.pause == 0 && rng.chance(300'000)) co.read_only = ReadOnlyOption::lease_based;
  const uint64_t fault_ticks = opts.fault_ticks ? opts.fault_ticks : 300 + rng.below(1200);

  std::ostringstream cfg;
  cfg << "voters=" << voters << " election=" << co.election_tick << " heartbeat="
      << co.heartbeat_tick << " prevote=" << co.pre_vote << " checkquorum=" << co.check_quorum
      << " compact=" << co.compact_after << " inflight=" << co.max_inflight
      << " msgsize=" << co.max_size_per_msg << " loss=" << nf.loss_per_million
      << " dup=" << nf.duplicate_per_million << " delay=" << nf.max_delay
      << " reads=" << (co.read_only == ReadOnlyOption::safe ? "safe" : "lease")
      << " ticks=" << fault_ticks;
  result.config = cfg.str();
  if (opts.trace) *opts.trace << "seed " << opts.seed << ": " << result.config << '\n';

  std::set<NodeId> initial;
  for (NodeId id = 1; id <= voters; ++id) initial.insert(id);
  SimCluster c(rng.next(), initial, co);
  c.network().set_faults(nf);
  NodeId next_id = voters + 1;
  uint64_t value = 0;
  uint64_t faults = 0;
  const std::function<bool(NodeId)> skew = [&](NodeId) { return rng.chance(r.skew); };

  auto finish = [&](SimulationResult& res) -> SimulationResult& {
    res.ticks = c.now();
    res.messages = c.network().sent;
    res.faults = faults + c.network().lost + c.network().duplicated;
    res.stats = c.stats;
    if (c.violation()) {
      res.ok = false;
      res.violation = *c.violation();
    }
    return res;
  };

  for (uint64_t t = 0; t < fault_ticks && !c.violation(); ++t) {
    c.tick(skew);
    if (auto lead = c.leader(); lead && rng.chance(r.fresh_leader_fault)) {
      const Node& n = c.node(*lead);
      if (n.log().term_or_zero(n.log().committed()) != n.term()) {
        ++faults;
        if (rng.below(2)) {
          c.crash(*lead);
        } else {
          c.isolate(*lead);
        }
      }
    }
    if (rng.chance(r.propose)) {
      const NodeId id = pick_member(rng, c, true);
      if (id != kNone) (void)c.propose(id, "v" + std::to_string(++value));
    }
    if (rng.chance(r.read)) {
      const NodeId id = pick_member(rng, c, true);
      if (id != kNone) c.read(id);
    }
    if (rng.chance(r.partition)) {
      ++faults;
      const NodeId a = pick_member(rng, c, true);
      const uint64_t mode = rng.below(3);
      if (mode == 0) {
        auto lead = c.leader();
        const NodeId victim = lead && rng.below(2) ? *lead : a;
        if (victim != kNone) c.isolate(victim);
      } else if (mode == 1) {
        std::set<NodeId> left, right;
        for (NodeId id : c.ids()) (rng.below(2) ? left : right).insert(id);
        c.network().split(left, right);
        c.trace(kNone, "random partition");
      } else if (a != kNone) {
        const NodeId b = pick_member(rng, c, true);
        if (b != kNone && b != a) {
          c.network().block(a, b);  // one-way: a's messages to b are lost
          c.trace(a, "one-way partition to n" + std::to_string(b));
        }
      }
    }
    if (c.network().partitioned() && rng.chance(r.heal)) {
      c.heal();
      c.trace(kNone, "partitions healed");
    }
    if (rng.chance(r.crash)) {
      // Half of the crashes hit the leader: leader changes with unreplicated tails are where
      // commit-rule bugs (Figure 8) live.
      auto lead = c.leader();
      const NodeId id = lead && rng.below(2) ? *lead : pick_member(rng, c, true);
      if (id != kNone) {
        ++faults;
        c.crash(id);
      }
    }
    if (rng.chance(r.crash_in_save)) {
      const NodeId id = pick_member(rng, c, true);
      if (id != kNone) {
        ++faults;
        c.disk(id).arm(SimDisk::Fault::crash);
      }
    }
    if (rng.chance(r.storage_fault)) {
      const NodeId id = pick_member(rng, c, true);
      if (id != kNone) {
        ++faults;
        c.disk(id).arm(SimDisk::Fault::io_error);
      }
    }
    if (rng.chance(r.restart)) {
      const NodeId id = pick_member(rng, c, false);
      if (id != kNone) c.restart(id);
    }
    if (rng.chance(r.pause)) {
      const NodeId id = pick_member(rng, c, true);
      if (id != kNone) {
        ++faults;
        c.pause(id, 1 + rng.below(3 * co.election_tick));
      }
    }
    if (rng.chance(r.transfer)) {
      if (auto lead = c.leader()) {
        const auto& voters_now = c.node(*lead).tracker().voters();
        std::vector<NodeId> v(voters_now.begin(), voters_now.end());
        c.transfer_leadership(*lead, v[rng.below(v.size())]);
      }
    }
    if (rng.chance(r.conf_change)) {
      if (auto lead = c.leader()) {
        const ProgressTracker& tr = c.node(*lead).tracker();
        const uint64_t kind = rng.below(3);
        if (kind == 0 && next_id <= 7) {
          const NodeId id = next_id++;
          c.add_member(id);
          (void)c.propose_conf_change(*lead, ConfChange{ConfChangeType::add_learner, id, {}});
        } else if (kind == 1 && !tr.learners().empty()) {
          // Promote a learner once it has caught up (as the store does).
          const NodeId id = *tr.learners().begin();
          const Progress& pr = tr.progress().at(id);
          if (pr.match >= c.node(*lead).log().committed() && tr.voters().size() < 5) {
            (void)c.propose_conf_change(*lead, ConfChange{ConfChangeType::add_node, id, {}});
          }
        } else if (kind == 2 && tr.voters().size() > 2) {
          std::vector<NodeId> v(tr.voters().begin(), tr.voters().end());
          const NodeId id = v[rng.below(v.size())];
          (void)c.propose_conf_change(*lead, ConfChange{ConfChangeType::remove_node, id, {}});
        }
      }
    }
  }
  if (c.violation()) return finish(result);

  // Liveness: heal everything, stop injecting faults, and require a commit within a bound.
  c.trace(kNone, "liveness phase: healing");
  c.heal();
  NetworkFaults calm = nf;
  calm.loss_per_million = 0;
  calm.duplicate_per_million = 0;
  c.network().set_faults(calm);
  for (NodeId id : c.ids()) {
    c.disk(id).arm(SimDisk::Fault::none);
    c.restart(id);
  }
  const std::string probe = "liveness-" + std::to_string(opts.seed);
  uint64_t since_proposal = UINT64_MAX / 2;
  const bool live = c.run_until(
      [&] {
        if (c.acked(probe)) {
          // ... and a leader has applied every acknowledged write.
          auto lead = c.leader();
          if (lead && c.node(*lead).log().applied() >= c.checker().max_acked_index()) return true;
        }
        if (++since_proposal > 2 * co.election_tick) {
          if (auto lead = c.leader()) {
            if (c.propose(*lead, probe)) since_proposal = 0;
          }
        }
        return false;
      },
      opts.liveness_ticks);
  if (!c.violation() && !live) {
    c.checker().violate("liveness: the healed cluster did not commit a write within " +
                        std::to_string(opts.liveness_ticks) + " ticks");
  }
  if (!c.violation()) {
    if (auto lead = c.leader()) c.checker().final_check(c.node(*lead).log().applied());
  }
  return finish(result);
}

}  // namespace mgmt::test::sim
