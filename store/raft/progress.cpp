// progress.cpp: see progress.h.
#include "store/raft/progress.h"

#include <algorithm>
#include <vector>

namespace mgmt::store::raft {

const char* to_string(ProgressState s) {
  switch (s) {
    case ProgressState::probe: return "probe";
    case ProgressState::replicate: return "replicate";
    case ProgressState::snapshot: return "snapshot";
  }
  return "?";
}

void Progress::reset(ProgressState s) {
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_ticks = 0;
  state = s;
  inflight.clear();
}

void Progress::become_probe() {
  if (state == ProgressState::snapshot) {
    const uint64_t pending = pending_snapshot;
    reset(ProgressState::probe);
    next = std::max(match + 1, pending + 1);
  } else {
    reset(ProgressState::probe);
    next = match + 1;
  }
}

void Progress::become_replicate() {
  reset(ProgressState::replicate);
  next = match + 1;
}

void Progress::become_snapshot(uint64_t snapshot_index) {
  reset(ProgressState::snapshot);
  pending_snapshot = snapshot_index;
}

bool Progress::maybe_update(uint64_t n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::maybe_decrease_to(uint64_t rejected, uint64_t match_hint) {
  if (state == ProgressState::replicate) {
    if (rejected <= match) return false;  // stale
    next = match + 1;
    return true;
  }
  if (next == 0 || next - 1 != rejected) return false;  // stale: not the probe we sent
  next = std::max<uint64_t>(std::min(rejected, match_hint + 1), match + 1);
  probe_sent = false;
  return true;
}

bool Progress::is_paused() const {
  switch (state) {
    case ProgressState::probe: return probe_sent;
    case ProgressState::replicate: return inflight_full();
    case ProgressState::snapshot: return true;
  }
  return true;
}

void Progress::free_inflight_up_to(uint64_t index) {
  while (!inflight.empty() && inflight.front() <= index) inflight.pop_front();
}

ConfState ProgressTracker::conf_state() const { return ConfState{voters_, learners_}; }

Progress* ProgressTracker::find(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

void ProgressTracker::set_conf(const ConfState& cs, uint64_t next_index, uint64_t max_inflight) {
  voters_.clear();
  learners_.clear();
  progress_.clear();
  for (NodeId id : cs.voters) add_voter(id, next_index, max_inflight);
  for (NodeId id : cs.learners) add_learner(id, next_index, max_inflight);
}

void ProgressTracker::add_voter(NodeId id, uint64_t next_index, uint64_t max_inflight) {
  learners_.erase(id);
  voters_.insert(id);
  auto [it, inserted] = progress_.try_emplace(id);
  if (inserted) {
    it->second.next = next_index;
    it->second.max_inflight = max_inflight;
    it->second.recent_active = true;
  }
  it->second.is_learner = false;
}

void ProgressTracker::add_learner(NodeId id, uint64_t next_index, uint64_t max_inflight) {
  if (voters_.count(id)) return;  // demotion is not supported (refused at proposal time)
  learners_.insert(id);
  auto [it, inserted] = progress_.try_emplace(id);
  if (inserted) {
    it->second.next = next_index;
    it->second.max_inflight = max_inflight;
    it->second.recent_active = true;
  }
  it->second.is_learner = true;
}

void ProgressTracker::remove(NodeId id) {
  voters_.erase(id);
  learners_.erase(id);
  progress_.erase(id);
  votes_.erase(id);
}

uint64_t ProgressTracker::committed() const {
  if (voters_.empty()) return 0;
  std::vector<uint64_t> matches;
  for (NodeId id : voters_) matches.push_back(progress_.at(id).match);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  return matches[quorum() - 1];
}

bool ProgressTracker::quorum_active(NodeId self) {
  size_t active = 0;
  for (NodeId id : voters_) {
    const Progress& pr = progress_.at(id);
    if (id == self || pr.recent_active) ++active;
  }
  for (auto& [id, pr] : progress_) {
    if (id != self) pr.recent_active = false;
  }
  return !voters_.empty() && active >= quorum();
}

void ProgressTracker::record_vote(NodeId id, bool granted) { votes_.try_emplace(id, granted); }

VoteResult ProgressTracker::tally() const {
  size_t granted = 0, rejected = 0;
  for (NodeId id : voters_) {
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    (it->second ? granted : rejected)++;
  }
  if (granted >= quorum()) return VoteResult::won;
  if (voters_.size() - rejected < quorum()) return VoteResult::lost;
  return VoteResult::pending;
}

}  // namespace mgmt::store::raft
