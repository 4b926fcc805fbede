// stop_test.cpp: an agent whose store answers nothing (paused, or its cluster without a
// quorum) still stops at once on SIGTERM, whatever it was asking the store: a kv resource's
// read, the renewal of its expiring keys' lease, a client agent's volunteering. The store is
// Debian's etcd, paused with SIGSTOP; a call left to run out would wait the client's 5 s.
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/real_etcd.h"
#include "test/support/process/required_program.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <fstream>
#include <optional>
#include <string>

using mgmt::test::ChildProcess;
using mgmt::test::free_port;
using mgmt::test::RealEtcd;
using mgmt::test::TempDir;

namespace {

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

// Waits for the next line with `text` in the agent's output, after those already there.
bool wait_for_next(ChildProcess& agent, const std::string& text) {
  std::size_t seen = 0;
  const std::string out = agent.output();
  for (auto at = out.find(text); at != std::string::npos; at = out.find(text, at + 1)) ++seen;
  return agent.wait_for_occurrences(text, seen + 1);
}

}  // namespace

TEST_CASE("stop: an agent stops at once while its kv resource waits on a store that answers "
          "nothing",
          "[run][stop]") {
  mgmt::test::require_program("etcd", "etcd-server");
  const std::string binary = mgmt::test::mgmt_binary();
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  TempDir dir;
  const std::string graph = dir.path() + "/graph.yaml";
  std::ofstream(graph) << "graph: kv\nresources:\n  kv:\n  - name: colour\n    value: blue\n"
                          "    meta:\n      poll: \"1\"\n";
  ChildProcess agent({binary, "-v", "run", "--no-server", "--seeds", etcd.endpoint(),
                      "--tmp-prefix", "yaml", graph});
  REQUIRE(agent.wait_for_output("kv[colour]: resource: setting /_mgmt/strings/colour to blue"));
  // The store stops answering (its cluster lost its quorum, say); the next poll's read of the
  // key waits on it, for the client's 5 s unless the stop abandons it.
  etcd.send_signal(SIGSTOP);
  REQUIRE(wait_for_next(agent, "kv[colour]: poll: checking its state"));
  const Stopped stopped = stop_while_paused(agent, etcd);
  CHECK(stopped.exit_code == 0);
  // The status withdrawal waits at most 1 s; the kv read, abandoned, nothing.
  CHECK(stopped.took < std::chrono::seconds(3));
  CHECK(agent.output().find("kv[colour]: the call to the store at " + etcd.endpoint() +
                            " was abandoned: this agent is stopping") != std::string::npos);
}

TEST_CASE("stop: an agent stops at once while it renews its expiring keys' lease on a store "
          "that answers nothing",
          "[run][stop]") {
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

TEST_CASE("stop: a client agent stops at once while it volunteers to a store that answers "
          "nothing",
          "[run][stop]") {
  mgmt::test::require_program("etcd", "etcd-server");
  const std::string binary = mgmt::test::mgmt_binary();
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  // The cluster (etcd, one voter) is as large as the ideal: the agent runs as its client and
  // volunteers, asking every 2 s whether it was nominated (two reads).
  ChildProcess agent({binary, "-v", "run", "--seeds", etcd.endpoint(), "--ideal-cluster-size",
                      "1", "--client-urls", "http://127.0.0.1:" + std::to_string(free_port()),
                      "--server-urls", "http://127.0.0.1:" + std::to_string(free_port()),
                      "--tmp-prefix"});
  REQUIRE(agent.wait_for_output("volunteering to be a store member when the cluster needs one"));
  // The store stops answering; the volunteer's next reads wait on it, 5 s each unless the stop
  // abandons them.
  etcd.send_signal(SIGSTOP);
  REQUIRE(wait_for_next(agent, "asking the cluster whether it nominated this agent"));
  const Stopped stopped = stop_while_paused(agent, etcd);
  INFO(agent.output());
  CHECK(stopped.exit_code == 0);
  // The status's courtesy revoke waits at most 1 s, the volunteer key's lease's another.
  CHECK(stopped.took < std::chrono::seconds(3));
}
