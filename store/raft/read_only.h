// read_only.h: the leader's queue of linearizable read requests (ReadIndex, Raft thesis §6.4).
// A request is recorded with the commit index at arrival; it may be answered once a quorum of
// voters acknowledged a heartbeat sent after it (proving this node was still leader then).
// Invariants: requests are answered in arrival order; answering one answers all before it.
#pragma once

#include "store/raft/types.h"

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace mgmt::store::raft {

enum class ReadOnlyOption : uint8_t {
  safe = 0,         // confirm leadership with a heartbeat round (the default)
  // Answer at once while a quorum answered within the last election_tick/2 ticks (no follower
  // can have voted for anyone else since), else fall back to safe. Relies on bounded message
  // delay and no long pauses of the leader's process: safe is the default for that reason.
  lease_based = 1,
};

struct ReadIndexStatus {
  Message request;
  uint64_t index = 0;
  std::set<NodeId> acks;
};

class ReadOnly {
 public:
  void add_request(uint64_t index, const Message& m);
  // Records an ack for the request `context`; returns how many voters in `voters` acked it.
  size_t recv_ack(NodeId from, const std::string& context, const std::set<NodeId>& voters);
  // Pops and returns every request up to and including `context`.
  std::vector<ReadIndexStatus> advance(const std::string& context);
  // The newest pending request's context ("" when none).
  std::string last_pending() const { return queue_.empty() ? std::string() : queue_.back(); }
  size_t pending() const { return queue_.size(); }
  void reset() {
    pending_.clear();
    queue_.clear();
  }

 private:
  std::map<std::string, ReadIndexStatus> pending_;
  std::deque<std::string> queue_;
};

}  // namespace mgmt::store::raft
