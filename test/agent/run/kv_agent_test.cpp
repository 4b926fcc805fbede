// kv_agent_test.cpp: a kv resource in a real agent writes to the agent's own store (what
// etcdctl sees), and another writer's change is undone through the store's watch.
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/required_program.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

using mgmt::test::ChildProcess;
using mgmt::test::free_port;
using mgmt::test::run_to_completion;
using mgmt::test::TempDir;

namespace {

// A graph of one kv resource, colour = blue, in `dir`.
std::string colour_graph(const TempDir& dir) {
  const std::string path = dir.path() + "/graph.yaml";
  std::ofstream(path) << "graph: kv\nresources:\n  kv:\n  - name: colour\n    value: blue\n";
  return path;
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
