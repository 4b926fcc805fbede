// exec_fields_test.cpp: exec beyond cmd/ifcmd/creates: nifcmd guards the other way round,
// donecmd follows a successful cmd, a change of a file in watchfiles runs it again, and user
// runs it as that user (as root).
#include "agent/resources/accounts.h"
#include "test/agent/engine/resource_maker.h"
#include "test/support/process/child_process.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

using mgmt::test::EngineHarness;
using mgmt::test::make_resource;
using mgmt::test::resource;
using mgmt::test::slurp;
using mgmt::test::TempDir;

TEST_CASE("exec: nifcmd stops the command when it succeeds, donecmd follows the command",
          "[exec]") {
  TempDir dir;
  const std::string log = dir.path() + "/log";
  auto guarded = make_resource(resource(
      "exec", "guarded", {{"cmd", "echo ran >> " + log}, {"shell", "/bin/sh"},
                          {"nifcmd", "test -e " + dir.path() + "/flag"}}));
  { std::ofstream(dir.path() + "/flag") << ""; }
  auto skipped = guarded->check_apply(true);
  REQUIRE(skipped);
  CHECK(*skipped);
  CHECK(slurp(log).empty());
  auto done = make_resource(resource(
      "exec", "done", {{"cmd", "echo ran >> " + log}, {"shell", "/bin/sh"},
                       {"donecmd", "echo done >> " + log}, {"doneshell", "/bin/sh"}}));
  auto ran = done->check_apply(true);
  REQUIRE(ran);
  CHECK_FALSE(*ran);
  CHECK(slurp(log) == "ran\ndone\n");
}

TEST_CASE("exec: a change of a file in watchfiles runs the command again", "[exec][engine]") {
  TempDir dir;
  const std::string conf = dir.path() + "/app.conf";
  const std::string log = dir.path() + "/log";
  { std::ofstream(conf) << "v1\n"; }
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("exec", "reload", {{"cmd", "cat " + conf + " >> " + log},
                                             {"shell", "/bin/sh"},
                                             {"watchfiles", {conf}}})};
  REQUIRE(h.engine->swap(g));
  int seen = h.wait_converged(0);
  REQUIRE(seen > 0);
  CHECK(slurp(log) == "v1\n");
  { std::ofstream(conf) << "v2\n"; }
  while (slurp(log).find("v2\n") == std::string::npos) {
    seen = h.wait_converged(seen);
    REQUIRE(seen > 0);
  }
  CHECK(slurp(log).rfind("v1\n", 0) == 0);
}

TEST_CASE("exec: a change of a watched file while the command runs makes it run again",
          "[exec]") {
  // The command changes its own watched file, then runs on: the change comes mid-run. Before,
  // the end of the run cleared what the change had set, and the change was lost.
  TempDir dir;
  const std::string conf = dir.path() + "/app.conf";
  const std::string log = dir.path() + "/log";
  { std::ofstream(conf) << "v1\n"; }
  auto exec = make_resource(resource(
      "exec", "mid", {{"cmd", "cat " + conf + " >> " + log + "; echo v2 > " + conf + "; sleep 0.3"},
                      {"shell", "/bin/sh"},
                      {"watchfiles", {conf}}}));
  std::atomic<int> events{0};
  auto watch = exec->watch([&events] { ++events; });
  REQUIRE(watch);
  REQUIRE(exec->check_apply(true));
  REQUIRE(events.load() > 0);  // during the run's 0.3 s
  auto in_state = exec->check_apply(false);
  REQUIRE(in_state);
  CHECK_FALSE(*in_state);
}

TEST_CASE("exec: user runs the command as that user", "[exec]") {
  if (::geteuid() != 0 || !mgmt::agent::resources::lookup_user("nobody")) {
    WARN("not root, or no user nobody: exec user not tested");
    return;
  }
  TempDir dir;
  REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
  const std::string out = dir.path() + "/who";
  auto as_nobody = make_resource(resource(
      "exec", "who", {{"cmd", "id -un > " + out}, {"shell", "/bin/sh"}, {"user", "nobody"}}));
  REQUIRE(as_nobody->check_apply(true));
  CHECK(slurp(out) == "nobody\n");
  auto unknown = make_resource(resource(
      "exec", "x", {{"cmd", "true"}, {"shell", "/bin/sh"}, {"user", "no-such-user-mgmt"}}));
  auto refused = unknown->check_apply(true);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message() ==
        "exec[x]: user \"no-such-user-mgmt\" does not exist; add a user resource for it");
}

