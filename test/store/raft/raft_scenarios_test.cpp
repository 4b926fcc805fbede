// raft_scenarios_test.cpp: Raft's cases from the paper and the checklist in ../shared/TESTING.md,
// named as sentences and citing the section they check (§ = Raft paper; "thesis" = Ongaro 2014).
// Most run the production driver in the SimCluster, whose checkers (election safety, log
// matching, leader completeness, state machine safety, persist-before-send, ...) run after every
// step: every scenario ends by requiring that none fired.
#include "test/store/raft/raft_harness.h"

#include "store/raft/codec.h"

#include <catch.hpp>

using namespace mgmt::test::raft;
using mgmt::test::sim::ClusterOptions;
using mgmt::test::sim::SimCluster;
using mgmt::test::sim::SimDisk;
using mgmt::Code;

namespace {

ClusterOptions no_leases() {
  ClusterOptions o;
  o.check_quorum = false;
  return o;
}

void require_clean(SimCluster& c) {
  INFO(c.violation().value_or(""));
  REQUIRE_FALSE(c.violation().has_value());
}

// Proposes and lets it commit and apply everywhere reachable.
void commit(SimCluster& c, NodeId on, const std::string& value) {
  REQUIRE(c.propose(on, value));
  c.deliver_all();
  heartbeats(c, *c.leader());
}

}  // namespace

// ----------------------------------------------------------------------------------- Elections

TEST_CASE("§5.2 a single node elects itself and commits", "[unit]") {
  SimCluster c(1, {1}, {});
  REQUIRE(c.run_until([&] { return c.leader().has_value(); }, 100));
  REQUIRE(c.propose(1, "x"));
  CHECK(c.acked("x"));
  require_clean(c);
}

TEST_CASE("§5.2 three and five nodes elect one leader, each vote durable before it is granted",
          "[unit]") {
  const uint64_t n = GENERATE(3, 5);
  std::set<NodeId> ids;
  for (NodeId id = 1; id <= n; ++id) ids.insert(id);
  SimCluster c(n, ids, {});
  REQUIRE(c.run_until([&] { return c.leader().has_value(); }, 500));
  const NodeId lead = *c.leader();
  size_t leaders = 0, durable_votes = 0;
  for (NodeId id : ids) {
    if (c.node(id).role() == Role::leader && c.node(id).term() == c.node(lead).term()) ++leaders;
    const HardState& hs = c.disk(id).hard_state();
    if (hs.term == c.node(lead).term() && hs.vote == lead) ++durable_votes;
  }
  CHECK(leaders == 1);
  CHECK(durable_votes >= n / 2 + 1);  // the quorum that elected it, on disk
  require_clean(c);  // persist-before-send checked every vote on the wire
}

TEST_CASE("§5.4.1 a candidate with an older log loses the election", "[unit]") {
  ClusterOptions o = no_leases();
  o.pre_vote = false;
  SimCluster c(2, {1, 2, 3}, o);
  REQUIRE(elect(c, 1));
  c.isolate(3);
  commit(c, 1, "a");
  c.heal();
  c.campaign(3);
  c.deliver_all();
  CHECK(c.node(3).role() != Role::leader);
  CHECK_FALSE(c.node(3).log().is_up_to_date(c.node(1).log().last_index(),
                                             c.node(1).log().last_term()) == false);
  require_clean(c);
}

TEST_CASE("§5.2 split votes resolve through randomized election timeouts", "[unit]") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SimCluster c(seed, {1, 2, 3, 4, 5}, {});
    INFO("seed " << seed);
    CHECK(c.run_until([&] { return c.leader().has_value(); }, 30 * 20));
    require_clean(c);
  }
}

namespace {

// Member 1 of three (without pre-vote) on a log of `terms`, made follower, candidate or leader.
Node& member_in_role(NodeNet& net, Role role, const std::vector<uint64_t>& terms) {
  Config cfg;
  cfg.pre_vote = false;
  net.add(1, {1, 2, 3}, terms, cfg);
  Node& n = net.node(1);
  if (role != Role::follower) n.campaign();
  if (role == Role::leader) {
    REQUIRE(n.step(Message{.type = MessageType::vote_response, .from = 2, .term = n.term()}));
  }
  REQUIRE(n.role() == role);
  return n;
}

}  // namespace

TEST_CASE("§5.1 stale-term messages are ignored and a higher term demotes every role", "[unit]") {
  const Role role = GENERATE(Role::follower, Role::candidate, Role::leader);
  NodeNet net;
  Node& n = member_in_role(net, role, {2, 2});
  const uint64_t term = n.term();
  // Stale: ignored.
  REQUIRE(n.step(Message{.type = MessageType::append, .from = 2, .term = term - 1,
                         .log_term = 2, .index = 2}));
  CHECK(n.role() == role);
  CHECK(n.term() == term);
  // Higher term: follower of that term.
  REQUIRE(n.step(Message{.type = MessageType::heartbeat, .from = 3, .term = term + 5}));
  CHECK(n.role() == Role::follower);
  CHECK(n.term() == term + 5);
  CHECK(n.lead() == 3);
}

