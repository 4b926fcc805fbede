// node_fuzzer.cpp: a libFuzzer target for the Raft core facing peers that lie. Anything that
// reaches a member's peer port can send it messages that decode (codec_fuzzer.cpp covers the
// bytes that do not): terms, indexes and commits from nowhere, entries that contradict the log,
// snapshots below what is committed, responses to requests never sent. The core must take them
// without crashing, looping or allocating without bound, and without breaking what it
// promised its own state machine:
//   - the commit index never goes back, nor does the term;
//   - an entry once committed is never replaced by another (a different term at its index);
//   - every committed entry handed to apply is the next index after the last one applied.
// A lying peer may still make a correct core do wrong things the Raft paper allows (a false
// leader can commit entries that a real quorum never saw); those are not checked here.
// Input: FuzzedDataProvider choices. Each input starts a member (id 1 of voters 1, 2, 3, or of
// five; with or without pre-vote, check-quorum and lease reads) on a log of 6 entries with 4
// committed, optionally makes it the leader, then runs up to 64 actions: a message from a
// peer (its fields mostly near the member's own term and indexes, sometimes anything), ticks,
// a proposal, a read index. Each Ready is persisted as the driver does (snapshot, entries,
// hard state), then acknowledged.
// NODE_FUZZER_TRACE=1 prints each message and the hard states (to read a crash's input).
// Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh.
#include "store/raft/codec.h"
#include "store/raft/memory_log_store.h"
#include "store/raft/node.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

namespace {

using namespace mgmt::store::raft;

void broken(const char* what) {
  std::fprintf(stderr, "node_fuzzer: broken: %s\n", what);
  std::abort();
}

class Member {
 public:
  // `options`: which of Raft's options the member runs with (pre-vote, check-quorum, lease
  // reads), and whether it has five voters rather than three.
  explicit Member(uint8_t options) {
    if (options & 8) {
      store_.set_conf_state(ConfState{{1, 2, 3, 4, 5}, {}});
    } else {
      store_.set_conf_state(ConfState{{1, 2, 3}, {}});
    }
    std::vector<Entry> ents;
    const uint64_t terms[] = {1, 1, 2, 2, 3, 3};
    for (uint64_t i = 0; i < 6; ++i) {
      ents.push_back(Entry{terms[i], i + 1, EntryType::normal, "e" + std::to_string(i + 1)});
    }
    store_.append(ents);
    store_.set_hard_state(HardState{3, kNone, 4});
    Config config;
    config.id = 1;
    config.seed = 1;
    config.pre_vote = (options & 1) == 0;
    config.check_quorum = (options & 2) == 0;
    config.read_only = (options & 4) ? ReadOnlyOption::lease_based : ReadOnlyOption::safe;
    auto node = Node::create(config, store_);
    if (!node) broken("the member does not start");
    node_ = std::move(*node);
    for (uint64_t i = 1; i <= 4; ++i) committed_[i] = terms[i - 1];
    applied_ = 0;
    commit_ = 4;
    term_ = 3;
  }

  Node& node() { return *node_; }

  // Persists and acknowledges every Ready, as the driver does, checking the promises above.
  void drain() {
    for (int round = 0; round < 16 && node_->has_ready(); ++round) {
      Ready rd = node_->ready();
      if (rd.snapshot) {
        if (rd.snapshot->meta.index < commit_) broken("a snapshot below the commit index");
        store_.apply_snapshot(*rd.snapshot);
        applied_ = rd.snapshot->meta.index;
      }
      store_.append(rd.entries);
      if (rd.hard_state) {
        if (rd.hard_state->commit < commit_) broken("the commit index went back");
        if (std::getenv("NODE_FUZZER_TRACE")) {
          std::fprintf(stderr, "hard state term %lu vote %lu commit %lu\n",
                       (unsigned long)rd.hard_state->term, (unsigned long)rd.hard_state->vote,
                       (unsigned long)rd.hard_state->commit);
        }
        if (rd.hard_state->term < term_) broken("the term went back");
        commit_ = rd.hard_state->commit;
        term_ = rd.hard_state->term;
        store_.set_hard_state(*rd.hard_state);
      }
      for (const Entry& e : rd.committed_entries) {
        if (e.index != applied_ + 1) broken("committed entries out of order");
        applied_ = e.index;
        auto [it, fresh] = committed_.emplace(e.index, e.term);
        if (!fresh && it->second != e.term) broken("a committed entry was replaced");
      }
      node_->advance(rd);
    }
    // What the log holds at committed indexes is what was committed there.
    for (const auto& [index, term] : committed_) {
      if (index < store_.first_index() || index > store_.last_index()) continue;
      auto t = store_.term(index);
      if (t && *t != term) broken("a committed entry was replaced in the log");
    }
  }

