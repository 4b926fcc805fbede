// mgmt_cluster.h: real `mgmt run` agents on loopback, each hosting a member of one store
// cluster: the first founds it, the others join with --seeds and are promoted; formed once all
// of them vote. Each member keeps its ports and data dir across restarts (start, kill9), so
// tests can stop and start members as an operator would. Needs the mgmt binary
// (mgmt_binary.h) and Debian's etcdctl (the voters are read from `etcdctl member list`).
// Header-only: link mgmt_test_process.
#pragma once

#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::test {

inline std::string loopback_url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

// One member: an agent hosting a store member, with fixed ports and data dir across restarts.
struct MgmtMember {
  std::string name;
  std::string client;
  std::string peer;
  std::string prefix;
  std::unique_ptr<ChildProcess> process;
  std::vector<std::string> extra_flags;
  int ideal_cluster_size = 3;

  void start(const std::string& seeds) {
    std::vector<std::string> argv = {mgmt_binary(), "run", "--hostname", name, "--prefix", prefix,
                                     "--client-urls", client, "--server-urls", peer,
                                     "--ideal-cluster-size", std::to_string(ideal_cluster_size),
                                     "--no-deploy-watch"};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    if (!seeds.empty()) {
      argv.push_back("--seeds");
      argv.push_back(seeds);
    }
    process = std::make_unique<ChildProcess>(argv);
  }
  bool ready() { return process->wait_for_output("waiting for `mgmt deploy`"); }
  void kill9() {
    process->send_signal(SIGKILL);
    (void)process->wait_exit();
  }
};

// etcdctl against `endpoints`, its output and error together.
inline Completed cluster_etcdctl(const std::string& endpoints, const std::string& args) {
  return run_to_completion({"/bin/sh", "-c",
                            "ETCDCTL_API=3 etcdctl --dial-timeout=3s --command-timeout=8s "
                            "--endpoints=" + endpoints + " " + args + " 2>&1"});
}

class MgmtCluster {
 public:
  // `extra_flags` go to every member's `mgmt run`.
  explicit MgmtCluster(int size = 3, const std::vector<std::string>& extra_flags = {}) {
    for (int i = 1; i <= size; ++i) {
      members.push_back(MgmtMember{"s" + std::to_string(i), loopback_url(free_port()),
                                   loopback_url(free_port()), dir.path() + "/s" + std::to_string(i),
                                   nullptr, extra_flags, size});
    }
    members[0].start("");
    REQUIRE(members[0].ready());
    for (int i = 1; i < size; ++i) {
      members[i].start(members[0].client);
      REQUIRE(members[i].ready());
    }
    // Every joiner becomes a voter.
    REQUIRE(wait_for([&] {
      auto list = cluster_etcdctl(members[0].client, "member list");
      return list.exit_code == 0 && count_lines(list.output) == static_cast<size_t>(size) &&
             list.output.find(", true") == std::string::npos;
    }));
  }

  // Every member's client URL, comma-separated (etcdctl's --endpoints).
  std::string all() const {
    std::string out;
    for (const auto& m : members) out += (out.empty() ? "" : ",") + m.client;
    return out;
  }

  static size_t count_lines(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  }

  // Polls a condition observed through etcdctl: each poll is a real request that itself waits
  // on the cluster (no sleeps); bounded so that a broken build fails instead of hanging.
  static bool wait_for(const std::function<bool()>& done, int attempts = 1000) {
    for (int i = 0; i < attempts; ++i) {
      if (done()) return true;
    }
    return false;
  }

  TempDir dir;  // first: the members' data dirs live in it
  std::vector<MgmtMember> members;
};

}  // namespace mgmt::test
