// sim_cluster.cpp: see sim_cluster.h.
#include "test/support/sim/sim_cluster.h"

#include <cstdio>
#include <cstring>

namespace mgmt::test::sim {

struct SimCluster::Member {
  NodeId id = kNone;
  SimDisk disk;
  SimStateMachine sm;
  std::unique_ptr<MemberTransport> transport;
  std::unique_ptr<Driver> driver;  // null while down
  uint64_t paused_until = 0;
  std::set<std::string> pending_values;            // proposed here, not applied yet
  std::map<std::string, uint64_t> pending_reads;  // context -> newest acked index at issue
};

class SimCluster::MemberTransport : public Transport {
 public:
  MemberTransport(SimCluster& cluster, Member& member) : cluster_(cluster), member_(member) {}
  void send(Message m) override {
    cluster_.checker_.on_send(m, member_.disk);
    if (m.type == MessageType::snapshot) ++cluster_.stats.snapshots_sent;
    cluster_.network_.send(cluster_.now_, m);
  }

 private:
  SimCluster& cluster_;
  Member& member_;
};

SimCluster::SimCluster(uint64_t seed, const std::set<NodeId>& voters, ClusterOptions options)
    : rng_(seed), options_(options), network_(rng_) {
  for (NodeId id : voters) {
    auto m = std::make_unique<Member>();
    m->id = id;
    // Bootstrap: every initial member starts from a snapshot at index 1 naming the voters.
    Snapshot boot;
    boot.meta = SnapshotMeta{1, 1, ConfState{voters, {}}};
    boot.data = *m->sm.snapshot_data();
    std::memcpy(boot.data.data(), &boot.meta.index, 8);
    (void)m->disk.save(boot, {}, HardState{1, kNone, 1});
    (void)m->sm.restore(boot);
    members_.emplace(id, std::move(m));
  }
  for (auto& [id, m] : members_) start(*m);
}

SimCluster::~SimCluster() = default;

void SimCluster::add_member(NodeId id) {
  if (members_.count(id)) return;
  auto m = std::make_unique<Member>();
  m->id = id;
  Member& ref = *m;
  members_.emplace(id, std::move(m));
  start(ref);
  trace(id, "new member");
}

void SimCluster::start(Member& m) {
  if (!m.transport) m.transport = std::make_unique<MemberTransport>(*this, m);
  m.disk.on_saved = [this, &m](const std::vector<Entry>& ents) {
    checker_.on_save(m.id, ents, m.disk);
  };
  m.sm.on_apply = [this, &m](const Entry& e) -> Result<void> {
    checker_.on_apply(m.id, e);
    if (e.type == EntryType::normal && m.pending_values.erase(e.data)) {
      checker_.on_ack(e.index, e.data);
      acked_values_[e.data] = e.index;
      ++stats.acked;
    }
    return ok();
  };
  Config cfg;
  cfg.id = m.id;
  cfg.election_tick = options_.election_tick;
  cfg.heartbeat_tick = options_.heartbeat_tick;
  cfg.seed = rng_.next();
  cfg.pre_vote = options_.pre_vote;
  cfg.check_quorum = options_.check_quorum;
  cfg.read_only = options_.read_only;
  cfg.max_inflight = options_.max_inflight;
  cfg.max_size_per_msg = options_.max_size_per_msg;
  DriverOptions dopts;
  dopts.compact_after = options_.compact_after;
  dopts.on_read = [this, &m](const ReadState& rs) {
    auto it = m.pending_reads.find(rs.context);
    if (it == m.pending_reads.end()) return;
    checker_.on_read(m.id, rs.index, it->second);
    ++reads_served_;
    m.pending_reads.erase(it);
  };
  dopts.on_soft_state = [this, &m](const SoftState& ss) {
    if (ss.role == Role::leader) ++stats.elections;
    trace(m.id, std::string("now ") + to_string(ss.role) + " (leader " + std::to_string(ss.lead) +
                    ")");
  };
  auto driver = Driver::open(cfg, m.disk, *m.transport, m.sm, std::move(dopts));
  if (!driver) {
    checker_.violate("restart: node " + std::to_string(m.id) +
                     " cannot start from its disk: " + driver.error().message());
    return;
  }
  m.driver = std::move(*driver);
  m.paused_until = 0;
  checker_.on_state(m.driver->node(), m.disk, m.sm);
  process(m);
}

void SimCluster::process(Member& m) {
  if (!m.driver) return;
  auto r = m.driver->process_ready();
  if (!r) {
    if (m.disk.crashed_in_save()) {
      m.disk.clear_crash();
      trace(m.id, "crashed while writing its log");
    } else {
      ++stats.storage_faults;
      trace(m.id, "stopped: " + r.error().message());
    }
    m.driver.reset();
    m.pending_values.clear();
    m.pending_reads.clear();
    ++stats.crashes;
    return;
  }
  checker_.on_state(m.driver->node(), m.disk, m.sm);
}

void SimCluster::crash(NodeId id) {
  Member& m = *members_.at(id);
  if (!m.driver) return;
  m.driver.reset();
  m.pending_values.clear();
  m.pending_reads.clear();
  ++stats.crashes;
  trace(id, "crashed");
}

void SimCluster::restart(NodeId id) {
  Member& m = *members_.at(id);
  if (m.driver) return;
  checker_.on_restart(id);
  ++stats.restarts;
  start(m);
  trace(id, "restarted");
}

void SimCluster::pause(NodeId id, uint64_t ticks) {
  Member& m = *members_.at(id);
  if (!m.driver) return;
  m.paused_until = now_ + ticks;
  ++stats.pauses;
  trace(id, "paused for " + std::to_string(ticks) + " ticks");
}

bool SimCluster::running(NodeId id) const {
  auto it = members_.find(id);
  return it != members_.end() && it->second->driver != nullptr;
}

std::set<NodeId> SimCluster::ids() const {
  std::set<NodeId> out;
  for (const auto& [id, m] : members_) out.insert(id);
  return out;
}

Node& SimCluster::node(NodeId id) { return members_.at(id)->driver->node(); }
SimDisk& SimCluster::disk(NodeId id) { return members_.at(id)->disk; }
SimStateMachine& SimCluster::state(NodeId id) { return members_.at(id)->sm; }

void SimCluster::deliver(const Message& msg) {
  auto it = members_.find(msg.to);
  if (it == members_.end() || !it->second->driver) return;  // nobody there: lost
  Member& m = *it->second;
  if (m.paused_until > now_) {
    network_.defer(now_, msg);
    return;
  }
  (void)m.driver->step(msg);
  process(m);
}

void SimCluster::tick(const std::function<bool(NodeId)>& skip_tick) {
  ++now_;
  for (const Message& msg : network_.due(now_)) deliver(msg);
  for (auto& [id, m] : members_) {
    if (!m->driver || m->paused_until > now_) continue;
    if (skip_tick && skip_tick(id)) continue;
    m->driver->tick();
    process(*m);
  }
}

void SimCluster::tick_node(NodeId id) {
  Member& m = *members_.at(id);
  if (!m.driver) return;
  m.driver->tick();
  process(m);
}

size_t SimCluster::deliver_round() {
  auto msgs = network_.due(UINT64_MAX);
  for (const Message& msg : msgs) deliver(msg);
  return msgs.size();
}

void SimCluster::deliver_all(uint64_t max_rounds) {
  for (uint64_t round = 0; round < max_rounds; ++round) {
    auto msgs = network_.due(UINT64_MAX);
    if (msgs.empty()) return;
    for (const Message& msg : msgs) deliver(msg);
  }
}

bool SimCluster::run_until(const std::function<bool()>& done, uint64_t max_ticks) {
  for (uint64_t i = 0; i < max_ticks; ++i) {
    if (done()) return true;
    if (violation()) return false;
    tick();
  }
  return done();
}

void SimCluster::isolate(NodeId id) {
  for (const auto& [other, m] : members_) {
    if (other == id) continue;
    network_.block(id, other);
    network_.block(other, id);
  }
  trace(id, "isolated");
}

void SimCluster::campaign(NodeId id) {
  Member& m = *members_.at(id);
  if (!m.driver) return;
  m.driver->node().campaign();
  process(m);
}

Result<uint64_t> SimCluster::propose(NodeId id, const std::string& value) {
  Member& m = *members_.at(id);
  if (!m.driver) return fail(Code::unavailable, "node is down");
  auto r = m.driver->propose(value);
  if (r) {
    m.pending_values.insert(value);
    ++stats.proposals;
  }
  process(m);
  return r;
}

Result<uint64_t> SimCluster::propose_conf_change(NodeId id, const ConfChange& cc) {
  Member& m = *members_.at(id);
  if (!m.driver) return fail(Code::unavailable, "node is down");
  auto r = m.driver->propose_conf_change(cc);
  if (r) ++stats.conf_changes;
  process(m);
  return r;
}

void SimCluster::transfer_leadership(NodeId from, NodeId to) {
  Member& m = *members_.at(from);
  if (!m.driver) return;
  ++stats.transfers;
  m.driver->transfer_leadership(to);
  process(m);
}

void SimCluster::read(NodeId id) {
  Member& m = *members_.at(id);
  if (!m.driver) return;
  const std::string ctx = "read-" + std::to_string(++next_read_);
  m.pending_reads[ctx] = checker_.max_acked_index();
  ++stats.reads;
  m.driver->read_index(ctx);
  process(m);
}

std::optional<NodeId> SimCluster::leader() const {
  std::optional<NodeId> best;
  uint64_t best_term = 0;
  for (const auto& [id, m] : members_) {
    if (!m->driver) continue;
    const Node& n = m->driver->node();
    if (n.role() == Role::leader && n.term() >= best_term) {
      best = id;
      best_term = n.term();
    }
  }
  return best;
}

void SimCluster::trace(NodeId id, const std::string& event) {
  if (options_.trace == nullptr) return;
  using ull = unsigned long long;
  char line[160];
  const Member* m = members_.count(id) ? members_.at(id).get() : nullptr;
  if (m && m->driver) {
    const Node& n = m->driver->node();
    std::snprintf(line, sizeof line,
                  "%7llu  n%-3llu %-13s term=%-4llu commit=%-6llu applied=%-6llu last=%-6llu ",
                  ull{now_}, ull{id}, to_string(n.role()), ull{n.term()},
                  ull{n.log().committed()}, ull{n.log().applied()}, ull{n.log().last_index()});
  } else {
    std::snprintf(line, sizeof line, "%7llu  n%-3llu %-13s %-54s", ull{now_}, ull{id}, "down", "");
  }
  *options_.trace << line << event << '\n';
}

}  // namespace mgmt::test::sim
