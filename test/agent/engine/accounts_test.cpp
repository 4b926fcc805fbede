// accounts_test.cpp: the group and user resources against this machine's real account
// database, with names unique to the test run, removed at the end. Changing accounts needs
// root and the shadow tools; without them only the checks run (and the test says so).
#include "agent/resources/accounts.h"
#include "test/agent/engine/resource_maker.h"
#include "test/support/process/child_process.h"
#include "test/support/process/real_etcd.h"

#include <unistd.h>

using mgmt::agent::resources::lookup_group;
using mgmt::agent::resources::lookup_user;
using mgmt::agent::resources::supplementary_groups;
using mgmt::test::have_program;
using mgmt::test::make_resource;
using mgmt::test::resource;

namespace {

bool can_manage_accounts() {
  return ::geteuid() == 0 && have_program("groupadd") && have_program("useradd");
}

}  // namespace

TEST_CASE("group and user: noop sees a missing account and changes nothing", "[accounts]") {
  const std::string name = "mgmtnoop" + std::to_string(::getpid());
  auto group = make_resource(resource("group", name, {{"gid", 45001}}));
  auto g = group->check_apply(false);
  REQUIRE(g);
  CHECK_FALSE(*g);
  CHECK_FALSE(lookup_group(name));
  auto user = make_resource(resource("user", name, {{"shell", "/bin/sh"}}));
  auto u = user->check_apply(false);
  REQUIRE(u);
  CHECK_FALSE(*u);
  CHECK_FALSE(lookup_user(name));
  // root exists: a user resource asking nothing of it is in state.
  auto root = make_resource(resource("user", "root", {}));
  auto r = root->check_apply(false);
  REQUIRE(r);
  CHECK(*r);
}

TEST_CASE("group and user: made, changed and removed through the shadow tools",
          "[accounts]") {
  if (!can_manage_accounts()) {
    WARN("not root or no shadow tools (groupadd, useradd): account changes not tested");
    return;
  }
  const std::string name = "mgmtt" + std::to_string(::getpid());
  const std::string extra = name + "x";
  auto group = make_resource(resource("group", name, {}));
  auto extra_group = make_resource(resource("group", extra, {}));
  REQUIRE(group->check_apply(true));
  REQUIRE(extra_group->check_apply(true));
  REQUIRE(lookup_group(name));
  auto again = group->check_apply(true);
  REQUIRE(again);
  CHECK(*again);

  auto user = make_resource(resource("user", name, {{"group", name}, {"groups", {extra}},
                                                    {"shell", "/bin/sh"}}));
  auto made = user->check_apply(true);
  REQUIRE(made);
  CHECK_FALSE(*made);
  auto entry = lookup_user(name);
  REQUIRE(entry);
  CHECK(entry->gid == *lookup_group(name));
  CHECK(entry->shell == "/bin/sh");
  CHECK(supplementary_groups(name, entry->gid) == std::set<gid_t>{*lookup_group(extra)});
  auto in_state = user->check_apply(true);
  REQUIRE(in_state);
  CHECK(*in_state);

  auto new_shell = make_resource(resource("user", name, {{"shell", "/bin/bash"}}));
  REQUIRE(new_shell->check_apply(true));
  CHECK(lookup_user(name)->shell == "/bin/bash");

  auto gone = make_resource(resource("user", name, {{"state", "absent"}}));
  REQUIRE(gone->check_apply(true));
  CHECK_FALSE(lookup_user(name));
  for (const auto& g : {name, extra}) {
    REQUIRE(make_resource(resource("group", g, {{"state", "absent"}}))->check_apply(true));
    CHECK_FALSE(lookup_group(g));
  }
}

TEST_CASE("user: a primary group that does not exist is named with the remedy",
          "[accounts]") {
  auto user = make_resource(resource("user", "nobody", {{"group", "no-such-group-mgmt"}}));
  auto r = user->check_apply(false);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "user[nobody]: its group \"no-such-group-mgmt\" does not exist; add a group resource "
        "for it (it is then made first)");
}
