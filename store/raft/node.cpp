// node.cpp: see node.h. Section numbers cite the Raft paper (Ongaro & Ousterhout, 2014) and the
// thesis (Ongaro, 2014) where a rule comes from.
#include "store/raft/node.h"

#include "common/assert.h"
#include "store/raft/codec.h"

#include <algorithm>

namespace mgmt::store::raft {
namespace {

MessageType response_to(MessageType t) {
  return t == MessageType::pre_vote ? MessageType::pre_vote_response : MessageType::vote_response;
}

}  // namespace

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::hup: return "hup";
    case MessageType::beat: return "beat";
    case MessageType::propose: return "propose";
    case MessageType::append: return "append";
    case MessageType::append_response: return "append_response";
    case MessageType::vote: return "vote";
    case MessageType::vote_response: return "vote_response";
    case MessageType::snapshot: return "snapshot";
    case MessageType::heartbeat: return "heartbeat";
    case MessageType::heartbeat_response: return "heartbeat_response";
    case MessageType::unreachable: return "unreachable";
    case MessageType::snapshot_status: return "snapshot_status";
    case MessageType::check_quorum: return "check_quorum";
    case MessageType::transfer_leader: return "transfer_leader";
    case MessageType::timeout_now: return "timeout_now";
    case MessageType::read_index: return "read_index";
    case MessageType::read_index_response: return "read_index_response";
    case MessageType::pre_vote: return "pre_vote";
    case MessageType::pre_vote_response: return "pre_vote_response";
  }
  return "?";
}

bool is_local(MessageType t) {
  return t == MessageType::hup || t == MessageType::beat || t == MessageType::unreachable ||
         t == MessageType::snapshot_status || t == MessageType::check_quorum;
}

bool is_response(MessageType t) {
  return t == MessageType::append_response || t == MessageType::vote_response ||
         t == MessageType::heartbeat_response || t == MessageType::unreachable ||
         t == MessageType::pre_vote_response || t == MessageType::read_index_response;
}

const char* to_string(Role role) {
  switch (role) {
    case Role::follower: return "follower";
    case Role::pre_candidate: return "pre-candidate";
    case Role::candidate: return "candidate";
    case Role::leader: return "leader";
  }
  return "?";
}

Result<std::unique_ptr<Node>> Node::create(const Config& config, const LogStore& storage) {
  if (config.id == kNone) return fail(Code::invalid_argument, "raft: node id 0 is reserved");
  if (config.heartbeat_tick == 0) {
    return fail(Code::invalid_argument, "raft: heartbeat tick must be at least 1");
  }
  if (config.election_tick <= config.heartbeat_tick) {
    return fail(Code::invalid_argument, "raft: election tick must exceed the heartbeat tick");
  }
  if (config.max_inflight == 0) return fail(Code::invalid_argument, "raft: max inflight is 0");
  const InitialState is = storage.initial_state();
  // Below the log's first entry it is only old: what a snapshot holds is committed (a commit
  // index that moved alone is not written, so a compaction may pass the stored one).
  if (is.hard_state.commit > storage.last_index()) {
    return fail(Code::data_loss, "raft: stored commit index " +
                                     std::to_string(is.hard_state.commit) +
                                     " is outside the stored log [" +
                                     std::to_string(storage.first_index()) + ", " +
                                     std::to_string(storage.last_index()) + "]");
  }
  return std::unique_ptr<Node>(new Node(config, storage));
}

Node::Node(const Config& config, const LogStore& storage)
    : config_(config), id_(config.id), log_(storage, config.max_committed_size_per_ready),
      rng_(config.seed ^ (config.id * 0x9e3779b97f4a7c15ULL)) {
  const InitialState is = storage.initial_state();
  tracker_.set_conf(is.conf_state, log_.last_index() + 1, config_.max_inflight);
  term_ = is.hard_state.term;
  vote_ = is.hard_state.vote;
  // The log starts committed at its snapshot. The state may be ahead of the log (a crash after
  // a snapshot's state was installed and before the log recorded it): the leader sends that
  // snapshot again.
  log_.commit_to(std::max(is.hard_state.commit, std::min(config.applied, log_.last_index())));
  // Entries and hard state are saved in one atomic write, so the log never holds a term newer
  // than the stored term; guard anyway: such a term was learned from a leader, not voted in.
  if (log_.last_term() > term_) {
    term_ = log_.last_term();
    vote_ = kNone;
  }
  become_follower(term_, kNone);
  prev_hard_state_ = is.hard_state;
  prev_soft_state_ = soft_state();
}