TEST_CASE("messages a peer damaged or forged are refused and change nothing", "[unit]") {
  // Each was found by tools/fuzz.sh (raft_node_fuzzer) to crash a member or rewind its term.
  const Role role = GENERATE(Role::follower, Role::candidate, Role::leader);
  NodeNet net;
  Node& n = member_in_role(net, role, {1, 1, 2});
  const uint64_t term = n.term();
  const uint64_t last = n.log().last_index();
  auto refused = [&](const Message& m, const std::string& why) {
    auto r = n.step(m);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == why);
    CHECK(n.term() == term);
    CHECK(n.role() == role);
    CHECK(n.log().last_index() == last);
  };
  // No term: a candidate took the sender's term 0; a vote request got an answer without a term
  // (an assertion stopped the member).
  refused(Message{.type = MessageType::heartbeat, .from = 2},
          "raft: a heartbeat message without a term");
  refused(Message{.type = MessageType::vote, .from = 2, .log_term = 9, .index = 9},
          "raft: a vote message without a term");
  // A term the node's next campaign would overflow into 0.
  refused(Message{.type = MessageType::heartbeat, .from = 2, .term = UINT64_MAX},
          "raft: a heartbeat message with a term beyond 2^63");
  // Entries that skip an index (the log threw std::length_error), or go back in term.
  const uint64_t t = term + 1;
  refused(Message{.type = MessageType::append, .from = 2, .term = t, .log_term = 2, .index = 3,
                  .entries = {Entry{t, 4}, Entry{t, 6}}},
          "raft: an append whose entries do not follow its index one by one");
  refused(Message{.type = MessageType::append, .from = 2, .term = t, .log_term = 2, .index = 3,
                  .entries = {Entry{t, 4}, Entry{1, 5}}},
          "raft: an append whose entry terms fall or pass the sender's term");
  refused(Message{.type = MessageType::append, .from = 2, .term = t, .log_term = 2,
                  .index = kMaxIndex - 1, .entries = {Entry{t, kMaxIndex}}},
          "raft: an append with entries beyond index 2^63");
  // A snapshot at the last index there is (the next entry overflowed into index 0).
  Snapshot huge{SnapshotMeta{UINT64_MAX, 1, ConfState{{1, 2, 3}, {}}}, "state"};
  refused(Message{.type = MessageType::snapshot, .from = 2, .term = t, .snapshot = huge},
          "raft: a snapshot beyond index 2^63");
  Snapshot ahead{SnapshotMeta{9, t + 1, ConfState{{1, 2, 3}, {}}}, "state"};
  refused(Message{.type = MessageType::snapshot, .from = 2, .term = t, .snapshot = ahead},
          "raft: a snapshot from a term past the sender's");
  // The same messages, made right, are taken.
  REQUIRE(n.step(Message{.type = MessageType::append, .from = 2, .term = t, .log_term = 2,
                         .index = 3, .entries = {Entry{t, 4}, Entry{t, 5}}}));
  CHECK(n.term() == t);
  CHECK(n.role() == Role::follower);
}

TEST_CASE("thesis §9.6 pre-vote and check-quorum: a rejoining partitioned node does not depose "
          "a healthy leader", "[unit]") {
  SimCluster c(3, {1, 2, 3}, {});
  REQUIRE(c.run_until([&] { return c.leader().has_value(); }, 500));
  const NodeId lead = *c.leader();
  const NodeId other = lead == 3 ? 2 : 3;
  const uint64_t term = c.node(lead).term();
  c.isolate(other);
  for (int i = 0; i < 200; ++i) c.tick();
  CHECK(c.node(other).term() == term);  // pre-vote: no term inflation while cut off
  c.heal();
  for (int i = 0; i < 100; ++i) c.tick();
  CHECK(c.leader() == lead);
  CHECK(c.node(lead).term() == term);
  require_clean(c);
}

TEST_CASE("§6.2 a leader that loses contact with a quorum steps down (check-quorum)", "[unit]") {
  SimCluster c(4, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  c.isolate(1);
  for (int i = 0; i < 25; ++i) c.tick_node(1);
  CHECK(c.node(1).role() != Role::leader);
  require_clean(c);
}

// -------------------------------------------------------------------- Replication and divergence

TEST_CASE("§5.3 a follower rejects an append with a gap or a mismatched previous term",
          "[unit]") {
  NodeNet net;
  net.add(1, {1, 2}, {1, 1, 2});
  Node& f = net.node(1);
  SECTION("a gap") {
    REQUIRE(f.step(Message{.type = MessageType::append, .from = 2, .term = 3, .log_term = 2,
                           .index = 7}));
  }
  SECTION("a mismatched previous term") {
    REQUIRE(f.step(Message{.type = MessageType::append, .from = 2, .term = 3, .log_term = 3,
                           .index = 3}));
  }
  Ready rd = f.ready();
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::append_response);
  CHECK(rd.messages[0].reject);
  CHECK(rd.messages[0].reject_hint <= 3);  // where the leader should retry
  CHECK(rd.entries.empty());
}

