// commit_notices_test.cpp: a leader's commit-only appends wait for a message that carries the
// commit (then they are not sent), and go out as they were when none comes in time; nothing
// else is delayed, reordered or dropped.
#include "store/server/commit_notices.h"

#include "store/raft/node.h"

#include <catch2/catch.hpp>

#include <vector>

using mgmt::store::raft::kCommitOnlyContext;
using mgmt::store::raft::Message;
using mgmt::store::raft::MessageType;
using mgmt::store::server::CommitNotices;
using namespace std::chrono_literals;

namespace {

struct Recorder : mgmt::store::raft::Transport {
  std::vector<Message> sent;
  void send(Message m) override { sent.push_back(std::move(m)); }
};

Message notice(uint64_t to, uint64_t commit, uint64_t term = 2) {
  return Message{.type = MessageType::append, .to = to, .term = term, .index = commit,
                 .commit = commit, .context = kCommitOnlyContext};
}

Message append(uint64_t to, uint64_t commit, uint64_t term = 2) {
  Message m{.type = MessageType::append, .to = to, .term = term, .index = commit, .commit = commit};
  m.entries.resize(1);
  return m;
}

}  // namespace

TEST_CASE("commit notices: an append that carries the commit replaces the notice held",
          "[notices]") {
  Recorder out;
  CommitNotices notices(out, 1h);
  notices.send(notice(2, 10));
  notices.send(notice(3, 10));
  CHECK(out.sent.empty());
  notices.send(append(2, 10));  // peer 2's next message carries commit 10: no notice
  REQUIRE(out.sent.size() == 1);
  CHECK_FALSE(out.sent[0].entries.empty());
  Message beat{.type = MessageType::heartbeat, .to = 3, .term = 2, .commit = 11};
  notices.send(beat);  // so does a heartbeat with a commit at least as high
  REQUIRE(out.sent.size() == 2);
  CHECK(out.sent[1].type == MessageType::heartbeat);
  CHECK_FALSE(notices.flush(std::chrono::steady_clock::now() + 2h));  // nothing was left held
  CHECK(out.sent.size() == 2);
}

TEST_CASE("commit notices: a notice no message replaces goes out when its delay passes",
          "[notices]") {
  Recorder out;
  CommitNotices notices(out, 1ms);
  const auto start = std::chrono::steady_clock::now();
  notices.send(notice(2, 10));
  notices.send(notice(2, 11));  // a newer commit replaces the older notice, keeping its time
  auto due = notices.flush(start);
  REQUIRE(due);
  CHECK(*due <= start + 1ms + 100ms);
  CHECK(out.sent.empty());
  CHECK_FALSE(notices.flush(*due));
  REQUIRE(out.sent.size() == 1);
  CHECK(out.sent[0].commit == 11);
  CHECK(out.sent[0].context == kCommitOnlyContext);
}

TEST_CASE("commit notices: a message that does not carry the commit goes after the notice",
          "[notices]") {
  Recorder out;
  CommitNotices notices(out, 1h);
  notices.send(notice(2, 10));
  Message vote{.type = MessageType::vote, .to = 2, .term = 3};
  notices.send(vote);  // not an append: the notice first, in order
  REQUIRE(out.sent.size() == 2);
  CHECK(out.sent[0].context == kCommitOnlyContext);
  CHECK(out.sent[1].type == MessageType::vote);

  notices.send(notice(2, 10));
  notices.send(append(2, 10, 3));  // another term: does not stand for the notice
  REQUIRE(out.sent.size() == 4);
  CHECK(out.sent[2].context == kCommitOnlyContext);
  CHECK(out.sent[3].term == 3);

  notices.send(notice(2, 12));
  Message beat{.type = MessageType::heartbeat, .to = 2, .term = 2, .commit = 9};
  notices.send(beat);  // a heartbeat with a lower commit (a follower behind) does not either
  REQUIRE(out.sent.size() == 6);
  CHECK(out.sent[4].commit == 12);
  CHECK(out.sent[5].type == MessageType::heartbeat);

  notices.send(notice(2, 12));
  notices.send(notice(2, 13, 3));  // a notice of another term sends the older one first
  REQUIRE(out.sent.size() == 7);
  CHECK(out.sent[6].commit == 12);
}

TEST_CASE("commit notices: a commit-now notice (to a follower waiting for its own write) goes "
          "out at once, after any notice held for that peer", "[notices]") {
  Recorder out;
  CommitNotices notices(out, 1h);
  notices.send(notice(2, 9));
  Message now = notice(2, 10);
  now.context = mgmt::store::raft::kCommitNowContext;
  notices.send(now);
  REQUIRE(out.sent.size() == 1);  // it carries commit 10: the held notice for 9 is not needed
  CHECK(out.sent[0].context == mgmt::store::raft::kCommitNowContext);
  CHECK(out.sent[0].commit == 10);
  CHECK_FALSE(notices.flush(std::chrono::steady_clock::now() + 2h));
}
