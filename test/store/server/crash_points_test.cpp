// crash_points_test.cpp: the process dies at a named point of the write path (crash_point.h,
// armed with MGMT_CRASH_POINT), then restarts on the same data dir: every write that was
// acknowledged is there with its value, nothing is half-applied, and the member serves again.
// A stall point (MGMT_STALL_POINT) makes the log's sync slow instead: the member says so.
#include "test/support/process/child_process.h"
#include "test/support/process/etcdctl.h"
#include "test/support/process/free_port.h"
#include "test/support/process/real_etcd.h"
#include "test/support/process/required_program.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

using mgmt::test::ChildProcess;
using mgmt::test::Completed;
using mgmt::test::etcdctl;
using mgmt::test::free_port;
using mgmt::test::TempDir;

namespace {

std::string url(int port) { return mgmt::test::loopback_url(port); }

}  // namespace

TEST_CASE("crash points: a member killed inside its write path comes back with every "
          "acknowledged write", "[cluster]") {
  mgmt::test::require_program("etcdctl", "etcd-client");
  const std::string binary = mgmt::test::mgmt_binary();
  const std::string point = GENERATE("after-log-persist", "after-apply");
  CAPTURE(point);
  TempDir dir;
  const std::string client = url(free_port());
  const std::string peer = url(free_port());
  const std::vector<std::string> argv = {binary, "run", "--hostname", "c1", "--prefix",
                                         dir.path(), "--client-urls", client, "--server-urls",
                                         peer, "--no-deploy-watch"};
  std::map<int, bool> acked;
  {
    ChildProcess agent(argv, {{"MGMT_CRASH_POINT", point + ":25"}});
    REQUIRE(agent.wait_for_output("waiting for `mgmt deploy`"));
    for (int i = 1; i <= 200; ++i) {
      auto put = etcdctl(client, "put k" + std::to_string(i) + " v" + std::to_string(i));
      if (put.exit_code != 0) break;
      acked[i] = true;
    }
    CHECK(agent.wait_exit() == 86);  // it died at the crash point, not otherwise
    CHECK(agent.output().find("crash point " + point + " reached") != std::string::npos);
  }
  REQUIRE(!acked.empty());
  ChildProcess again(argv);
  REQUIRE(again.wait_for_output("waiting for `mgmt deploy`"));
  for (const auto& [i, yes] : acked) {
    INFO("k" << i);
    CHECK(etcdctl(client, "get k" + std::to_string(i) + " --print-value-only").output ==
          "v" + std::to_string(i) + "\n");
  }
  // The write in flight at the crash is either wholly there or wholly absent, and the member
  // takes new writes.
  const int next = static_cast<int>(acked.size()) + 1;
  auto in_flight = etcdctl(client, "get k" + std::to_string(next) + " --print-value-only");
  CHECK((in_flight.output.empty() || in_flight.output == "v" + std::to_string(next) + "\n"));
  CHECK(etcdctl(client, "put after crash").exit_code == 0);
}

TEST_CASE("crash points: a member joining after compaction gets a snapshot, dies while "
          "installing it, and restarts whole", "[cluster]") {
  mgmt::test::require_program("etcdctl", "etcd-client");
  const std::string binary = mgmt::test::mgmt_binary();
  TempDir dir;
  const std::string c1 = url(free_port()), p1 = url(free_port());
  const std::string c2 = url(free_port()), p2 = url(free_port());
  ChildProcess first({binary, "run", "--hostname", "j1", "--prefix", dir.path() + "/j1",
                      "--client-urls", c1, "--server-urls", p1, "--no-deploy-watch",
                      "--snapshot-count", "5", "--snapshot-catchup-entries", "0"});
  REQUIRE(first.wait_for_output("waiting for `mgmt deploy`"));
  for (int i = 1; i <= 30; ++i) {
    REQUIRE(etcdctl(c1, "put s" + std::to_string(i) + " v" + std::to_string(i)).exit_code == 0);
  }
  const std::vector<std::string> second = {binary, "run", "--hostname", "j2", "--prefix",
                                           dir.path() + "/j2", "--client-urls", c2,
                                           "--server-urls", p2, "--no-deploy-watch",
                                           "--seeds", c1};
  {
    ChildProcess joining(second, {{"MGMT_CRASH_POINT", "after-snapshot-state"}});
    CHECK(joining.wait_exit(std::chrono::seconds(60)) == 86);
    CHECK(joining.output().find("crash point after-snapshot-state reached") != std::string::npos);
  }
  // Restarted on the same data dir, it resumes from the installed state and catches up (the
  // leader promotes it once it holds the leader's log).
  ChildProcess again(second);
  REQUIRE(again.wait_for_output("waiting for `mgmt deploy`"));
  REQUIRE(first.wait_for_output("promoting learner"));
  bool caught_up = false;
  for (int attempt = 0; attempt < 500 && !caught_up; ++attempt) {
    caught_up = etcdctl(c2, "get s30 --consistency=s --print-value-only").output == "v30\n";
  }
  CHECK(caught_up);
  CHECK(etcdctl(c2, "get s1 --consistency=s --print-value-only").output == "v1\n");
  const Completed put = etcdctl(c1 + "," + c2, "put after snapshot");
  INFO(put.output << "\n--- j1:\n" << first.output() << "\n--- j2:\n" << again.output());
  CHECK(put.exit_code == 0);
}

TEST_CASE("stall points: a member whose log syncs slowly says so, naming the disk, at most "
          "once per 10 s",
          "[cluster]") {
  const std::string binary = mgmt::test::mgmt_binary();
  TempDir dir;
  const std::string client = url(free_port());
  ChildProcess agent({binary, "run", "--hostname", "slow", "--prefix", dir.path(),
                      "--client-urls", client, "--server-urls", url(free_port()),
                      "--no-deploy-watch"},
                     {{"MGMT_STALL_POINT", "log-persist:150"}});
  REQUIRE(agent.wait_for_output("waiting for `mgmt deploy`"));
  for (int i = 0; i < 3; ++i) CHECK(etcdctl(client, "put k v").exit_code == 0);
  REQUIRE(agent.wait_for_output("writes waited"));
  const std::string out = agent.output();
  INFO(out);
  CHECK(out.find("ms of it syncing the log to disk (a slow disk: check it, or what else writes "
                 "to it)") != std::string::npos);
  // Every round was slow, but the log says it once in these few seconds.
  std::size_t reports = 0;
  for (auto at = out.find("writes waited"); at != std::string::npos;
       at = out.find("writes waited", at + 1)) {
    ++reports;
  }
  CHECK(reports == 1);
}