TEST_CASE("§5.3 a conflicting suffix is truncated, a duplicate append changes nothing", "[unit]") {
  NodeNet net;
  net.add(1, {1, 2}, {1, 1, 2, 2});
  Node& f = net.node(1);
  const Message app{.type = MessageType::append, .from = 2, .term = 3, .log_term = 1, .index = 2,
                    .entries = {Entry{3, 3, EntryType::normal, "x"}}};
  REQUIRE(f.step(app));
  net.stabilize([](const Message&) { return true; });
  CHECK(net.terms(1) == std::vector<uint64_t>{1, 1, 3});
  REQUIRE(f.step(app));  // duplicate
  net.stabilize([](const Message&) { return true; });
  CHECK(net.terms(1) == std::vector<uint64_t>{1, 1, 3});
}

TEST_CASE("Figure 7 (§5.3): the leader repairs each kind of divergent follower in few round "
          "trips", "[unit]") {
  const std::vector<uint64_t> leader_log = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  const auto follower = GENERATE(as<std::vector<uint64_t>>{},
                                 std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6},        // a
                                 std::vector<uint64_t>{1, 1, 1, 4},                       // b
                                 std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},  // c
                                 std::vector<uint64_t>{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},
                                 std::vector<uint64_t>{1, 1, 1, 4, 4, 4, 4},              // e
                                 std::vector<uint64_t>{1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}); // f
  NodeNet net;
  Config cfg;
  cfg.pre_vote = false;
  net.add(1, {1, 2, 3}, leader_log, cfg);
  net.add(2, {1, 2, 3}, leader_log, cfg);
  net.add(3, {1, 2, 3}, follower, cfg);
  // Term 8, as in the figure; node 3 is kept out of the election.
  net.members.at(1)->store.set_hard_state(HardState{7, kNone, 0});
  net.members.at(1)->node = std::move(*Node::create(Config{.id = 1, .seed = 1, .pre_vote = false},
                                                    net.members.at(1)->store));
  net.node(1).campaign();
  auto msgs = net.stabilize();
  REQUIRE(net.node(1).role() == Role::leader);
  CHECK(net.node(1).term() == 8);
  std::vector<uint64_t> expected = leader_log;
  expected.push_back(8);  // the new leader's empty entry
  CHECK(net.terms(3) == expected);
  size_t rejections = 0;
  for (const Message& m : msgs) rejections += m.from == 3 && m.reject;
  CHECK(rejections <= 3);  // one per divergent term at most, not one per entry
}

TEST_CASE("flow control: one probe at a time, a bounded in-flight window, and a paused follower "
          "recovers on a heartbeat response", "[unit]") {
  NodeNet net;
  Config cfg;
  cfg.pre_vote = false;
  cfg.max_inflight = 2;
  cfg.max_size_per_msg = 1;  // one entry per append
  net.add(1, {1, 2}, {}, cfg);
  net.add(2, {1, 2}, {}, cfg);
  net.node(1).campaign();
  net.stabilize();
  REQUIRE(net.node(1).role() == Role::leader);
  const Progress& pr = net.node(1).tracker().progress().at(2);
  REQUIRE(pr.state == ProgressState::replicate);
  // Follower 2 stops answering: at most max_inflight appends go out.
  for (int i = 0; i < 5; ++i) REQUIRE(net.node(1).propose("p" + std::to_string(i)));
  auto sent = net.stabilize([](const Message& m) { return m.to == 1; });
  size_t appends = 0;
  for (const Message& m : sent) appends += m.type == MessageType::append && !m.entries.empty();
  CHECK(appends == 2);
  CHECK(pr.is_paused());
  // A heartbeat response frees a slot; the follower catches up entirely.
  for (int i = 0; i < 3; ++i) net.node(1).tick();
  net.stabilize();
  CHECK(net.node(2).log().last_index() == net.node(1).log().last_index());
  CHECK(net.node(2).log().committed() == net.node(1).log().committed());
}

// Three voters led by node 1, each sending one append at a time to a follower, as the store
// runs them (with more, an append may be in flight to one).
static void three_led_by_1(NodeNet& net) {
  Config cfg;
  cfg.pre_vote = false;
  cfg.max_inflight = 1;
  for (NodeId id : {1, 2, 3}) net.add(id, {1, 2, 3}, {}, cfg);
  net.node(1).campaign();
  net.stabilize();
  REQUIRE(net.node(1).role() == Role::leader);
}