// ---------------------------------------------------------------------------------------------
// Roles (§5.2)

void Node::reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNone;
  }
  lead_ = kNone;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  tracker_.reset_votes();
  const uint64_t last = log_.last_index();
  for (auto& [id, pr] : tracker_.progress()) {
    Progress fresh;
    fresh.is_learner = pr.is_learner;
    fresh.max_inflight = config_.max_inflight;
    fresh.next = last + 1;
    if (id == id_) fresh.match = log_.last_stable_index();
    pr = std::move(fresh);
  }
  pending_conf_index_ = 0;
  read_only_.reset();
  pending_reads_.clear();
  proposed_by_.clear();
}

void Node::reset_randomized_election_timeout() {
  randomized_timeout_ = config_.election_tick + rng_.below(config_.election_tick);
}

void Node::become_follower(uint64_t term, NodeId lead) {
  reset(term);
  lead_ = lead;
  role_ = Role::follower;
}

void Node::become_pre_candidate() {
  MGMT_ASSERT_MSG(role_ != Role::leader, "raft: leader cannot become pre-candidate");
  // A pre-candidate keeps its term and vote (thesis §9.6): it only asks whether it could win.
  tracker_.reset_votes();
  lead_ = kNone;
  role_ = Role::pre_candidate;
}

void Node::become_candidate() {
  MGMT_ASSERT_MSG(role_ != Role::leader, "raft: leader cannot become candidate");
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::candidate;
}

void Node::become_leader() {
  MGMT_ASSERT_MSG(role_ == Role::candidate || role_ == Role::pre_candidate,
                  "raft: only a candidate becomes leader");
  reset(term_);
  lead_ = id_;
  role_ = Role::leader;
  leader_ticks_ = 1;
  if (Progress* self = tracker_.find(id_)) self->become_replicate();
  // No membership change until everything before this term is applied (thesis §4.1 bug fix:
  // the new leader must commit an entry of its own term first).
  pending_conf_index_ = log_.last_index();
  append_entries({Entry{}});
}

bool Node::promotable() const {
  return tracker_.is_voter(id_) && !log_.unstable_snapshot().has_value();
}

// ---------------------------------------------------------------------------------------------
// Time

