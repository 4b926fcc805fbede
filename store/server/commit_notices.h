// commit_notices.h: a leader's commit-only appends wait a moment for a message that carries the
// commit anyway. After each commit the Raft core tells every follower that holds the whole log
// the new commit index in an append of its own (context kCommitOnlyContext, node.h), as etcd's
// does. Under a steady stream of writes the next append follows within a fraction of a
// millisecond and carries the same commit: the notice then cost the leader a send, and each
// follower a receive and a Ready round of its own (a storage write, an apply) for nothing.
// So a notice is held up to `delay`; an append or heartbeat to the same peer, of the same term
// and with a commit at least as high, replaces it; anything else to that peer sends it first
// (order kept); when the delay passes it is sent as it was. Commit propagation is liveness
// only (a follower's commit index is a hint until the leader's next message), so a follower
// learns a commit at most `delay` later, and nothing of safety changes.
// Threading: none; the Raft thread sends through it and flushes it.
#pragma once

#include "store/raft/driver.h"

#include <chrono>
#include <map>
#include <optional>

namespace mgmt::store::server {

class CommitNotices : public raft::Transport {
 public:
  using Clock = std::chrono::steady_clock;

  CommitNotices(raft::Transport& next, Clock::duration delay) : next_(next), delay_(delay) {}

  void send(raft::Message m) override;
  void dispatch() override { next_.dispatch(); }

  // Sends (and dispatches) the notices whose delay passed by `now`; returns when the next one
  // held falls due.
  std::optional<Clock::time_point> flush(Clock::time_point now);

 private:
  struct Held {
    raft::Message notice;
    Clock::time_point due;
  };

  raft::Transport& next_;
  Clock::duration delay_;
  std::map<raft::NodeId, Held> held_;  // per peer, at most one
};

}  // namespace mgmt::store::server