TEST_CASE("a follower that holds the whole log does not answer an append that only moves the "
          "commit index, and still applies it", "[unit]") {
  NodeNet net;
  three_led_by_1(net);
  REQUIRE(net.node(1).tracker().progress().at(2).state == ProgressState::replicate);
  REQUIRE(net.node(1).propose("x"));
  const auto sent = net.stabilize();
  std::size_t commit_only = 0, answers = 0;
  for (const Message& m : sent) {
    if (m.type == MessageType::append && m.entries.empty()) {
      CHECK(m.context == kCommitOnlyContext);
      ++commit_only;
    }
    if (m.type == MessageType::append_response && m.from == 2) ++answers;
  }
  CHECK(commit_only == 2);  // one to each follower, after the quorum acked the entry
  CHECK(answers == 1);      // the entry's ack; the commit needs none
  for (NodeId id : {2, 3}) {
    CHECK(net.node(id).log().committed() == net.node(1).log().committed());
  }
  // A follower that does not hold what the leader thinks it holds still answers (rejects), so
  // the leader repairs it as before.
  Message stale{.type = MessageType::append, .to = 2, .from = 1, .term = net.node(1).term(),
                .log_term = net.node(1).term(), .index = net.node(1).log().last_index() + 5,
                .commit = net.node(1).log().committed(), .context = kCommitOnlyContext};
  REQUIRE(net.node(2).step(stale));
  REQUIRE(net.node(2).has_ready());
  const Ready rd = net.node(2).ready();
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::append_response);
  CHECK(rd.messages[0].reject);
  net.node(2).advance(rd);
}

TEST_CASE("the follower whose proposal committed is told at once (commit-now), the others as "
          "before", "[unit]") {
  NodeNet net;
  three_led_by_1(net);
  // Follower 2 proposes (a client's write it took): it waits for the commit to answer.
  REQUIRE(net.node(2).propose("from 2"));
  const auto sent = net.stabilize();
  std::map<NodeId, std::string> notice;
  std::size_t answers_to_notices = 0;
  for (const Message& m : sent) {
    if (m.type == MessageType::append && m.entries.empty() && m.from == 1) notice[m.to] = m.context;
    if (m.type == MessageType::append_response && m.index == net.node(1).log().committed() &&
        m.from != 1) {
      ++answers_to_notices;
    }
  }
  CHECK(notice[2] == kCommitNowContext);   // a transport sends it without holding it
  CHECK(notice[3] == kCommitOnlyContext);  // may be held for the next message
  CHECK(answers_to_notices == 2);          // the entry's acks only: notices need no answer
  for (NodeId id : {2, 3}) CHECK(net.node(id).log().committed() == net.node(1).log().committed());
  // The leader's own proposal: no follower waits for it.
  REQUIRE(net.node(1).propose("from 1"));
  for (const Message& m : net.stabilize()) {
    if (m.type == MessageType::append && m.entries.empty()) CHECK(m.context == kCommitOnlyContext);
  }
}

// -------------------------------------------------------------------------------- Commit rules

TEST_CASE("followers that learn the commit index late still apply in order", "[unit]") {
  SimCluster c(5, {1, 2, 3}, no_leases());
  REQUIRE(elect(c, 1));
  c.network().block(1, 3);
  for (int i = 0; i < 5; ++i) REQUIRE(c.propose(1, "v" + std::to_string(i)));
  c.deliver_all();
  CHECK(c.node(3).log().applied() < c.node(1).log().applied());
  c.heal();
  heartbeats(c, 1, 3);
  CHECK(c.node(3).log().applied() == c.node(1).log().applied());
  CHECK(c.state(3).hash() == c.state(1).hash());
  require_clean(c);  // the state machine refuses out-of-order application
}

TEST_CASE("thesis §4.2.2 a leader that removed itself steps down and no longer counts its own "
          "ack", "[unit]") {
  SimCluster c(6, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::remove_node, 1, {}}));
  c.deliver_all();
  heartbeats(c, 1);
  CHECK_FALSE(c.node(1).tracker().is_voter(1));
  CHECK(c.node(1).role() != Role::leader);
  // It handed over: a remaining member leads and commits with the two of them.
  REQUIRE(c.run_until([&] { return c.leader().has_value() && *c.leader() != 1; }, 500));
  const NodeId lead = *c.leader();
  c.crash(1);
  REQUIRE(c.propose(lead, "after"));
  c.deliver_all();
  heartbeats(c, lead);
  CHECK(c.acked("after"));
  require_clean(c);
}

// ---------------------------------------------------------------------------------- Partitions

