// kv_agent_test.cpp: a kv resource in a real agent writes to the agent's own store (what
// etcdctl sees), and another writer's change is undone through the store's watch; an agent
// whose kv resource, or whose renewal of its expiring keys' lease, waits on a store that does
// not answer still stops at once.
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/real_etcd.h"
#include "test/support/process/required_program.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>

using mgmt::test::ChildProcess;
using mgmt::test::free_port;
using mgmt::test::RealEtcd;
using mgmt::test::run_to_completion;
using mgmt::test::TempDir;

namespace {

// A graph of one kv resource, colour = blue, with `more` of its fields after it, in `dir`.
std::string colour_graph(const TempDir& dir, const std::string& more = "") {
  const std::string path = dir.path() + "/graph.yaml";
  std::ofstream(path) << "graph: kv\nresources:\n  kv:\n  - name: colour\n    value: blue\n"
                      << more;
  return path;
}

// Stops `agent` with SIGTERM while `etcd` is paused, then lets etcd go on: the agent's exit code
// and how long the stop took.
struct Stopped {
  std::optional<int> exit_code;
  std::chrono::steady_clock::duration took;
};
Stopped stop_while_paused(ChildProcess& agent, RealEtcd& etcd) {
  const auto stopping = std::chrono::steady_clock::now();
  agent.send_signal(SIGTERM);
  Stopped stopped;
  stopped.exit_code = agent.wait_exit(std::chrono::seconds(30));
  stopped.took = std::chrono::steady_clock::now() - stopping;
  etcd.send_signal(SIGCONT);
  return stopped;
}

}  // namespace

TEST_CASE("kv: an agent's kv resource sets its key in the cluster store and keeps it",
          "[run][kv]") {
  mgmt::test::require_program("etcdctl", "etcd-client");
  const std::string binary = mgmt::test::mgmt_binary();
  TempDir dir;
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port());
  ChildProcess agent({binary, "run", "--tmp-prefix", "--client-urls", url,
                      "--server-urls", "http://127.0.0.1:" + std::to_string(free_port()),
                      "yaml", colour_graph(dir)});
  REQUIRE(agent.wait_for_output("kv[colour]: resource: setting /_mgmt/strings/colour to blue"));
  auto etcdctl = [&](const std::string& args) {
    return run_to_completion({"/bin/sh", "-c", "ETCDCTL_API=3 etcdctl --endpoints=" + url +
                                                   " " + args + " 2>&1"});
  };
  CHECK(etcdctl("get /_mgmt/strings/colour --print-value-only").output == "blue\n");
  REQUIRE(etcdctl("put /_mgmt/strings/colour red").exit_code == 0);
  // The agent's watch sees the change and sets it back (a second "setting" line).
  REQUIRE(agent.wait_for_occurrences("setting /_mgmt/strings/colour to blue", 2));
  // The line is logged just before the put lands: read until it has (bounded).
  std::string value;
  for (int attempt = 0; attempt < 100 && value != "blue\n"; ++attempt) {
    value = etcdctl("get /_mgmt/strings/colour --print-value-only").output;
  }
  CHECK(value == "blue\n");
}

TEST_CASE("kv: an agent stops at once while its kv resource waits on a store that answers nothing",
          "[run][kv]") {
  mgmt::test::require_program("etcd", "etcd-server");
  const std::string binary = mgmt::test::mgmt_binary();
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  TempDir dir;
  const std::string graph = colour_graph(dir, "    meta:\n      poll: \"1\"\n");
  ChildProcess agent({binary, "-v", "run", "--no-server", "--seeds", etcd.endpoint(),
                      "--tmp-prefix", "yaml", graph});
  REQUIRE(agent.wait_for_output("kv[colour]: resource: setting /_mgmt/strings/colour to blue"));
  // The store stops answering (its cluster lost its quorum, say); the next poll's read of the
  // key waits on it, for the client's 5 s unless the stop abandons it.
  etcd.send_signal(SIGSTOP);
  const std::string polled = "kv[colour]: poll: checking its state";
  const auto polls = [&] {
    std::size_t n = 0;
    const std::string out = agent.output();
    for (auto at = out.find(polled); at != std::string::npos; at = out.find(polled, at + 1)) ++n;
    return n;
  }();
  REQUIRE(agent.wait_for_occurrences(polled, polls + 1));
  const Stopped stopped = stop_while_paused(agent, etcd);
  CHECK(stopped.exit_code == 0);
  // The status withdrawal waits at most 1 s; the kv read, abandoned, nothing.
  CHECK(stopped.took < std::chrono::seconds(3));
  CHECK(agent.output().find("kv[colour]: the call to the store at " + etcd.endpoint() +
                            " was abandoned: this agent is stopping") != std::string::npos);
}

TEST_CASE("kv: an agent stops at once while it renews its expiring keys' lease on a store that "
          "answers nothing",
          "[run][kv]") {
  mgmt::test::require_program("etcd", "etcd-server");
  const std::string binary = mgmt::test::mgmt_binary();
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  TempDir dir;
  const std::string code = dir.path() + "/schedule.mcl";
  std::ofstream(code) << "schedule \"web\" {\n\tmax => 2,\n}\n";
  ChildProcess agent({binary, "-v", "run", "--no-server", "--seeds", etcd.endpoint(),
                      "--tmp-prefix", "lang", code});
  REQUIRE(agent.wait_for_output("schedule[web]: resource: scheduled in web"));
  // Once the lease was renewed, the store stops answering; the next renewal waits on it, for
  // the client's 5 s unless the stop abandons it.
  REQUIRE(agent.wait_for_output("renewed 1 of 1 lease(s)"));
  etcd.send_signal(SIGSTOP);
  const bool renewal_started =
      agent.wait_for_occurrences("renewing 1 lease(s) of this agent's expiring keys", 2);
  INFO(agent.output());
  REQUIRE(renewal_started);
  const Stopped stopped = stop_while_paused(agent, etcd);
  CHECK(stopped.exit_code == 0);
  // The status's courtesy revoke waits at most 1 s, the schedule's lease's shares another; the
  // renewal under way, abandoned, costs nothing.
  CHECK(stopped.took < std::chrono::seconds(3));
}