void Node::tick() {
  if (role_ == Role::leader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Node::tick_election() {
  ++election_elapsed_;
  if (promotable() && past_election_timeout()) {
    election_elapsed_ = 0;
    (void)step(Message{.type = MessageType::hup, .from = id_});
  }
}

void Node::tick_heartbeat() {
  ++leader_ticks_;
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_tick) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      (void)step(Message{.type = MessageType::check_quorum, .from = id_});
    }
    // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
    if (role_ == Role::leader) abort_leader_transfer();
  }
  if (role_ != Role::leader) return;
  if (heartbeat_elapsed_ >= config_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    (void)step(Message{.type = MessageType::beat, .from = id_});
    // A snapshot send that was never acknowledged is treated as lost.
    for (auto& [id, pr] : tracker_.progress()) {
      if (pr.state == ProgressState::snapshot &&
          ++pr.snapshot_ticks > config_.snapshot_timeout_heartbeats) {
        pr.pending_snapshot = 0;
        pr.become_probe();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Elections (§5.2, §5.4.1, thesis §9.6 pre-vote)

void Node::campaign() { (void)step(Message{.type = MessageType::hup, .from = id_}); }

bool Node::has_unapplied_conf_change() const {
  if (log_.committed() <= log_.applied()) return false;
  const uint64_t lo = std::max(log_.applied() + 1, log_.first_index());
  if (lo > log_.committed()) return false;
  auto ents = log_.slice(lo, log_.committed() + 1, UINT64_MAX);
  if (!ents) return true;  // cannot tell: be conservative
  for (const Entry& e : *ents) {
    if (e.type == EntryType::conf_change) return true;
  }
  return false;
}

void Node::hup(bool transfer) {
  if (role_ == Role::leader) return;
  if (!promotable()) return;
  // A node that has not applied a committed membership change would campaign under a stale
  // membership; it waits until it applied it.
  if (has_unapplied_conf_change()) return;
  start_campaign(config_.pre_vote && !transfer, transfer);
}

void Node::start_campaign(bool pre, bool transfer) {
  uint64_t term;
  MessageType type;
  if (pre) {
    become_pre_candidate();
    type = MessageType::pre_vote;
    term = term_ + 1;
  } else {
    become_candidate();
    type = MessageType::vote;
    term = term_;
  }
  tracker_.record_vote(id_, true);
  if (tracker_.tally() == VoteResult::won) {
    if (pre) {
      start_campaign(false, transfer);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId peer : tracker_.voters()) {
    if (peer == id_) continue;
    send(Message{.type = type,
                 .to = peer,
                 .term = term,
                 .log_term = log_.last_term(),
                 .index = log_.last_index(),
                 .context = transfer ? kTransferContext : ""});
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

void Node::send(Message m) {
  if (m.type != MessageType::transfer_leader || m.from == kNone) m.from = id_;
  if (m.type == MessageType::vote || m.type == MessageType::vote_response ||
      m.type == MessageType::pre_vote || m.type == MessageType::pre_vote_response) {
    MGMT_ASSERT_MSG(m.term != 0, "raft: vote messages carry an explicit term");
  } else if (m.type != MessageType::propose && m.type != MessageType::read_index &&
             m.type != MessageType::transfer_leader) {
    // Proposals and reads forwarded to the leader are local to it: no term.
    m.term = term_;
  }
  msgs_.push_back(std::move(m));
}

// What a message from a peer must hold for the core to take it: the entries of an append are
// the ones after `index`, one by one, with terms that never fall and never pass the sender's.
// A leader always sends them so; anything else is damaged or forged, and would make the log
// replace committed entries or index past its own end.
static Result<void> check_entries(const Message& m) {
  if (m.entries.empty()) return ok();
  if (m.index >= kMaxIndex - m.entries.size()) {
    return fail(Code::invalid_argument, "raft: an append with entries beyond index 2^63");
  }
  uint64_t term = m.log_term;
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    const Entry& e = m.entries[i];
    if (e.index != m.index + 1 + i) {
      return fail(Code::invalid_argument,
                  "raft: an append whose entries do not follow its index one by one");
    }
    if (e.term < term || e.term > m.term) {
      return fail(Code::invalid_argument,
                  "raft: an append whose entry terms fall or pass the sender's term");
    }
    term = e.term;
  }
  return ok();
}

// A snapshot from a peer: at an index the log can go on from, from a term the sender has seen.
static Result<void> check_snapshot(const Message& m) {
  if (!m.snapshot) return ok();
  const SnapshotMeta& meta = m.snapshot->meta;
  if (meta.index >= kMaxIndex) {
    return fail(Code::invalid_argument, "raft: a snapshot beyond index 2^63");
  }
  if (meta.term > m.term) {
    return fail(Code::invalid_argument, "raft: a snapshot from a term past the sender's");
  }
  return ok();
}

Result<void> Node::step(Message m) {
  if (m.type == MessageType::append) {
    if (auto c = check_entries(m); !c) return c;
  }
  if (m.type == MessageType::snapshot) {
    if (auto c = check_snapshot(m); !c) return c;
  }
  if (m.term == 0) {
    // A local message, or a proposal, read or transfer forwarded to the leader. Any other
    // message carries its sender's term; without one it is damaged or forged, and taken as
    // local it would set this node's term to 0 (a candidate steps down to the sender's term)
    // or make it answer a vote with no term.
    if (!is_local(m.type) && m.type != MessageType::propose &&
        m.type != MessageType::read_index && m.type != MessageType::transfer_leader) {
      return fail(Code::invalid_argument,
                  std::string("raft: a ") + to_string(m.type) + " message without a term");
    }
  } else if (m.term > kMaxTerm) {
    // No cluster elects 2^63 times (one election a millisecond for 292 million years); taken,
    // such a term would overflow at this node's next campaign.
    return fail(Code::invalid_argument, "raft: a " + std::string(to_string(m.type)) +
                                            " message with a term beyond 2^63");
  } else if (m.term > term_) {
    if (m.type == MessageType::vote || m.type == MessageType::pre_vote) {
      const bool force = m.context == kTransferContext;
      const bool in_lease = config_.check_quorum && lead_ != kNone &&
                            election_elapsed_ < config_.election_tick;
      // Heard from a leader recently: ignore the disruptive candidate (thesis §4.2.3).
      if (!force && in_lease) return ok();
    }
    if (m.type == MessageType::pre_vote) {
      // never change term on a pre-vote request
    } else if (m.type == MessageType::pre_vote_response && !m.reject) {
      // a granted pre-vote carries the future term; the term moves when the real vote starts
    } else if (m.type == MessageType::append || m.type == MessageType::heartbeat ||
               m.type == MessageType::snapshot) {
      become_follower(m.term, m.from);
    } else {
      become_follower(m.term, kNone);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::heartbeat || m.type == MessageType::append)) {
      // A stale leader that cannot learn our term would stay leader forever behind pre-vote
      // and check-quorum; answering tells it to step down.
      send(Message{.type = MessageType::append_response, .to = m.from});
    } else if (m.type == MessageType::pre_vote) {
      send(Message{.type = MessageType::pre_vote_response, .to = m.from, .term = term_,
                   .reject = true});
    }
    return ok();  // stale: ignored (§5.1)
  }

  switch (m.type) {
    case MessageType::hup:
      hup(m.context == kTransferContext);
      return ok();
    case MessageType::vote:
    case MessageType::pre_vote: {
      const bool can_vote = vote_ == m.from || (vote_ == kNone && lead_ == kNone) ||
                            (m.type == MessageType::pre_vote && m.term > term_);
      if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {
        send(Message{.type = response_to(m.type), .to = m.from, .term = m.term});
        if (m.type == MessageType::vote) {
          election_elapsed_ = 0;
          vote_ = m.from;  // durable before the response leaves (Ready contract)
        }
      } else {
        send(Message{.type = response_to(m.type), .to = m.from, .term = term_, .reject = true});
      }
      return ok();
    }
    default:
      break;
  }
  switch (role_) {
    case Role::leader: return step_leader(m);
    case Role::candidate:
    case Role::pre_candidate: return step_candidate(m);
    case Role::follower: return step_follower(m);
  }
  return ok();
}

Result<void> Node::step_leader(Message& m) {
  switch (m.type) {
    case MessageType::beat:
      bcast_heartbeat(read_only_.last_pending());
      return ok();
    case MessageType::check_quorum:
      if (!tracker_.quorum_active(id_)) become_follower(term_, kNone);  // §6.2 step down
      return ok();
    case MessageType::propose: {
      if (m.entries.empty()) return fail(Code::invalid_argument, "raft: empty proposal");
      if (!tracker_.contains(id_)) {
        return fail(Code::unavailable, "raft: proposal dropped: this node was removed");
      }
      if (lead_transferee_ != kNone) {
        return fail(Code::unavailable, "raft: proposal dropped: leadership transfer to " +
                                           std::to_string(lead_transferee_) + " in progress");
      }
      for (Entry& e : m.entries) {
        if (e.type != EntryType::conf_change) continue;
        if (pending_conf_index_ > log_.applied()) {
          return fail(Code::failed_precondition,
                      "raft: a membership change is already in progress; retry once it applied");
        }
      }
      append_entries(std::move(m.entries));
      if (m.from != kNone && m.from != id_) proposed_by_[m.from] = log_.last_index();
      bcast_append();
      return ok();
    }
    case MessageType::read_index:
      handle_read_index(m);
      return ok();
    default:
      break;
  }

  Progress* pr = tracker_.find(m.from);
  if (pr == nullptr) return ok();
  if (is_response(m.type) && m.type != MessageType::unreachable) pr->last_heard = leader_ticks_;
  switch (m.type) {
    case MessageType::append_response: {
      pr->recent_active = true;
      if (m.reject) {
        uint64_t next_probe = m.reject_hint;
        if (m.log_term > 0) next_probe = log_.find_conflict_by_term(m.reject_hint, m.log_term);
        if (pr->maybe_decrease_to(m.index, next_probe)) {
          if (pr->state == ProgressState::replicate) pr->become_probe();
          send_append(m.from);
        }
        return ok();
      }
      const bool was_paused = pr->is_paused();
      if (pr->maybe_update(m.index)) {
        if (pr->state == ProgressState::probe) {
          pr->become_replicate();
        } else if (pr->state == ProgressState::snapshot && pr->match + 1 >= log_.first_index()) {
          pr->become_probe();
          pr->become_replicate();
        } else if (pr->state == ProgressState::replicate) {
          pr->free_inflight_up_to(m.index);
        }
        if (maybe_commit()) {
          bcast_append();
        } else if (was_paused) {
          send_append(m.from);
        }
        // Fill the in-flight window.
        while (tracker_.find(m.from) && send_append(m.from, false)) {
        }
        pr = tracker_.find(m.from);
        if (pr && m.from == lead_transferee_ && pr->match == log_.last_index()) {
          send(Message{.type = MessageType::timeout_now, .to = m.from});
        }
      }
      return ok();
    }
    case MessageType::heartbeat_response: {
      pr->recent_active = true;
      pr->probe_sent = false;
      if (pr->state == ProgressState::replicate && pr->inflight_full()) pr->inflight.pop_front();
      if (pr->match < log_.last_index()) send_append(m.from);
      if (m.context.empty()) return ok();
      if (read_only_.recv_ack(m.from, m.context, tracker_.voters()) < tracker_.quorum()) {
        return ok();
      }
      first_reader_ = m.from;
      for (ReadIndexStatus& rs : read_only_.advance(m.context)) respond_read(rs.request, rs.index);
      return ok();
    }
    case MessageType::snapshot_status:
      if (pr->state != ProgressState::snapshot) return ok();
      if (m.reject) pr->pending_snapshot = 0;
      pr->become_probe();
      pr->probe_sent = true;  // wait for a heartbeat response before probing again
      return ok();
    case MessageType::unreachable:
      if (pr->state == ProgressState::replicate) pr->become_probe();
      // A snapshot in flight to a peer that went away (crashed while installing it, say) is
      // lost: probe again instead of waiting out the snapshot timeout.
      if (pr->state == ProgressState::snapshot) {
        pr->pending_snapshot = 0;
        pr->become_probe();
      }
      return ok();
    case MessageType::transfer_leader: {
      if (pr->is_learner) return ok();  // a learner cannot lead
      const NodeId transferee = m.from;
      if (lead_transferee_ != kNone) {
        if (lead_transferee_ == transferee) return ok();
        abort_leader_transfer();
      }
      if (transferee == id_) return ok();
      election_elapsed_ = 0;  // the transfer must finish within one election timeout
      lead_transferee_ = transferee;
      if (pr->match == log_.last_index()) {
        send(Message{.type = MessageType::timeout_now, .to = transferee});
      } else {
        send_append(transferee);
      }
      return ok();
    }
    default:
      return ok();
  }
}

Result<void> Node::step_candidate(Message& m) {
  const MessageType my_response = role_ == Role::pre_candidate ? MessageType::pre_vote_response
                                                               : MessageType::vote_response;
  switch (m.type) {
    case MessageType::propose:
      return fail(Code::unavailable, "raft: proposal dropped: no leader (election in progress)");
    case MessageType::append:
      become_follower(m.term, m.from);
      handle_append(m);
      return ok();
    case MessageType::heartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      return ok();
    case MessageType::snapshot:
      become_follower(m.term, m.from);
      handle_snapshot(m);
      return ok();
    default:
      break;
  }
  if (m.type == my_response) {
    tracker_.record_vote(m.from, !m.reject);
    switch (tracker_.tally()) {
      case VoteResult::won:
        if (role_ == Role::pre_candidate) {
          start_campaign(false, false);
        } else {
          become_leader();
          bcast_append();
        }
        break;
      case VoteResult::lost:
        become_follower(term_, kNone);
        break;
      case VoteResult::pending:
        break;
    }
  }
  return ok();
}

Result<void> Node::step_follower(Message& m) {
  switch (m.type) {
    case MessageType::propose:
      if (lead_ == kNone) return fail(Code::unavailable, "raft: proposal dropped: no leader");
      m.to = lead_;
      send(std::move(m));
      return ok();
    case MessageType::append:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      return ok();
    case MessageType::heartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      return ok();
    case MessageType::snapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot(m);
      return ok();
    case MessageType::transfer_leader:
      if (lead_ == kNone) return ok();
      m.to = lead_;
      send(std::move(m));
      return ok();
    case MessageType::timeout_now:
      hup(true);  // leadership transfer: campaign now, skipping pre-vote (thesis §3.10)
      return ok();
    case MessageType::read_index:
      if (lead_ == kNone) return ok();  // dropped: the client retries
      m.to = lead_;
      send(std::move(m));
      return ok();
    case MessageType::read_index_response:
      read_states_.push_back(ReadState{m.index, m.context});
      return ok();
    default:
      return ok();
  }
}

// ---------------------------------------------------------------------------------------------
// Log replication (§5.3)

void Node::handle_append(const Message& m) {
  if (m.index < log_.committed()) {
    send(Message{.type = MessageType::append_response, .to = m.from, .index = log_.committed()});
    return;
  }
  if (auto last_new = log_.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    const bool commit_only = m.entries.empty() && (m.context == kCommitOnlyContext ||
                                                   m.context == kCommitNowContext);
    if (!commit_only) {
      send(Message{.type = MessageType::append_response, .to = m.from, .index = *last_new});
    }
    return;
  }
  // Rejection with a hint: the largest index <= m.index whose term is <= m.log_term, so the
  // leader can skip a whole divergent term per round trip (§5.3 optimisation).
  uint64_t hint = std::min(m.index, log_.last_index());
  hint = log_.find_conflict_by_term(hint, m.log_term);
  send(Message{.type = MessageType::append_response,
               .to = m.from,
               .log_term = log_.term_or_zero(hint),
               .index = m.index,
               .reject = true,
               .reject_hint = hint});
}

void Node::handle_heartbeat(const Message& m) {
  log_.commit_to(std::min(m.commit, log_.last_index()));
  send(Message{.type = MessageType::heartbeat_response, .to = m.from, .context = m.context});
}

void Node::handle_snapshot(const Message& m) {
  if (!m.snapshot) return;
  if (restore(*m.snapshot)) {
    send(Message{.type = MessageType::append_response, .to = m.from, .index = log_.last_index()});
  } else {
    send(Message{.type = MessageType::append_response, .to = m.from, .index = log_.committed()});
  }
}

bool Node::restore(const Snapshot& s) {
  if (s.meta.index <= log_.committed()) return false;  // older than what we know is committed
  if (role_ != Role::follower) become_follower(term_ + 1, kNone);
  if (log_.match_term(s.meta.index, s.meta.term)) {
    log_.commit_to(s.meta.index);  // we already hold it: fast-forward the commit
    return false;
  }
  log_.restore(s);
  tracker_.set_conf(s.meta.conf_state, log_.last_index() + 1, config_.max_inflight);
  return true;
}

uint64_t Node::append_entries(std::vector<Entry> ents) {
  uint64_t index = log_.last_index();
  for (Entry& e : ents) {
    e.term = term_;
    e.index = ++index;
  }
  return log_.append(ents);  // our own ack is counted once the driver persisted them (advance)
}

bool Node::send_append(NodeId to, bool send_if_empty) {
  Progress* pr = tracker_.find(to);
  if (pr == nullptr || pr->is_paused()) return false;
  auto prev_term = log_.term(pr->next - 1);
  auto ents = log_.entries(pr->next, config_.max_size_per_msg);
  if (!prev_term || !ents) {
    // The entries are compacted: send a snapshot (§7).
    if (!pr->recent_active) return false;
    auto snap = log_.snapshot();
    if (!snap || snap->empty()) return false;  // not ready yet: retry on the next heartbeat
    const uint64_t snap_index = snap->meta.index;
    send(Message{.type = MessageType::snapshot, .to = to, .snapshot = std::move(*snap)});
    pr->become_snapshot(snap_index);
    return true;
  }
  if (ents->empty() && !send_if_empty) return false;
  const uint64_t n = ents->size();
  const uint64_t last = n ? ents->back().index : 0;
  const bool commit_only = n == 0 && pr->state == ProgressState::replicate &&
                           pr->match + 1 == pr->next && pr->match == log_.last_index();
  // A follower waiting for the commit of entries it proposed is told at once.
  bool commit_now = false;
  if (commit_only) {
    auto waiting = proposed_by_.find(to);
    if (waiting != proposed_by_.end() && log_.committed() >= waiting->second) {
      commit_now = true;
      proposed_by_.erase(waiting);
    }
  }
  send(Message{.type = MessageType::append,
               .to = to,
               .log_term = *prev_term,
               .index = pr->next - 1,
               .entries = std::move(*ents),
               .commit = log_.committed(),
               .context = commit_now    ? kCommitNowContext
                          : commit_only ? kCommitOnlyContext
                                        : ""});
  if (n) {
    if (pr->state == ProgressState::replicate) {
      pr->optimistic_update(last);
      pr->inflight.push_back(last);
    } else if (pr->state == ProgressState::probe) {
      pr->probe_sent = true;
    }
  }
  return true;
}

void Node::bcast_append() {
  for (auto& [id, pr] : tracker_.progress()) {
    if (id != id_) send_append(id);
  }
}

void Node::bcast_heartbeat(const std::string& context) {
  for (auto& [id, pr] : tracker_.progress()) {
    if (id != id_) send_heartbeat(id, context);
  }
}

void Node::send_heartbeat(NodeId to, const std::string& context) {
  // Never tell a follower of a commit beyond what it is known to hold.
  send(Message{.type = MessageType::heartbeat,
               .to = to,
               .commit = std::min(tracker_.progress().at(to).match, log_.committed()),
               .context = context});
}

// A read round needs acks from a quorum, this leader included; asking every member would cost
// the others a message and an answer each for nothing. So it asks the voter that completed the
// last round first (the quickest to answer), then those heard from most recently. A round they
// do not answer goes to every member with the next heartbeat, within a heartbeat tick
// (step_leader's beat), and whoever answers first is asked next time.
void Node::send_read_round(const std::string& context) {
  const size_t need = tracker_.quorum() - (tracker_.is_voter(id_) ? 1 : 0);
  std::vector<std::pair<uint64_t, NodeId>> peers;  // (rank, id), best first
  for (NodeId v : tracker_.voters()) {
    if (v == id_) continue;
    const Progress& pr = tracker_.progress().at(v);
    const uint64_t rank = v == first_reader_ && pr.recent_active ? UINT64_MAX : pr.last_heard;
    peers.emplace_back(rank, v);
  }
  if (need >= peers.size()) return bcast_heartbeat(context);
  std::partial_sort(peers.begin(), peers.begin() + static_cast<std::ptrdiff_t>(need), peers.end(),
                    std::greater<>());
  for (size_t i = 0; i < need; ++i) send_heartbeat(peers[i].second, context);
}

bool Node::maybe_commit() {
  if (!log_.maybe_commit(tracker_.committed(), term_)) return false;
  if (!pending_reads_.empty() && committed_entry_in_current_term()) {
    std::vector<Message> reads;
    reads.swap(pending_reads_);
    for (const Message& m : reads) handle_read_index(m);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Linearizable reads (thesis §6.4)

bool Node::committed_entry_in_current_term() const {
  return log_.term_or_zero(log_.committed()) == term_;
}

void Node::handle_read_index(const Message& m) {
  if (tracker_.voters().size() == 1 && tracker_.is_voter(id_)) {
    respond_read(m, log_.committed());
    return;
  }
  // Until this leader committed an entry of its term it does not know the commit index.
  if (!committed_entry_in_current_term()) {
    pending_reads_.push_back(m);
    return;
  }
  if (config_.read_only == ReadOnlyOption::lease_based && lease_valid()) {
    respond_read(m, log_.committed());
  } else {
    read_only_.add_request(log_.committed(), m);
    read_only_.recv_ack(id_, m.context, tracker_.voters());
    send_read_round(m.context);
  }
}

bool Node::lease_valid() const {
  if (!config_.check_quorum) return false;  // followers only honour leases with check-quorum
  std::vector<uint64_t> heard;
  for (NodeId v : tracker_.voters()) {
    heard.push_back(v == id_ ? leader_ticks_ : tracker_.progress().at(v).last_heard);
  }
  if (heard.empty()) return false;
  std::sort(heard.begin(), heard.end(), std::greater<>());
  const uint64_t q = heard[tracker_.quorum() - 1];
  return q != 0 && leader_ticks_ - q < config_.election_tick / 2;
}

void Node::respond_read(const Message& req, uint64_t index) {
  if (req.from == kNone || req.from == id_) {
    read_states_.push_back(ReadState{index, req.context});
  } else {
    send(Message{.type = MessageType::read_index_response,
                 .to = req.from,
                 .index = index,
                 .context = req.context});
  }
}

// ---------------------------------------------------------------------------------------------
// Client API

Result<uint64_t> Node::propose(std::string data) {
  const bool local = role_ == Role::leader;
  const uint64_t index = log_.last_index() + 1;
  Message m{.type = MessageType::propose, .from = id_};
  m.entries.push_back(Entry{.data = std::move(data)});
  auto r = step(std::move(m));
  if (!r) return fail(r.error());
  return local ? index : 0;
}

Result<uint64_t> Node::propose_conf_change(const ConfChange& cc) {
  if (role_ != Role::leader) {
    return fail(Code::failed_precondition,
                "raft: membership changes are proposed on the leader (node " +
                    std::to_string(lead_) + ")");
  }
  const bool voter = tracker_.is_voter(cc.node_id);
  const bool learner = tracker_.is_learner(cc.node_id);
  if (cc.node_id == kNone) return fail(Code::invalid_argument, "raft: member id 0 is reserved");
  switch (cc.type) {
    case ConfChangeType::add_node:
      if (voter) return fail(Code::already_exists, "raft: member is already a voter");
      break;
    case ConfChangeType::add_learner:
      if (voter) {
        return fail(Code::failed_precondition,
                    "raft: a voter cannot be made a learner; remove it first");
      }
      if (learner) return fail(Code::already_exists, "raft: member is already a learner");
      break;
    case ConfChangeType::remove_node:
      if (!voter && !learner) return fail(Code::not_found, "raft: no such member");
      if (voter && tracker_.voters().size() == 1) {
        return fail(Code::failed_precondition, "raft: cannot remove the last voter");
      }
      break;
  }
  const uint64_t index = log_.last_index() + 1;
  Message m{.type = MessageType::propose, .from = id_};
  m.entries.push_back(Entry{.type = EntryType::conf_change, .data = codec::encode(cc)});
  auto r = step(std::move(m));
  if (!r) return fail(r.error());
  pending_conf_index_ = index;
  return index;
}

void Node::read_index(std::string context) {
  (void)step(Message{.type = MessageType::read_index, .from = id_, .context = std::move(context)});
}

void Node::transfer_leadership(NodeId to) {
  (void)step(Message{.type = MessageType::transfer_leader, .from = to});
}

void Node::report_unreachable(NodeId peer) {
  (void)step(Message{.type = MessageType::unreachable, .from = peer});
}

void Node::report_snapshot(NodeId peer, bool succeeded) {
  (void)step(Message{.type = MessageType::snapshot_status, .from = peer, .reject = !succeeded});
}

// ---------------------------------------------------------------------------------------------
// Membership (thesis §4.1, one server at a time; §4.2.2 removing the leader)

void Node::apply_conf_change(const ConfChange& cc) {
  const uint64_t next = log_.last_index() + 1;
  switch (cc.type) {
    case ConfChangeType::add_node:
      tracker_.add_voter(cc.node_id, next, config_.max_inflight);
      break;
    case ConfChangeType::add_learner:
      tracker_.add_learner(cc.node_id, next, config_.max_inflight);
      break;
    case ConfChangeType::remove_node:
      tracker_.remove(cc.node_id);
      break;
  }
  if (role_ != Role::leader) return;
  if (!tracker_.is_voter(id_)) {
    // Removed leader: hand over to the most up-to-date voter, then step down. It no longer
    // counts its own log for commits (it is not in the voters any more).
    NodeId best = kNone;
    uint64_t best_match = 0;
    for (NodeId v : tracker_.voters()) {
      const Progress& pr = tracker_.progress().at(v);
      if (best == kNone || pr.match > best_match) {
        best = v;
        best_match = pr.match;
      }
    }
    if (best != kNone) send(Message{.type = MessageType::timeout_now, .to = best});
    become_follower(term_, kNone);
    return;
  }
  if (lead_transferee_ != kNone && !tracker_.is_voter(lead_transferee_)) abort_leader_transfer();
  if (maybe_commit()) bcast_append();  // the quorum changed
  bcast_append();                      // new members start receiving the log at once
}

// ---------------------------------------------------------------------------------------------
// Ready / advance

bool Node::has_ready() const {
  if (soft_state() != prev_soft_state_) return true;
  const HardState hs = hard_state();
  if (!hs.empty() && hs != prev_hard_state_) return true;
  if (log_.unstable_snapshot() || !log_.unstable_entries().empty()) return true;
  if (!msgs_.empty() || !read_states_.empty()) return true;
  return log_.has_next_entries();
}

Ready Node::ready() {
  MGMT_ASSERT_MSG(!ready_outstanding_, "raft: ready() called twice without advance()");
  ready_outstanding_ = true;
  Ready rd;
  const SoftState ss = soft_state();
  if (ss != prev_soft_state_) rd.soft_state = ss;
  const HardState hs = hard_state();
  if (!hs.empty() && hs != prev_hard_state_) rd.hard_state = hs;
  rd.entries = log_.unstable_entries();
  rd.snapshot = log_.unstable_snapshot();
  rd.committed_entries = log_.next_entries();
  rd.messages.swap(msgs_);
  rd.read_states.swap(read_states_);
  return rd;
}

void Node::advance(const Ready& rd) {
  MGMT_ASSERT_MSG(ready_outstanding_, "raft: advance() without ready()");
  ready_outstanding_ = false;
  if (rd.soft_state) prev_soft_state_ = *rd.soft_state;
  if (rd.hard_state) prev_hard_state_ = *rd.hard_state;
  if (rd.snapshot) {
    log_.stable_snapshot_to(rd.snapshot->meta.index);
    log_.applied_to(rd.snapshot->meta.index);
  }
  if (!rd.entries.empty()) log_.stable_to(rd.entries.back().index, rd.entries.back().term);
  for (const Entry& e : rd.committed_entries) {
    if (e.type != EntryType::conf_change) continue;
    auto cc = codec::decode_conf_change(e.data);
    MGMT_ASSERT_MSG(cc.has_value(), "raft: a committed membership change does not decode");
    apply_conf_change(*cc);
  }
  if (!rd.committed_entries.empty()) log_.applied_to(rd.committed_entries.back().index);
  if (role_ == Role::leader) {
    // The leader's own ack: what is durable now (never before the driver persisted it).
    if (Progress* self = tracker_.find(id_)) self->maybe_update(log_.last_stable_index());
    if (maybe_commit()) bcast_append();
  }
}

}  // namespace mgmt::store::raft