TEST_CASE("§5.4 an isolated leader commits nothing, the majority elects anew, on heal the old "
          "uncommitted tail is overwritten", "[unit]") {
  SimCluster c(7, {1, 2, 3}, no_leases());
  REQUIRE(elect(c, 1));
  commit(c, 1, "before");
  c.isolate(1);
  REQUIRE(c.propose(1, "lost"));
  const uint64_t lost_index = c.node(1).log().last_index();
  REQUIRE(c.run_until([&] { return c.leader() && *c.leader() != 1; }, 1000));
  const NodeId lead = *c.leader();
  commit(c, lead, "kept");
  CHECK_FALSE(c.acked("lost"));
  c.heal();
  heartbeats(c, lead, 3);
  CHECK(c.node(1).role() == Role::follower);
  CHECK(c.node(1).log().term_or_zero(lost_index) == c.node(lead).log().term_or_zero(lost_index));
  CHECK_FALSE(c.acked("lost"));
  CHECK(c.acked("kept"));
  require_clean(c);
}

TEST_CASE("one-way partitions: a leader that cannot hear or cannot be heard is replaced",
          "[unit]") {
  SimCluster c(8, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  SECTION("the leader can send but not receive") {
    c.network().block(2, 1);
    c.network().block(3, 1);
  }
  SECTION("the leader can receive but not send") {
    c.network().block(1, 2);
    c.network().block(1, 3);
  }
  REQUIRE(c.run_until([&] { return c.leader().has_value() && *c.leader() != 1 &&
                                   c.node(1).role() != Role::leader; },
                      2000));
  commit(c, *c.leader(), "available");
  CHECK(c.acked("available"));
  require_clean(c);
}

TEST_CASE("a client cut off from the leader is served through a follower", "[unit]") {
  SimCluster c(9, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  REQUIRE(c.propose(2, "via-follower"));  // forwarded to the leader
  c.deliver_all();
  heartbeats(c, 1);
  CHECK(c.acked("via-follower"));
  require_clean(c);
}

TEST_CASE("thesis §6.4 a deposed leader serves no linearizable read", "[unit]") {
  SECTION("ReadIndex (safe)") {
    SimCluster c(10, {1, 2, 3}, no_leases());
    REQUIRE(elect(c, 1));
    commit(c, 1, "a");
    c.read(1);
    c.deliver_all();
    CHECK(c.reads_served() == 1);  // a healthy leader answers after a heartbeat round
    c.isolate(1);
    REQUIRE(c.run_until([&] { return c.leader() && *c.leader() != 1; }, 1000));
    commit(c, *c.leader(), "newer");
    c.read(1);  // node 1 still believes it leads
    for (int i = 0; i < 50; ++i) c.tick();
    CHECK(c.reads_served() == 1);
    require_clean(c);  // a served stale read would have been flagged
  }
  SECTION("lease based: answered at once in the lease, never after it ran out") {
    ClusterOptions o;
    o.read_only = ReadOnlyOption::lease_based;
    SimCluster c(11, {1, 2, 3}, o);
    REQUIRE(elect(c, 1));
    commit(c, 1, "a");
    c.read(1);
    CHECK(c.reads_served() == 1);  // no round trip inside the lease
    c.isolate(1);
    REQUIRE(c.run_until([&] { return c.leader() && *c.leader() != 1; }, 1000));
    commit(c, *c.leader(), "newer");
    const uint64_t served = c.reads_served();
    c.read(1);
    for (int i = 0; i < 20; ++i) c.tick();
    CHECK(c.reads_served() == served);
    require_clean(c);
  }
}

TEST_CASE("thesis §6.4 a read round asks a quorum, the quickest voter first, and every member "
          "once it goes unanswered for a heartbeat", "[unit]") {
  NodeNet net;
  for (NodeId id : {1, 2, 3}) net.add(id, {1, 2, 3}, {1});
  Node& leader = net.node(1);
  leader.campaign();
  net.stabilize();
  REQUIRE(leader.role() == Role::leader);
  const auto asked = [](const std::vector<Message>& sent, const std::string& context) {
    std::set<NodeId> to;
    for (const Message& m : sent) {
      if (m.type == MessageType::heartbeat && m.context == context) to.insert(m.to);
    }
    return to;
  };
  const auto answered = [&](const std::string& context) {
    return std::count(net.read_states.begin(), net.read_states.end(), context) == 1;
  };

  leader.read_index("r1");
  const std::set<NodeId> first = asked(net.stabilize(), "r1");
  REQUIRE(first.size() == 1);  // one follower makes a quorum of three with the leader
  CHECK(answered("r1"));
  const NodeId quick = *first.begin();
  const NodeId other = quick == 2 ? 3 : 2;
  leader.read_index("r2");
  CHECK(asked(net.stabilize(), "r2") == std::set<NodeId>{quick});  // it answered first
  CHECK(answered("r2"));

  // The quick one goes silent: the round waits for the next heartbeat, which asks everyone.
  const auto to_quick = [&](const Message& m) { return m.to == quick; };
  leader.read_index("r3");
  CHECK(asked(net.stabilize(to_quick), "r3") == std::set<NodeId>{quick});
  CHECK_FALSE(answered("r3"));
  leader.tick();
  CHECK(asked(net.stabilize(to_quick), "r3") == std::set<NodeId>{quick, other});
  CHECK(answered("r3"));
  leader.read_index("r4");
  CHECK(asked(net.stabilize(to_quick), "r4") == std::set<NodeId>{other});  // now the quick one
  CHECK(answered("r4"));
}

// --------------------------------------------------------------------- Crashes and storage faults

TEST_CASE("a leader that crashes before replicating loses the entry, never a committed one",
          "[unit]") {
  SimCluster c(12, {1, 2, 3}, no_leases());
  REQUIRE(elect(c, 1));
  commit(c, 1, "a");
  c.isolate(1);
  REQUIRE(c.propose(1, "unreplicated"));
  c.crash(1);
  c.heal();
  REQUIRE(c.run_until([&] { return c.leader().has_value(); }, 1000));
  commit(c, *c.leader(), "b");
  c.restart(1);
  heartbeats(c, *c.leader(), 3);
  CHECK_FALSE(c.acked("unreplicated"));
  CHECK(c.state(1).hash() == c.state(*c.leader()).hash());
  require_clean(c);
}

TEST_CASE("a failed fsync stops acknowledgements instead of lying", "[unit]") {
  SimCluster c(13, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  c.disk(3).arm(SimDisk::Fault::io_error);
  commit(c, 1, "x");
  CHECK_FALSE(c.running(3));  // the driver stopped; nothing was acknowledged
  CHECK(c.acked("x"));        // the other two carry on
  CHECK(c.disk(3).last_index() < c.node(1).log().last_index());
  require_clean(c);  // persist-before-send: no ack of an unsaved entry left node 3
}

TEST_CASE("a crash during a log write loses that write only, restart recovers and catches up",
          "[unit]") {
  SimCluster c(14, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  commit(c, 1, "a");
  const uint64_t durable = c.disk(2).last_index();
  c.disk(2).arm(SimDisk::Fault::crash);
  commit(c, 1, "b");
  CHECK_FALSE(c.running(2));
  CHECK(c.disk(2).last_index() == durable);
  c.restart(2);
  heartbeats(c, 1, 3);
  CHECK(c.node(2).log().last_index() == c.node(1).log().last_index());
  require_clean(c);
}

TEST_CASE("restart keeps term, vote and log", "[unit]") {
  SimCluster c(15, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  commit(c, 1, "a");
  std::map<NodeId, std::tuple<uint64_t, NodeId, uint64_t, uint64_t>> before;
  for (NodeId id : {1, 2, 3}) {
    before[id] = {c.node(id).term(), c.node(id).vote(), c.node(id).log().last_index(),
                  c.state(id).hash()};
    c.crash(id);
  }
  for (NodeId id : {1, 2, 3}) {
    c.restart(id);
    CHECK(std::get<0>(before[id]) == c.node(id).term());
    CHECK(std::get<1>(before[id]) == c.node(id).vote());
    CHECK(std::get<2>(before[id]) == c.node(id).log().last_index());
    CHECK(std::get<3>(before[id]) == c.state(id).hash());
  }
  require_clean(c);
}

TEST_CASE("restart starts from the applied index when the stored commit index is older",
          "[unit]") {
  // The commit index is volatile: the hard state is written only when its term or vote moves,
  // so after the election the stored commit stays behind what every member applied.
  SimCluster c(18, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  for (int i = 0; i < 5; ++i) commit(c, 1, "v" + std::to_string(i));
  std::map<NodeId, std::pair<uint64_t, uint64_t>> before;  // applied index, state hash
  for (NodeId id : {1, 2, 3}) {
    before[id] = {c.state(id).applied_index(), c.state(id).hash()};
    CHECK(c.disk(id).hard_state().commit < c.state(id).applied_index());
    c.crash(id);
  }
  for (NodeId id : {1, 2, 3}) {
    c.restart(id);
    CHECK(c.node(id).log().committed() >= before[id].first);
    CHECK(c.state(id).hash() == before[id].second);  // nothing applied twice
  }
  REQUIRE(c.run_until([&] { return c.leader().has_value(); }, 400));
  commit(c, *c.leader(), "after the restart");
  for (NodeId id : {1, 2, 3}) CHECK(c.state(id).applied_index() > before[id].first);
  require_clean(c);
}

TEST_CASE("a paused leader resumes with a stale view and steps down", "[unit]") {
  SimCluster c(16, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  c.pause(1, 200);
  REQUIRE(c.run_until([&] { return c.leader() && *c.leader() != 1; }, 200));
  const NodeId lead = *c.leader();
  REQUIRE(c.run_until([&] { return c.node(1).role() == Role::follower; }, 400));
  CHECK(c.node(1).term() == c.node(lead).term());
  require_clean(c);
}

// --------------------------------------------------------------------- Snapshots and compaction

TEST_CASE("§7 a follower behind the compacted log gets a snapshot, then appends resume",
          "[unit]") {
  ClusterOptions o = no_leases();
  o.compact_after = 5;
  SimCluster c(17, {1, 2, 3}, o);
  REQUIRE(elect(c, 1));
  c.isolate(3);
  for (int i = 0; i < 20; ++i) commit(c, 1, "v" + std::to_string(i));
  REQUIRE(c.disk(1).first_index() > c.node(3).log().last_index() + 1);
  c.heal();
  heartbeats(c, 1, 3);
  CHECK(c.stats.snapshots_sent >= 1);
  commit(c, 1, "after-snapshot");
  CHECK(c.node(3).log().applied() == c.node(1).log().applied());
  CHECK(c.state(3).hash() == c.state(1).hash());
  require_clean(c);
}

TEST_CASE("§7 a failed snapshot send puts the follower back to probing", "[unit]") {
  NodeNet net;
  Config cfg;
  cfg.pre_vote = false;
  net.add(1, {1, 2}, {1, 1, 1}, cfg);
  net.add(2, {1, 2}, {1, 1, 1}, cfg);
  net.node(1).campaign();
  net.stabilize();
  REQUIRE(net.node(1).role() == Role::leader);
  // Force the snapshot state, as when the follower fell behind a compaction.
  auto& pr = const_cast<Progress&>(net.node(1).tracker().progress().at(2));
  pr.become_snapshot(3);
  net.node(1).report_snapshot(2, false);
  CHECK(pr.state == ProgressState::probe);
  CHECK(pr.probe_sent);  // waits for a heartbeat before probing again
}

TEST_CASE("§7 a snapshot older than the follower's commit is ignored", "[unit]") {
  NodeNet net;
  net.add(1, {1, 2}, {1, 1, 1, 1, 1});
  Node& f = net.node(1);
  REQUIRE(f.step(Message{.type = MessageType::heartbeat, .from = 2, .term = 1, .commit = 5}));
  net.stabilize([](const Message&) { return true; });
  REQUIRE(f.log().committed() == 5);
  Snapshot old{SnapshotMeta{3, 1, ConfState{{1, 2}, {}}}, "old"};
  REQUIRE(f.step(Message{.type = MessageType::snapshot, .from = 2, .term = 1, .snapshot = old}));
  Ready rd = f.ready();
  CHECK_FALSE(rd.snapshot.has_value());
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].index == 5);  // answers with what it has committed
}

TEST_CASE("§7 a snapshot carries the membership, learners included", "[unit]") {
  ClusterOptions o = no_leases();
  o.compact_after = 3;
  SimCluster c(18, {1, 2, 3}, o);
  REQUIRE(elect(c, 1));
  c.add_member(4);
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::add_learner, 4, {}}));
  c.deliver_all();
  for (int i = 0; i < 10; ++i) commit(c, 1, "v" + std::to_string(i));
  auto snap = c.disk(1).snapshot();
  REQUIRE(snap);
  CHECK(snap->meta.conf_state.learners == std::set<NodeId>{4});
  CHECK(snap->meta.conf_state.voters == std::set<NodeId>{1, 2, 3});
  // A member that joins now learns it from the snapshot.
  c.add_member(5);
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::add_learner, 5, {}}));
  c.deliver_all();
  heartbeats(c, 1, 3);
  CHECK(c.node(5).tracker().learners() == std::set<NodeId>{4, 5});
  require_clean(c);
}

