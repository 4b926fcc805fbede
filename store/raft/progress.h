// progress.h: what a leader knows of each member's log (match/next), the flow control that
// paces appends to it (probe, replicate with a bounded in-flight window, snapshot), and the
// tracker that counts votes, quorum commits and quorum activity over the current membership.
// Invariants: match < next; in Replicate the in-flight window holds increasing last indexes;
// only voters count for quorums (learners never do); ids are iterated in ascending order.
#pragma once

#include "store/raft/types.h"

#include <cstdint>
#include <deque>
#include <map>

namespace mgmt::store::raft {

enum class ProgressState : uint8_t { probe = 0, replicate = 1, snapshot = 2 };
const char* to_string(ProgressState state);

struct Progress {
  uint64_t match = 0;
  uint64_t next = 1;
  ProgressState state = ProgressState::probe;
  bool probe_sent = false;       // probe: one append is out, wait for its answer or a heartbeat
  uint64_t pending_snapshot = 0;  // snapshot: index of the snapshot being sent
  uint64_t snapshot_ticks = 0;    // snapshot: heartbeats spent waiting (gives up after a bound)
  bool recent_active = false;     // heard from since the last quorum check
  uint64_t last_heard = 0;        // leader's tick count when last heard from (0: never)
  bool is_learner = false;
  std::deque<uint64_t> inflight;  // replicate: last index of each append not yet acknowledged
  uint64_t max_inflight = 256;

  void reset(ProgressState s);
  void become_probe();
  void become_replicate();
  void become_snapshot(uint64_t snapshot_index);
  // An acknowledgement up to n; true when it moved match forward.
  bool maybe_update(uint64_t n);
  void optimistic_update(uint64_t n) { next = n + 1; }
  // A rejection of the append after `rejected`; match_hint is where the follower suggests to
  // retry. False when the rejection is stale.
  bool maybe_decrease_to(uint64_t rejected, uint64_t match_hint);
  bool is_paused() const;
  bool inflight_full() const { return inflight.size() >= max_inflight; }
  void free_inflight_up_to(uint64_t index);
};

enum class VoteResult : uint8_t { pending = 0, won = 1, lost = 2 };

class ProgressTracker {
 public:
  ConfState conf_state() const;
  bool is_voter(NodeId id) const { return voters_.count(id) != 0; }
  bool is_learner(NodeId id) const { return learners_.count(id) != 0; }
  bool contains(NodeId id) const { return progress_.count(id) != 0; }
  const std::set<NodeId>& voters() const { return voters_; }
  const std::set<NodeId>& learners() const { return learners_; }
  size_t quorum() const { return voters_.size() / 2 + 1; }

  std::map<NodeId, Progress>& progress() { return progress_; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }
  Progress* find(NodeId id);

  // Membership edits; new members start probing at next_index.
  void set_conf(const ConfState& cs, uint64_t next_index, uint64_t max_inflight);
  void add_voter(NodeId id, uint64_t next_index, uint64_t max_inflight);
  void add_learner(NodeId id, uint64_t next_index, uint64_t max_inflight);
  void remove(NodeId id);

  // The largest index a quorum of voters has matched (0 with no voters).
  uint64_t committed() const;
  // Whether a quorum of voters was active; then clears every recent_active except self's.
  bool quorum_active(NodeId self);

  void reset_votes() { votes_.clear(); }
  void record_vote(NodeId id, bool granted);
  VoteResult tally() const;

 private:
  std::set<NodeId> voters_;
  std::set<NodeId> learners_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
};

}  // namespace mgmt::store::raft
