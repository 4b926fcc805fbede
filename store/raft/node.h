// node.h: the Raft core, a pure state machine (etcd-io/raft's raft + RawNode in one object).
// Inputs: tick(), step(message), propose(), propose_conf_change(), read_index(),
// transfer_leadership(). Output: a Ready batch (state to persist, messages to send, entries to
// apply), acknowledged by advance(). No threads, clocks, sockets or disk: given the same inputs
// and seed it produces the same outputs, so the simulator can replay any run.
//
// Algorithm: elections with pre-vote and check-quorum; log replication with probe/replicate flow
// control and in-flight limits; fast rejection hints; commit only by counting replicas of a
// current-term entry (Figure 8); snapshots; one-at-a-time membership changes with learners,
// applied when the change entry is applied (a leader proposes a change only after it applied
// every entry up to its election, so two changes never overlap); leadership transfer; ReadIndex.
// A leader counts its own log towards a commit only once the driver has persisted it.
// docs/raft.md explains the choices.
//
// Invariants (checked by check_invariants()): applied <= committed <= last index; a node's term
// is at least its last log term; a leader's lead is itself.
#pragma once

#include "common/result.h"
#include "store/raft/progress.h"
#include "store/raft/raft_log.h"
#include "store/raft/random.h"
#include "store/raft/read_only.h"

#include <map>
#include <memory>

namespace mgmt::store::raft {

struct Config {
  NodeId id = kNone;
  uint64_t election_tick = 10;   // a follower campaigns after [election_tick, 2*election_tick)
  uint64_t heartbeat_tick = 1;   // a leader sends heartbeats every heartbeat_tick ticks
  uint64_t seed = 0;             // seeds the randomized election timeout
  uint64_t max_size_per_msg = 1 << 20;
  uint64_t max_committed_size_per_ready = 4 << 20;
  uint64_t max_inflight = 256;
  bool check_quorum = true;
  bool pre_vote = true;
  ReadOnlyOption read_only = ReadOnlyOption::safe;
  // A snapshot send not acknowledged within this many heartbeats is considered lost.
  uint64_t snapshot_timeout_heartbeats = 30;
  // The state machine's applied index at a restart (etcd's Config.Applied). Only committed
  // entries are applied, so the commit index starts at least there (or at the log's last
  // entry, if the state is ahead of the log): the stored one may be older, since a commit
  // index that moved alone is not written (driver.h). The membership changes up to it are
  // then taken up again before the node may campaign.
  uint64_t applied = 0;
};

inline constexpr const char* kTransferContext = "transfer";
// The highest term, and the highest log index, a node takes from a peer's message (more is
// refused): no cluster reaches them, and below them the node's own term + 1 and last index + 1
// never overflow.
inline constexpr uint64_t kMaxTerm = uint64_t{1} << 63;
inline constexpr uint64_t kMaxIndex = uint64_t{1} << 63;
// The context of an append that carries no entries, only a new commit index, to a follower known
// to hold the whole log: accepted, it needs no answer (the leader learns nothing from one), which
// saves a message each way per commit. A rejection is still answered. Members that do not know
// this context answer as before.
inline constexpr const char* kCommitOnlyContext = "commit";
// The same, to a follower waiting for it: the commit covers entries it proposed (its clients'
// writes, which it answers once it applied them). A transport sends it at once, where it may
// hold a kCommitOnlyContext one for the next message that carries the commit anyway.
inline constexpr const char* kCommitNowContext = "commit-now";

class Node {
 public:
  // Restores term, vote, commit and membership from storage. Errors on a bad config.
  static Result<std::unique_ptr<Node>> create(const Config& config, const LogStore& storage);

  void tick();
  // A message from a peer, or a local one (hup, beat, ...). Errors only for proposals that
  // were dropped (no leader, transfer in progress, removed).
  Result<void> step(Message m);
  void campaign();
  // The index the data was appended at when this node leads; 0 when forwarded to the leader.
  Result<uint64_t> propose(std::string data);
  Result<uint64_t> propose_conf_change(const ConfChange& change);
  // Answered through Ready::read_states with the same context (dropped when there is no leader).
  void read_index(std::string context);
  void transfer_leadership(NodeId to);
  void report_unreachable(NodeId peer);
  void report_snapshot(NodeId peer, bool succeeded);

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& rd);

  NodeId id() const { return id_; }
  uint64_t term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId lead() const { return lead_; }
  Role role() const { return role_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  uint64_t pending_conf_index() const { return pending_conf_index_; }
  const RaftLog& log() const { return log_; }
  const ProgressTracker& tracker() const { return tracker_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  SoftState soft_state() const { return SoftState{lead_, role_}; }
  bool promotable() const;
  uint64_t election_elapsed() const { return election_elapsed_; }

 private:
  Node(const Config& config, const LogStore& storage);

  void send(Message m);
  void become_follower(uint64_t term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(uint64_t term);
  void reset_randomized_election_timeout();
  void hup(bool transfer);
  void start_campaign(bool pre, bool transfer);
  bool past_election_timeout() const { return election_elapsed_ >= randomized_timeout_; }
  void tick_election();
  void tick_heartbeat();

  Result<void> step_leader(Message& m);
  Result<void> step_candidate(Message& m);
  Result<void> step_follower(Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  bool restore(const Snapshot& s);
  void handle_read_index(const Message& m);
  void respond_read(const Message& req, uint64_t index);
  bool committed_entry_in_current_term() const;
  bool lease_valid() const;

  uint64_t append_entries(std::vector<Entry> ents);
  bool send_append(NodeId to, bool send_if_empty = true);
  void bcast_append();
  void bcast_heartbeat(const std::string& context);
  void send_heartbeat(NodeId to, const std::string& context);
  // A read round's heartbeats: to just enough voters to make a quorum with this leader.
  void send_read_round(const std::string& context);
  bool maybe_commit();
  void abort_leader_transfer() { lead_transferee_ = kNone; }
  bool has_unapplied_conf_change() const;
  void apply_conf_change(const ConfChange& cc);

  Config config_;
  NodeId id_;
  RaftLog log_;
  ProgressTracker tracker_;
  Random rng_;
  ReadOnly read_only_;
  uint64_t term_ = 0;
  NodeId vote_ = kNone;
  NodeId lead_ = kNone;
  Role role_ = Role::follower;
  NodeId lead_transferee_ = kNone;
  uint64_t pending_conf_index_ = 0;
  uint64_t election_elapsed_ = 0;
  uint64_t heartbeat_elapsed_ = 0;
  uint64_t leader_ticks_ = 1;  // a leader's clock for read leases (ticks since it took office)
  uint64_t randomized_timeout_ = 0;
  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;
  std::vector<Message> pending_reads_;  // read requests before the first commit in this term
  // Leader: per follower, the last index of the entries it proposed whose commit it was not
  // told yet (kCommitNowContext).
  std::map<NodeId, uint64_t> proposed_by_;
  NodeId first_reader_ = kNone;  // the voter whose ack completed the last read round
  HardState prev_hard_state_;
  SoftState prev_soft_state_;
  bool ready_outstanding_ = false;
};

}  // namespace mgmt::store::raft
