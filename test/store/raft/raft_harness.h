// raft_harness.h: helpers for the Raft scenario tests. `NodeNet` wires bare cores (Node over a
// MemoryLogStore each) with perfect delivery, for tests that need hand-made logs (Figure 7) or
// the messages themselves; the SimCluster (test/support/sim) runs the production driver for the
// others.
#pragma once

#include "store/raft/memory_log_store.h"
#include "store/raft/node.h"
#include "test/support/sim/sim_cluster.h"

#include <map>
#include <memory>
#include <vector>

namespace mgmt::test::raft {

using namespace mgmt::store::raft;

// Bare cores with hand-made logs. terms[i] is the term of entry i+1.
class NodeNet {
 public:
  struct Member {
    MemoryLogStore store;
    std::unique_ptr<Node> node;
  };

  void add(NodeId id, const std::set<NodeId>& voters, const std::vector<uint64_t>& terms,
           Config cfg = {}) {
    auto m = std::make_unique<Member>();
    m->store.set_conf_state(ConfState{voters, {}});
    std::vector<Entry> ents;
    for (size_t i = 0; i < terms.size(); ++i) {
      ents.push_back(Entry{terms[i], i + 1, EntryType::normal, "e" + std::to_string(i + 1)});
    }
    m->store.append(ents);
    m->store.set_hard_state(HardState{terms.empty() ? 0 : terms.back(), kNone, 0});
    cfg.id = id;
    cfg.seed = id;
    m->node = std::move(*Node::create(cfg, m->store));
    members[id] = std::move(m);
  }

  Node& node(NodeId id) { return *members.at(id)->node; }

  // Processes every Ready, delivering messages until the network is quiet; returns every
  // message sent (for inspection). `drop` filters messages out.
  std::vector<Message> stabilize(const std::function<bool(const Message&)>& drop = {}) {
    std::vector<Message> all;
    for (int round = 0; round < 1000; ++round) {
      std::vector<Message> msgs;
      for (auto& [id, m] : members) {
        while (m->node->has_ready()) {
          Ready rd = m->node->ready();
          if (rd.snapshot) m->store.apply_snapshot(*rd.snapshot);
          m->store.append(rd.entries);
          if (rd.hard_state) m->store.set_hard_state(*rd.hard_state);
          for (auto& msg : rd.messages) msgs.push_back(msg);
          for (auto& rs : rd.read_states) read_states.push_back(rs.context);
          m->node->advance(rd);
        }
      }
      if (msgs.empty()) return all;
      for (const Message& msg : msgs) {
        all.push_back(msg);
        if (drop && drop(msg)) continue;
        auto it = members.find(msg.to);
        if (it != members.end()) (void)it->second->node->step(msg);
      }
    }
    return all;
  }

  // The terms of a member's log, index 1 on.
  std::vector<uint64_t> terms(NodeId id) {
    std::vector<uint64_t> out;
    const RaftLog& log = node(id).log();
    for (uint64_t i = 1; i <= log.last_index(); ++i) out.push_back(log.term_or_zero(i));
    return out;
  }

  std::map<NodeId, std::unique_ptr<Member>> members;
  std::vector<std::string> read_states;  // the contexts of every read answered, in order
};

// Runs the cluster until `id` leads (campaigning on it, ticking others never).
inline bool elect(mgmt::test::sim::SimCluster& c, NodeId id) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    c.campaign(id);
    c.deliver_all();
    if (c.running(id) && c.node(id).role() == Role::leader) return true;
  }
  return false;
}

// Lets the leader send `n` rounds of heartbeats and delivers everything.
inline void heartbeats(mgmt::test::sim::SimCluster& c, NodeId leader, int n = 2) {
  for (int i = 0; i < n; ++i) {
    c.tick_node(leader);
    c.deliver_all();
  }
}

}  // namespace mgmt::test::raft
