// stop_test.cpp: an agent whose store answers nothing (paused, or its cluster without a
// quorum) still stops at once on SIGTERM, whatever it was asking the store: a kv resource's
// read, the renewal of its expiring keys' lease, a client agent's volunteering. The store is
// Debian's etcd, paused with SIGSTOP; a call left to run out would wait the client's 5 s. The
// stop's courtesy revokes (the status's, the expiring keys') run side by side within 1 s.
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/real_etcd.h"
#include "test/support/process/required_program.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using mgmt::test::ChildProcess;
using mgmt::test::free_port;
using mgmt::test::RealEtcd;
using mgmt::test::TempDir;

namespace {

// Debian's etcd and one agent (-v) of it; files the agent runs go in `dir`.
struct AgentOnEtcd {
  RealEtcd etcd;
  TempDir dir;
  std::unique_ptr<ChildProcess> agent;

  AgentOnEtcd() {
    mgmt::test::require_program("etcd", "etcd-server");
    REQUIRE(etcd.ready());
  }
  // Starts the agent: `mgmt -v run --seeds ETCD --tmp-prefix` and then `run_args`.
  ChildProcess& start(const std::vector<std::string>& run_args) {
    std::vector<std::string> argv = {mgmt::test::mgmt_binary(), "-v", "run", "--seeds",
                                     etcd.endpoint(), "--tmp-prefix"};
    argv.insert(argv.end(), run_args.begin(), run_args.end());
    agent = std::make_unique<ChildProcess>(argv);
    return *agent;
  }
  std::string file(const std::string& name, const std::string& text) const {
    const std::string path = dir.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // Pauses the store, then waits for the next line with `text` in the agent's output, after
  // those there once it was paused: the call that line announces now waits on the store.
  bool pause_store_until(const std::string& text) {
    etcd.send_signal(SIGSTOP);
    std::size_t seen = 0;
    const std::string out = agent->output();
    for (auto at = out.find(text); at != std::string::npos; at = out.find(text, at + 1)) ++seen;
    return agent->wait_for_occurrences(text, seen + 1);
  }

  // Stops the agent with SIGTERM while the store is paused, then lets the store go on; the
  // agent must exit 0 within 3 s (the courtesy revokes take 1 s; a call waited out, 5 s).
  void check_stops_at_once() {
    const auto stopping = std::chrono::steady_clock::now();
    agent->send_signal(SIGTERM);
    const auto exit_code = agent->wait_exit(std::chrono::seconds(30));
    const auto took = std::chrono::steady_clock::now() - stopping;
    etcd.send_signal(SIGCONT);
    INFO(agent->output());
    CHECK(exit_code == 0);
    CHECK(took < std::chrono::seconds(3));
  }
};

}  // namespace

TEST_CASE("stop: an agent stops at once while its kv resource waits on a store that answers "
          "nothing",
          "[run][stop]") {
  AgentOnEtcd t;
  ChildProcess& agent = t.start(
      {"--no-server", "yaml",
       t.file("graph.yaml", "graph: kv\nresources:\n  kv:\n  - name: colour\n    value: blue\n"
                            "    meta:\n      poll: \"1\"\n")});
  REQUIRE(agent.wait_for_output("kv[colour]: resource: setting /_mgmt/strings/colour to blue"));
  // The store stops answering (its cluster lost its quorum, say); the next poll's read of the
  // key waits on it.
  REQUIRE(t.pause_store_until("kv[colour]: poll: checking its state"));
  t.check_stops_at_once();
  CHECK(agent.output().find("kv[colour]: the call to the store at " + t.etcd.endpoint() +
                            " was abandoned: this agent is stopping") != std::string::npos);
}

TEST_CASE("stop: an agent stops at once while it renews its expiring keys' lease on a store "
          "that answers nothing",
          "[run][stop]") {
  AgentOnEtcd t;
  ChildProcess& agent = t.start(
      {"--no-server", "lang", t.file("schedule.mcl", "schedule \"web\" {\n\tmax => 2,\n}\n")});
  REQUIRE(agent.wait_for_output("schedule[web]: resource: scheduled in web"));
  // Once the lease was renewed, the store stops answering; the next renewal waits on it.
  REQUIRE(agent.wait_for_output("renewed 1 of 1 lease(s)"));
  REQUIRE(t.pause_store_until("renewing 1 lease(s) of this agent's expiring keys"));
  t.check_stops_at_once();
}

TEST_CASE("stop: a client agent stops at once while it volunteers to a store that answers "
          "nothing",
          "[run][stop]") {
  AgentOnEtcd t;
  // The cluster (etcd, one voter) is as large as the ideal: the agent runs as its client and
  // volunteers, asking every 2 s whether it was nominated (two reads, one after the other).
  ChildProcess& agent = t.start(
      {"--ideal-cluster-size", "1", "--client-urls",
       "http://127.0.0.1:" + std::to_string(free_port()), "--server-urls",
       "http://127.0.0.1:" + std::to_string(free_port())});
  REQUIRE(agent.wait_for_output("volunteering to be a store member when the cluster needs one"));
  REQUIRE(t.pause_store_until("asking the cluster whether it nominated this agent"));
  t.check_stops_at_once();
}