 private:
  MemoryLogStore store_;
  std::unique_ptr<Node> node_;
  std::map<uint64_t, uint64_t> committed_;  // index -> term
  uint64_t applied_ = 0;
  uint64_t commit_ = 0;
  uint64_t term_ = 0;
};

// Near a reference value most of the time, anything now and then.
uint64_t near(FuzzedDataProvider& in, uint64_t reference) {
  if (in.ConsumeIntegralInRange<int>(0, 9) == 0) return in.ConsumeIntegral<uint64_t>();
  const int delta = in.ConsumeIntegralInRange<int>(-3, 3);
  if (delta < 0 && reference < static_cast<uint64_t>(-delta)) return 0;
  return reference + static_cast<uint64_t>(static_cast<int64_t>(delta));
}

Message message(FuzzedDataProvider& in, Node& node) {
  Message m;
  m.type = static_cast<MessageType>(in.ConsumeIntegralInRange<uint8_t>(0, 18));
  m.to = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? in.ConsumeIntegralInRange<NodeId>(0, 5) : 1;
  m.from = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? in.ConsumeIntegralInRange<NodeId>(0, 5)
                                                       : in.ConsumeIntegralInRange<NodeId>(2, 5);
  const uint64_t last = node.log().last_index();
  m.term = near(in, node.term());
  m.log_term = near(in, node.log().term_or_zero(last));
  m.index = near(in, last);
  m.commit = near(in, node.log().committed());
  m.reject = in.ConsumeBool();
  m.reject_hint = near(in, last);
  const int entries = in.ConsumeIntegralInRange<int>(0, 4);
  uint64_t index = m.index;
  for (int i = 0; i < entries; ++i) {
    index = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? near(in, index) : index + 1;
    Entry e;
    e.term = near(in, m.term);
    e.index = index;
    if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
      // A membership change as a leader writes it (one that does not decode, committed, is a
      // broken log: the member stops, by design).
      e.type = EntryType::conf_change;
      e.data = codec::encode(ConfChange{
          static_cast<ConfChangeType>(in.ConsumeIntegralInRange<uint8_t>(0, 2)),
          in.ConsumeIntegralInRange<NodeId>(1, 5), in.ConsumeRandomLengthString(8)});
    } else {
      e.type = EntryType::normal;
      e.data = in.ConsumeRandomLengthString(16);
    }
    m.entries.push_back(std::move(e));
  }
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
    Snapshot s;
    s.meta.index = near(in, last);
    s.meta.term = near(in, m.term);
    for (NodeId id = 1; id <= 4; ++id) {
      if (in.ConsumeBool()) s.meta.conf_state.voters.insert(id);
    }
    s.data = in.ConsumeRandomLengthString(16);
    m.snapshot = std::move(s);
  }
  if (in.ConsumeBool()) m.context = in.ConsumeBool() ? kCommitOnlyContext : kTransferContext;
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Member member(in.ConsumeIntegral<uint8_t>());
  Node& node = member.node();
  if (in.ConsumeBool()) {
    // Leader first: elected by the votes of members 2 and 3, so that the leader's paths are
    // reached too.
    node.campaign();
    member.drain();
    for (MessageType type : {MessageType::pre_vote_response, MessageType::vote_response}) {
      for (NodeId from : {NodeId{2}, NodeId{3}}) {
        Message grant;
        grant.type = type;
        grant.to = 1;
        grant.from = from;
        grant.term = type == MessageType::pre_vote_response ? node.term() + 1 : node.term();
        (void)node.step(grant);
        member.drain();
      }
    }
  }
  for (int step = 0; step < 64 && in.remaining_bytes() > 0; ++step) {
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
        for (int t = in.ConsumeIntegralInRange<int>(1, 12); t > 0; --t) node.tick();
        break;
      case 1:
        (void)node.propose(in.ConsumeRandomLengthString(16));
        break;
      case 2:
        node.read_index(in.ConsumeRandomLengthString(8));
        break;
      default:
        {
          Message m = message(in, node);
          if (std::getenv("NODE_FUZZER_TRACE")) {
            std::fprintf(stderr, "step %s from %lu term %lu index %lu log_term %lu commit %lu "
                         "entries %zu snapshot %d reject %d\n", to_string(m.type),
                         (unsigned long)m.from, (unsigned long)m.term, (unsigned long)m.index,
                         (unsigned long)m.log_term, (unsigned long)m.commit, m.entries.size(),
                         m.snapshot ? 1 : 0, m.reject ? 1 : 0);
          }
          auto r = node.step(m);
          if (std::getenv("NODE_FUZZER_TRACE") && !r) {
            std::fprintf(stderr, "  refused: %s\n", r.error().message().c_str());
          }
          if (std::getenv("NODE_FUZZER_TRACE")) {
            std::fprintf(stderr, "  now term %lu, %s\n", (unsigned long)node.term(),
                         to_string(node.role()));
          }
        }
        break;
    }
    member.drain();
  }
  return 0;
}