TEST_CASE("thesis §3.10 leadership transfer right after a snapshot", "[unit]") {
  ClusterOptions o = no_leases();
  o.compact_after = 3;
  SimCluster c(19, {1, 2, 3}, o);
  REQUIRE(elect(c, 1));
  c.isolate(3);
  for (int i = 0; i < 10; ++i) commit(c, 1, "v" + std::to_string(i));
  c.heal();
  heartbeats(c, 1, 2);
  REQUIRE(c.stats.snapshots_sent >= 1);
  c.transfer_leadership(1, 3);
  c.deliver_all();
  heartbeats(c, 1);
  CHECK(c.leader() == NodeId{3});
  require_clean(c);
}

// ---------------------------------------------------------------------------------- Membership

TEST_CASE("thesis §4.2.1 a new member catches up as a learner, counts only once promoted",
          "[unit]") {
  SimCluster c(20, {1, 2, 3}, no_leases());
  REQUIRE(elect(c, 1));
  commit(c, 1, "a");
  c.add_member(4);
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::add_learner, 4, {}}));
  c.deliver_all();
  heartbeats(c, 1, 3);
  CHECK(c.node(4).log().applied() == c.node(1).log().applied());
  CHECK(c.node(1).tracker().is_learner(4));
  // A learner does not count: with 2 and 3 down, nothing commits although 4 acks.
  c.crash(2);
  c.crash(3);
  REQUIRE(c.propose(1, "needs-a-voter"));
  c.deliver_all();
  heartbeats(c, 1);
  CHECK_FALSE(c.acked("needs-a-voter"));
  CHECK(c.node(4).log().last_index() == c.node(1).log().last_index());
  c.restart(2);
  heartbeats(c, 1, 3);
  CHECK(c.acked("needs-a-voter"));
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::add_node, 4, {}}));
  c.deliver_all();
  heartbeats(c, 1, 2);
  CHECK(c.node(1).tracker().voters() == std::set<NodeId>{1, 2, 3, 4});
  require_clean(c);
}

