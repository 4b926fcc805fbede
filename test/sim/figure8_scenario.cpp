// figure8_scenario.cpp: see figure8_scenario.h. Indexes: 1 is the bootstrap snapshot, 2 the
// first leader's empty entry, 3 "a" (committed everywhere), 4 the contested index.
#include "test/sim/figure8_scenario.h"

#include "test/support/sim/sim_cluster.h"

namespace mgmt::test::sim {
namespace {

// Campaigns on `id`, delivering one round at a time, until it leads (a few attempts: a
// pre-vote can fail once on a stale term and succeed after).
bool elect(SimCluster& c, NodeId id) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    c.campaign(id);
    for (int round = 0; round < 10; ++round) {
      if (c.node(id).role() == Role::leader) return true;
      if (c.deliver_round() == 0) break;
    }
    if (c.node(id).role() == Role::leader) return true;
  }
  return false;
}

}  // namespace

Figure8Outcome run_figure8_scenario(std::ostream* trace) {
  Figure8Outcome out;
  ClusterOptions o;
  o.check_quorum = false;  // no leases: elections happen when the scenario says
  o.max_size_per_msg = 1;  // one entry per append, so an old entry can travel alone
  o.max_inflight = 1;
  o.trace = trace;
  SimCluster c(8, {1, 2, 3, 4, 5}, o);
  auto setup = [&](const std::string& what) {
    out.setup_error = what;
    return out;
  };

  // (a) S1 leads term 2; "a" is committed everywhere; "b" (index 4, term 2) reaches S2 only.
  if (!elect(c, 1)) return setup("S1 was not elected");
  (void)c.propose(1, "a");
  c.deliver_all();
  for (NodeId id : {3, 4, 5}) c.network().block(1, id);
  (void)c.propose(1, "b");
  c.deliver_all();
  if (c.node(2).log().term_or_zero(4) != 2) return setup("b did not reach S2");
  // (b) S1 crashes; S5 is elected for term 3 by S3, S4 and itself, and appends index 4 and 5
  // in term 3 without replicating them.
  c.crash(1);
  c.heal();
  c.trace(5, "figure 8 (b)");
  if (!elect(c, 5)) return setup("S5 was not elected");
  for (NodeId id : {1, 2, 3, 4}) c.network().block(5, id);
  (void)c.propose(5, "c");
  c.deliver_all();
  if (c.node(5).term() != 3 || c.node(5).log().term_or_zero(4) != 3) {
    return setup("S5 did not append index 4 in term 3");
  }
  // (c) S5 crashes; S1 restarts and is elected for term 4; it replicates "b" (term 2) to S3,
  // so that "b" is on a majority (S1, S2, S3) while S1's own term-4 entry is not.
  c.crash(5);
  c.heal();
  c.restart(1);
  c.trace(1, "figure 8 (c)");
  if (!elect(c, 1)) return setup("S1 was not re-elected");
  if (c.node(1).term() != 4) return setup("S1 leads a term other than 4");
  bool b_on_s3 = false;
  for (int round = 0; round < 20 && !b_on_s3; ++round) {
    c.deliver_round();
    b_on_s3 = c.node(3).log().last_index() == 4 && c.node(3).log().term_or_zero(4) == 2;
  }
  if (!b_on_s3) return setup("b did not reach S3 alone");
  c.deliver_round();  // S1 hears S3's ack: b is now on a majority
  // (d) S1 crashes before its term-4 entry is on a majority; S5 is elected for term 5 (its last
  // term 3 beats S3's and S4's) and overwrites index 4 everywhere.
  c.isolate(1);
  c.crash(1);
  c.restart(5);
  c.heal();
  c.isolate(1);
  c.trace(5, "figure 8 (d)");
  if (!elect(c, 5)) return setup("S5 was not re-elected");
  (void)c.propose(5, "d");
  c.deliver_all();
  for (int i = 0; i < 3; ++i) {
    c.tick_node(5);
    c.deliver_all();
  }
  out.violation = c.violation();
  out.old_entry_overwritten = true;
  for (NodeId id : {2, 3, 4, 5}) {
    if (c.node(id).log().term_or_zero(4) != 3) out.old_entry_overwritten = false;
  }
  return out;
}

}  // namespace mgmt::test::sim
