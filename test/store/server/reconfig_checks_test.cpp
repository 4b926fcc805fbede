// reconfig_checks_test.cpp: the membership changes a member refuses before proposing them, as
// etcd 3.4's --strict-reconfig-check (store/server/reconfig_checks.h). The differential test
// (test/compat/membership_compat_test.cpp) compares the answers with etcd's; these cases pin
// the quorum arithmetic and the connection rule one by one.
#include "store/server/reconfig_checks.h"

#include "store/server/etcd_errors.h"

#include <catch2/catch.hpp>

#include <map>

using namespace mgmt::store::server;
using namespace std::chrono_literals;

namespace {

mgmtraft::Member member(uint64_t id, bool started, bool learner = false,
                        const std::string& url = "") {
  mgmtraft::Member m;
  m.set_id(id);
  if (started) m.set_name("m" + std::to_string(id));
  m.set_is_learner(learner);
  m.add_peer_urls(url.empty() ? "http://10.0.0." + std::to_string(id) + ":2380" : url);
  return m;
}

// Member 1 looks on; `connected` says for how long it has been connected to each other one.
struct View {
  ReconfigView view;
  std::map<uint64_t, std::chrono::milliseconds> connected;
  View(std::vector<mgmtraft::Member> members) {
    view.self = 1;
    view.members = std::move(members);
    view.now = std::chrono::steady_clock::now();
    using Since = std::optional<std::chrono::steady_clock::time_point>;
    view.active_since = [this](uint64_t id) -> Since {
      auto it = connected.find(id);
      if (it == connected.end()) return std::nullopt;
      return view.now - it->second;
    };
  }
  void all_connected() {
    for (const auto& m : view.members) {
      if (m.id() != 1) connected[m.id()] = 10s;
    }
  }
};

std::string error_of(const mgmt::Result<void>& r) { return r ? "ok" : r.error().message(); }

}  // namespace

TEST_CASE("reconfig checks: a voter is added only while a quorum of the grown cluster started",
          "[store][membership]") {
  View one({member(1, true)});
  one.all_connected();
  // One started member growing to two is allowed (how a restored member gets its peers).
  CHECK(error_of(may_add_member(one.view, {"http://new:2380"}, false)) == "ok");

  View three({member(1, true), member(2, true), member(3, false)});
  three.all_connected();
  // Four voters need three started; two have.
  CHECK(error_of(may_add_member(three.view, {"http://new:2380"}, false)) ==
        kErrNotEnoughStartedMembers);
  // A learner does not count toward the quorum.
  CHECK(error_of(may_add_member(three.view, {"http://new:2380"}, true)) == "ok");
}

TEST_CASE("reconfig checks: any add waits until this member has been connected to every voter "
          "for the health interval", "[store][membership]") {
  View v({member(1, true), member(2, true), member(3, true), member(4, true, true)});
  v.connected[2] = 10s;
  v.connected[3] = 1s;  // just (re)connected
  CHECK(error_of(may_add_member(v.view, {"http://new:2380"}, true)) == kErrUnhealthy);
  v.connected[3] = 6s;
  // The learner (4) is not a voter: nobody needs to reach it. But it is the one learner.
  CHECK(error_of(may_add_member(v.view, {"http://new:2380"}, false)) == "ok");
  CHECK(error_of(may_add_member(v.view, {"http://new:2380"}, true)) == kErrTooManyLearners);
  v.connected.erase(2);  // down
  CHECK(error_of(may_add_member(v.view, {"http://new:2380"}, false)) == kErrUnhealthy);
}

TEST_CASE("reconfig checks: a new member's peer URLs must be new", "[store][membership]") {
  View v({member(1, true), member(2, true, false, "http://taken:2380")});
  v.all_connected();
  CHECK(error_of(may_add_member(v.view, {"http://free:2380", "http://taken:2380"}, false)) ==
        kErrPeerUrlExists);
  // An update may keep the member's own URL, not take another's.
  CHECK(error_of(may_update_member(v.view, 2, {"http://taken:2380"})) == "ok");
  CHECK(error_of(may_update_member(v.view, 1, {"http://taken:2380"})) == kErrPeerUrlExists);
  CHECK(error_of(may_update_member(v.view, 9, {"http://free:2380"})) == kErrMemberNotFound);
}

TEST_CASE("reconfig checks: a voter is removed only if the rest keep a started and connected "
          "quorum", "[store][membership]") {
  View v({member(1, true), member(2, true), member(3, true), member(4, false), member(5, false)});
  v.all_connected();
  v.connected.erase(4);  // never reached
  v.connected.erase(5);
  // Removing a started voter leaves 4 voters with 2 started: refused.
  CHECK(error_of(may_remove_member(v.view, 2)) == kErrNotEnoughStartedMembers);
  // A voter never reached is not part of the active quorum: removed at once.
  CHECK(error_of(may_remove_member(v.view, 5)) == "ok");

  View w({member(1, true), member(2, true), member(3, true)});
  w.connected[2] = 10s;
  w.connected[3] = 1s;  // connected, but not for long
  // Connected for the interval: itself and 2; minus the removed one, 1 < quorum of 2.
  CHECK(error_of(may_remove_member(w.view, 2)) == kErrUnhealthy);
  w.connected[3] = 10s;
  CHECK(error_of(may_remove_member(w.view, 2)) == "ok");
  // A learner goes without the quorum checks; an id removed before is not found.
  View l({member(1, true), member(7, false, true)});
  CHECK(error_of(may_remove_member(l.view, 7)) == "ok");
  l.view.removed.insert(8);
  CHECK(error_of(may_remove_member(l.view, 8)) == kErrMemberNotFound);
}

TEST_CASE("reconfig checks: only a learner in sync is promoted", "[store][membership]") {
  View v({member(1, true), member(2, true), member(3, true), member(4, false, true)});
  v.all_connected();
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> progress{{4, {50, 100}}, {2, {100, 100}}};
  v.view.progress = [&](uint64_t id) -> std::optional<std::pair<uint64_t, uint64_t>> {
    auto it = progress.find(id);
    if (it == progress.end()) return std::nullopt;
    return it->second;
  };
  CHECK(error_of(may_promote_member(v.view, 4)) == kErrLearnerNotReady);
  progress[4] = {90, 100};  // 90 % of the leader's log
  CHECK(error_of(may_promote_member(v.view, 4)) == "ok");
  CHECK(error_of(may_promote_member(v.view, 2)) == kErrMemberNotLearner);
  CHECK(error_of(may_promote_member(v.view, 9)) == kErrMemberNotFound);
  // Promoting counts the learner as started; three voters of four must be.
  View few({member(1, true), member(2, false), member(3, false), member(4, false, true)});
  CHECK(error_of(may_promote_member(few.view, 4)) == kErrNotEnoughStartedMembers);
}