TEST_CASE("removing a follower leaves a cluster that commits without it", "[unit]") {
  SimCluster c(21, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::remove_node, 3, {}}));
  c.deliver_all();
  heartbeats(c, 1);
  CHECK(c.node(1).tracker().voters() == std::set<NodeId>{1, 2});
  c.crash(3);
  commit(c, 1, "two-voters");
  CHECK(c.acked("two-voters"));
  require_clean(c);
}

TEST_CASE("only one membership change is pending at a time, also across a leader change",
          "[unit]") {
  SimCluster c(22, {1, 2, 3}, no_leases());
  REQUIRE(elect(c, 1));
  c.add_member(4);
  c.add_member(5);
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::add_learner, 4, {}}));
  auto second = c.propose_conf_change(1, ConfChange{ConfChangeType::add_learner, 5, {}});
  REQUIRE_FALSE(second);
  CHECK(second.error().code() == Code::failed_precondition);
  // A new leader may not propose one before it applied everything up to its election.
  c.isolate(1);
  REQUIRE(c.run_until([&] { return c.leader() && *c.leader() != 1; }, 1000));
  const NodeId lead = *c.leader();
  CHECK(c.node(lead).pending_conf_index() > 0);
  heartbeats(c, lead);
  CHECK(c.propose_conf_change(lead, ConfChange{ConfChangeType::add_learner, 5, {}}));
  require_clean(c);
}

