// read_batcher.h: linearizable reads share ReadIndex rounds, as etcd's linearizableReadLoop.
// Every read waits for a ReadIndex (a quorum round of heartbeats) issued after it arrived; one
// round answers every read that arrived before it was issued. So the reads that arrive while a
// round is in flight wait together and go in the next round, one round at a time: a heartbeat
// broadcast per batch, not per read (before: one per read, each member answering each).
// Invariants: at most one round in flight; a read is in exactly one place (waiting or the round
// in flight) until answered or given up; a round not answered within `patience` ticks (a lost
// message, a leader change) is given up and its reads go to the front of the next one.
// Pure logic on the Raft thread (RaftHost): no locks, no clock but tick().
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace mgmt::store::server {

class ReadBatcher {
 public:
  // `prefix` makes the rounds' contexts unique across members (the leader keys reads by it).
  ReadBatcher(std::string prefix, uint64_t patience_ticks)
      : prefix_(std::move(prefix)), patience_(patience_ticks) {}

  // A read arrived (its own context, unique on this member).
  void add(std::string read) { waiting_.push_back(std::move(read)); }

  // The context of a new round to issue now, or nothing (none waiting, or one in flight). The
  // waiting reads belong to that round from now on.
  std::optional<std::string> next_round();

  // A round's answer: the reads it answers (none if `round` is not the one in flight: a round
  // given up, or another member's).
  std::vector<std::string> answered(const std::string& round);

  // One tick passed: gives up the round in flight once it waited `patience` ticks.
  void tick();

  // Gives up the round in flight now (the leader changed: its answer may never come).
  void retry();

  bool in_flight() const { return round_.has_value(); }
  std::size_t waiting() const { return waiting_.size(); }

 private:
  struct Round {
    std::string context;
    std::vector<std::string> reads;
    uint64_t age = 0;  // ticks
  };

  std::string prefix_;
  uint64_t patience_;
  uint64_t next_ = 1;
  std::deque<std::string> waiting_;
  std::optional<Round> round_;
};

}  // namespace mgmt::store::server