TEST_CASE("exec: ifequals and ifequals_stdout: an ifcmd printing exactly that means nothing "
          "to do",
          "[exec]") {
  TempDir dir;
  const std::string log = dir.path() + "/log";
  auto run = [&](nlohmann::json extra) {
    nlohmann::json params = {{"cmd", "echo ran >> " + log}, {"shell", "/bin/sh"},
                             {"ifcmd", "echo ok; echo warn >&2"}, {"ifshell", "/bin/sh"}};
    params.update(extra);
    auto r = make_resource(resource("exec", "e", params));
    auto checked = r->check_apply(true);
    REQUIRE(checked);
    return *checked;
  };
  CHECK(run({{"ifequals_stdout", "ok\n"}}));         // stdout alone matches
  CHECK_FALSE(run({{"ifequals", "ok\n"}}));          // the output has the warning too
  CHECK(run({{"ifequals", "ok\nwarn\n"}}));
  CHECK(slurp(log) == "ran\n");
}

TEST_CASE("exec: a file in mtimes changed since the last run runs the command, creates or "
          "not",
          "[exec]") {
  TempDir dir;
  const std::string input = dir.path() + "/input";
  const std::string made = dir.path() + "/made";
  const std::string log = dir.path() + "/log";
  { std::ofstream(input) << "1"; }
  auto r = make_resource(resource("exec", "build", {{"cmd", "echo ran >> " + log + "; touch " + made},
                                                    {"shell", "/bin/sh"},
                                                    {"creates", made},
                                                    {"mtimes", {input}}}));
  auto first = r->check_apply(true);
  REQUIRE(first);
  CHECK_FALSE(*first);
  auto again = r->check_apply(true);
  REQUIRE(again);
  CHECK(*again);  // nothing newer than the run, and `made` exists
  // A newer input: a time after the run (set, not waited for).
  std::filesystem::last_write_time(
      input, std::filesystem::file_time_type::clock::now() + std::chrono::seconds(5));
  auto rebuilt = r->check_apply(true);
  REQUIRE(rebuilt);
  CHECK_FALSE(*rebuilt);
  CHECK(slurp(log) == "ran\nran\n");
  // A missing file in mtimes is an error naming it.
  auto missing = make_resource(resource(
      "exec", "m", {{"cmd", "true"}, {"shell", "/bin/sh"}, {"mtimes", {dir.path() + "/nope"}}}));
  auto err = missing->check_apply(true);
  REQUIRE_FALSE(err);
  CHECK(err.error().message().find(dir.path() + "/nope in mtimes is missing") !=
        std::string::npos);
}

TEST_CASE("exec: a timeout sends sig first, send_output is sent before the command has run",
          "[exec]") {
  TempDir dir;
  const std::string log = dir.path() + "/log";
  // The command notes SIGINT and ends; SIGKILL would leave no note.
  auto r = make_resource(resource(
      "exec", "slow", {{"cmd", "trap 'echo got INT >> " + log + "; exit 3' INT; sleep 30 & wait"},
                       {"shell", "/bin/sh"},
                       {"timeout", 1},
                       {"sig", "SIGINT"},
                       {"send_output", "cached"}}));
  CHECK(r->sent("output") == nlohmann::json("cached"));
  auto out = r->check_apply(true);
  REQUIRE_FALSE(out);
  CHECK(out.error().message().find("timeout") != std::string::npos);
  CHECK(slurp(log) == "got INT\n");
  auto bad = mgmt::agent::resources::find_kind("exec")->make();
  CHECK_FALSE(bad->configure(resource("exec", "x", {{"cmd", "true"}, {"sig", "SIGNOPE"}})));
  CHECK(bad->configure(resource("exec", "x", {{"cmd", "true"}, {"sig", "SIGCONT"}})));
  CHECK(bad->configure(resource("exec", "x", {{"cmd", "true"}, {"sig", "HUP"}})));
}
