// cluster_checker.cpp: see cluster_checker.h.
#include "test/support/sim/cluster_checker.h"

#include "store/raft/invariants.h"

namespace mgmt::test::sim {
namespace {

std::string str(uint64_t v) { return std::to_string(v); }

}  // namespace

void ClusterChecker::violate(std::string what) {
  if (!violation_) violation_ = std::move(what);
}

void ClusterChecker::on_send(const Message& m, const SimDisk& disk) {
  const HardState& hs = disk.hard_state();
  const std::string who = "persist before send: node " + str(m.from) + " sent " +
                          to_string(m.type) + " to " + str(m.to);
  switch (m.type) {
    case MessageType::vote:
      if (hs.term != m.term || hs.vote != m.from) violate(who + " before its own vote was durable");
      return;
    case MessageType::vote_response:
      if (!m.reject && (hs.term != m.term || hs.vote != m.to)) {
        violate(who + " granting a vote that is not durable");
      }
      return;
    case MessageType::pre_vote:
    case MessageType::pre_vote_response:
    case MessageType::propose:
    case MessageType::read_index:
    case MessageType::transfer_leader:
      return;
    case MessageType::append_response:
      if (!m.reject && m.index > disk.last_index()) {
        violate(who + " acknowledging index " + str(m.index) + " but only " +
                str(disk.last_index()) + " is durable");
      }
      break;
    default:
      break;
  }
  if (m.term > hs.term) violate(who + " in term " + str(m.term) + " not yet durable");
}

void ClusterChecker::on_save(NodeId node, const std::vector<Entry>& entries, const SimDisk& disk) {
  for (const Entry& e : entries) {
    auto prev = disk.term(e.index - 1);
    const uint64_t prev_term = prev ? *prev : UINT64_MAX;  // compacted: unknown
    const uint64_t h = hash_entry(0, e);
    auto [it, inserted] = entries_.try_emplace({e.index, e.term}, h, prev_term);
    if (inserted) continue;
    if (it->second.first != h) {
      violate("log matching: node " + str(node) + " holds a different entry at index " +
              str(e.index) + " term " + str(e.term));
    } else if (prev_term != UINT64_MAX && it->second.second != UINT64_MAX &&
               it->second.second != prev_term) {
      violate("log matching: node " + str(node) + " entry " + str(e.index) + "/" + str(e.term) +
              " follows term " + str(prev_term) + ", elsewhere term " + str(it->second.second));
    }
  }
}

void ClusterChecker::on_state(const Node& n, const SimDisk& disk, const SimStateMachine& sm) {
  const NodeId id = n.id();
  if (auto r = check_invariants(n); !r) violate(r.error().message());

  // Election safety.
  if (n.role() == Role::leader) {
    auto [it, inserted] = leader_of_term_.try_emplace(n.term(), id);
    if (!inserted && it->second != id) {
      violate("election safety: nodes " + str(it->second) + " and " + str(id) +
              " both led term " + str(n.term()));
    }
  }

  // Monotonicity within a life.
  Live& live = live_[id];
  if (n.term() < live.term) violate("monotonicity: node " + str(id) + " term went backwards");
  if (n.log().committed() < live.commit) {
    violate("monotonicity: node " + str(id) + " commit went backwards");
  }
  if (n.log().applied() < live.applied) {
    violate("monotonicity: node " + str(id) + " applied went backwards");
  }
  const bool became_leader = n.role() == Role::leader && !(live.leader && live.term == n.term());
  // Commit: every index a node considers committed must agree with what others committed.
  for (uint64_t i = std::max(live.commit + 1, n.log().first_index()); i <= n.log().committed();
       ++i) {
    const uint64_t t = n.log().term_or_zero(i);
    auto [it, inserted] = committed_term_.try_emplace(i, t, n.term());
    if (!inserted && it->second.first != t) {
      violate("state machine safety: node " + str(id) + " committed index " + str(i) +
              " with term " + str(t) + ", another node committed term " +
              str(it->second.first));
      break;
    }
  }
  max_committed_ = std::max(max_committed_, n.log().committed());
  live.term = n.term();
  live.commit = n.log().committed();
  live.applied = n.log().applied();
  live.leader = n.role() == Role::leader;

  // Leader completeness: a new leader holds every entry committed in an earlier term. (A leader
  // of an older term can still be elected late, by votes granted before that commit.)
  if (became_leader) {
    for (auto it = committed_term_.lower_bound(n.log().first_index()); it != committed_term_.end();
         ++it) {
      if (it->second.second >= n.term()) continue;
      const uint64_t t = n.log().term_or_zero(it->first);
      if (t != it->second.first) {
        violate("leader completeness: node " + str(id) + " leads term " + str(n.term()) +
                " without committed entry " + str(it->first) + " (term " + str(it->second.first) +
                "), holding term " + str(t));
        break;
      }
    }
  }

  // Durable monotonicity across restarts, and one vote per term.
  Durable& d = durable_[id];
  const HardState& hs = disk.hard_state();
  if (hs.term < d.hs.term) violate("monotonicity: node " + str(id) + " durable term went back");
  if (hs.commit < d.hs.commit) {
    violate("monotonicity: node " + str(id) + " durable commit went back");
  }
  if (hs.term == d.hs.term && d.hs.vote != kNone && hs.vote != d.hs.vote) {
    violate("election safety: node " + str(id) + " voted twice in term " + str(hs.term));
  }
  if (sm.applied_index() < d.applied) {
    violate("monotonicity: node " + str(id) + " durable applied index went back");
  }
  d.hs = hs;
  d.applied = sm.applied_index();
}

void ClusterChecker::on_apply(NodeId node, const Entry& e) {
  const uint64_t h = hash_entry(0, e);
  auto [it, inserted] = applied_hash_.try_emplace(e.index, h);
  if (!inserted && it->second != h) {
    violate("state machine safety: node " + str(node) + " applied a different entry at index " +
            str(e.index));
  }
  auto acked = acked_.find(e.index);
  if (acked != acked_.end() && (e.type != EntryType::normal || e.data != acked->second)) {
    violate("durability: acknowledged write '" + acked->second + "' at index " + str(e.index) +
            " replaced on node " + str(node));
  }
}

void ClusterChecker::on_ack(uint64_t index, const std::string& value) {
  acked_.emplace(index, value);
  max_acked_ = std::max(max_acked_, index);
}

void ClusterChecker::on_read(NodeId node, uint64_t index, uint64_t acked_before) {
  if (index < acked_before) {
    violate("linearizable read: node " + str(node) + " served a read at index " + str(index) +
            " although write " + str(acked_before) + " was acknowledged before it was issued");
  }
}

void ClusterChecker::on_restart(NodeId node) { live_.erase(node); }

void ClusterChecker::final_check(uint64_t leader_applied) {
  for (const auto& [index, value] : acked_) {
    if (index > leader_applied) {
      violate("durability: acknowledged write at index " + str(index) +
              " is beyond what the healed cluster applied (" + str(leader_applied) + ")");
      return;
    }
  }
}

}  // namespace mgmt::test::sim
