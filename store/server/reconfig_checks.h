// reconfig_checks.h: the membership changes a member refuses before it proposes them, as etcd
// 3.4 with its default --strict-reconfig-check, so that no change leaves the cluster without a
// quorum of running, connected voters:
// - adding a voter needs a quorum of the grown voter set started (a member has started once it
//   published its name), and any add needs this member connected to every voter for the
//   health interval (etcd's 5 s): "etcdserver: unhealthy cluster";
// - removing a voter needs a quorum of the rest started, and (unless the member removed is one
//   this member never reached) the connected voters minus one still a quorum;
// - promoting a learner needs it in sync (90 % of the leader's log), then a quorum of the grown
//   voter set started, counting the learner.
// Then what etcd checks when it applies a change: an id removed before is gone for good ("member
// not found"), a new member's peer URLs must be new ("Peer URLs already exists"; an update's
// among the others'), at most one learner ("too many learner members in cluster"), and only a
// learner is promoted.
// Thread-safety: pure functions of the view they are given.
#pragma once

#include "common/result.h"

#include "raft/peer.pb.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mgmt::store::server {

inline constexpr const char* kErrUnhealthy = "etcdserver: unhealthy cluster";
inline constexpr const char* kErrTooManyLearners =
    "etcdserver: too many learner members in cluster";

// What a check looks at: the membership as applied here, and this member's connections.
struct ReconfigView {
  uint64_t self = 0;
  std::vector<mgmtraft::Member> members;
  std::set<uint64_t> removed;  // ids removed from the cluster before
  // When this member's connection to a peer came up (nullopt: not connected now).
  std::function<std::optional<std::chrono::steady_clock::time_point>(uint64_t)> active_since;
  std::chrono::steady_clock::time_point now;
  std::chrono::milliseconds health_interval{5000};
  // For a promotion: the learner's matched index and the leader's (nullopt: not tracked here).
  std::function<std::optional<std::pair<uint64_t, uint64_t>>(uint64_t)> progress;
};

[[nodiscard]] Result<void> may_add_member(const ReconfigView& view,
                                          const std::vector<std::string>& peer_urls,
                                          bool is_learner);
[[nodiscard]] Result<void> may_remove_member(const ReconfigView& view, uint64_t id);
[[nodiscard]] Result<void> may_promote_member(const ReconfigView& view, uint64_t id);
[[nodiscard]] Result<void> may_update_member(const ReconfigView& view, uint64_t id,
                                             const std::vector<std::string>& peer_urls);

}  // namespace mgmt::store::server