TEST_CASE("thesis §4.2.3 a removed member cannot disrupt the cluster", "[unit]") {
  SimCluster c(23, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  c.isolate(3);  // 3 never learns it was removed
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::remove_node, 3, {}}));
  c.deliver_all();
  heartbeats(c, 1);
  const uint64_t term = c.node(1).term();
  for (int i = 0; i < 200; ++i) c.tick();
  c.heal();
  for (int i = 0; i < 200; ++i) c.tick();
  CHECK(c.leader() == NodeId{1});
  CHECK(c.node(1).term() == term);
  require_clean(c);
}

// ------------------------------------------------------------------------- Leadership transfer

TEST_CASE("thesis §3.10 leadership transfer", "[unit]") {
  SimCluster c(24, {1, 2, 3}, no_leases());
  REQUIRE(elect(c, 1));
  commit(c, 1, "a");
  SECTION("to an up-to-date member") {
    c.transfer_leadership(1, 2);
    c.deliver_all();
    CHECK(c.leader() == NodeId{2});
  }
  SECTION("to a lagging member: it is caught up first") {
    c.isolate(3);
    for (int i = 0; i < 5; ++i) commit(c, 1, "v" + std::to_string(i));
    c.heal();
    c.transfer_leadership(1, 3);
    c.deliver_all();
    CHECK(c.leader() == NodeId{3});
    CHECK(c.acked("v4"));
  }
  SECTION("to a non-member: nothing happens") {
    c.transfer_leadership(1, 9);
    c.deliver_all();
    CHECK(c.leader() == NodeId{1});
    CHECK(c.node(1).lead_transferee() == kNone);
  }
  SECTION("to an unreachable member: abandoned after an election timeout") {
    c.isolate(3);
    c.transfer_leadership(1, 3);
    c.deliver_all();
    CHECK(c.node(1).lead_transferee() == 3);
    CHECK_FALSE(c.propose(1, "during-transfer"));  // proposals wait for the transfer
    for (int i = 0; i < 12; ++i) c.tick_node(1);
    CHECK(c.node(1).lead_transferee() == kNone);
    CHECK(c.leader() == NodeId{1});
    CHECK(c.propose(1, "after-abort"));
  }
  require_clean(c);
}

TEST_CASE("thesis §6.4 a follower and a learner serve linearizable reads through the leader",
          "[unit]") {
  SimCluster c(25, {1, 2, 3}, {});
  REQUIRE(elect(c, 1));
  commit(c, 1, "a");
  c.add_member(4);
  REQUIRE(c.propose_conf_change(1, ConfChange{ConfChangeType::add_learner, 4, {}}));
  c.deliver_all();
  heartbeats(c, 1, 2);
  c.read(2);
  c.deliver_all();
  CHECK(c.reads_served() == 1);
  c.read(4);
  c.deliver_all();
  CHECK(c.reads_served() == 2);
  require_clean(c);
}
