// reconfig_checks.cpp: see reconfig_checks.h.
#include "store/server/reconfig_checks.h"

#include "store/server/etcd_errors.h"

namespace mgmt::store::server {
namespace {

bool started(const mgmtraft::Member& m) { return !m.name().empty(); }

const mgmtraft::Member* find(const ReconfigView& view, uint64_t id) {
  for (const auto& m : view.members) {
    if (m.id() == id) return &m;
  }
  return nullptr;
}

// Whether a quorum of `voters` would have started.
bool quorum_started(std::size_t voters, std::size_t started_voters) {
  return started_voters >= voters / 2 + 1;
}

// How many voters this member has been connected to for the health interval (itself included).
std::size_t connected_voters(const ReconfigView& view) {
  std::size_t n = 0;
  for (const auto& m : view.members) {
    if (m.is_learner()) continue;
    if (m.id() == view.self) {
      ++n;
      continue;
    }
    const auto since = view.active_since ? view.active_since(m.id()) : std::nullopt;
    if (since && *since < view.now - view.health_interval) ++n;
  }
  return n;
}

std::size_t voter_count(const ReconfigView& view) {
  std::size_t n = 0;
  for (const auto& m : view.members) n += m.is_learner() ? 0 : 1;
  return n;
}

Error not_found() { return Error(Code::not_found, kErrMemberNotFound); }

// An id removed before, or no member's: etcd answers both alike.
Result<const mgmtraft::Member*> existing(const ReconfigView& view, uint64_t id) {
  if (view.removed.count(id)) return fail(not_found());
  const auto* m = find(view, id);
  if (m == nullptr) return fail(not_found());
  return m;
}

bool url_taken(const ReconfigView& view, const std::vector<std::string>& urls, uint64_t except) {
  for (const auto& m : view.members) {
    if (m.id() == except) continue;
    for (const auto& u : m.peer_urls()) {
      for (const auto& want : urls) {
        if (u == want) return true;
      }
    }
  }
  return false;
}

}  // namespace

Result<void> may_add_member(const ReconfigView& view, const std::vector<std::string>& peer_urls,
                            bool is_learner) {
  if (!is_learner) {
    std::size_t started_voters = 0;
    for (const auto& m : view.members) started_voters += !m.is_learner() && started(m);
    const std::size_t voters = voter_count(view) + 1;
    // (Growing one started member to two is allowed: it is how a restored member gets peers.)
    if (!(started_voters == 1 && voters == 2) && !quorum_started(voters, started_voters)) {
      return fail(Code::failed_precondition, kErrNotEnoughStartedMembers);
    }
  }
  if (connected_voters(view) != voter_count(view)) return fail(Code::unavailable, kErrUnhealthy);
  if (url_taken(view, peer_urls, 0)) return fail(Code::failed_precondition, kErrPeerUrlExists);
  if (is_learner) {
    std::size_t learners = 0;
    for (const auto& m : view.members) learners += m.is_learner();
    if (learners + 1 > 1) return fail(Code::failed_precondition, kErrTooManyLearners);
  }
  return ok();
}

Result<void> may_remove_member(const ReconfigView& view, uint64_t id) {
  const auto* target = find(view, id);
  if (target == nullptr || !target->is_learner()) {
    std::size_t voters = 0;
    std::size_t started_voters = 0;
    for (const auto& m : view.members) {
      if (m.is_learner() || m.id() == id) continue;
      ++voters;
      started_voters += started(m);
    }
    if (!quorum_started(voters, started_voters)) {
      return fail(Code::failed_precondition, kErrNotEnoughStartedMembers);
    }
    // A member this one never reached is not part of the active quorum: safe to remove.
    const bool reached =
        id == view.self || (view.active_since && view.active_since(id).has_value());
    if (reached) {
      const std::size_t all = voter_count(view);
      if (connected_voters(view) - 1 < 1 + (all - 1) / 2) {
        return fail(Code::unavailable, kErrUnhealthy);
      }
    }
  }
  if (auto m = existing(view, id); !m) return fail(m.error());
  return ok();
}

Result<void> may_promote_member(const ReconfigView& view, uint64_t id) {
  if (auto pr = view.progress ? view.progress(id) : std::nullopt) {
    // etcd: a learner is ready when it has 90 % of the leader's log.
    if (static_cast<double>(pr->first) < static_cast<double>(pr->second) * 0.9) {
      return fail(Code::failed_precondition, kErrLearnerNotReady);
    }
  }
  std::size_t started_voters = 1;  // the learner counts as started, and as a voter
  for (const auto& m : view.members) started_voters += !m.is_learner() && started(m);
  if (!quorum_started(voter_count(view) + 1, started_voters)) {
    return fail(Code::failed_precondition, kErrNotEnoughStartedMembers);
  }
  auto m = existing(view, id);
  if (!m) return fail(m.error());
  if (!(*m)->is_learner()) return fail(Code::failed_precondition, kErrMemberNotLearner);
  return ok();
}

Result<void> may_update_member(const ReconfigView& view, uint64_t id,
                               const std::vector<std::string>& peer_urls) {
  if (auto m = existing(view, id); !m) return fail(m.error());
  if (url_taken(view, peer_urls, id)) return fail(Code::failed_precondition, kErrPeerUrlExists);
  return ok();
}

}  // namespace mgmt::store::server
