// store_cluster_test.cpp: the replicated store with real `mgmt run` processes on loopback and
// Debian's etcdctl as the client: three members formed by joining with --seeds; a write on any
// member is read on every member; the leader killed with SIGKILL is replaced and comes back
// with everything; a watch on a follower sees every write in order; a lease survives a leader
// change; removing a member shrinks the cluster; every member restarted on its data dir gives
// the same cluster with the same data.
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/real_etcd.h"

#include <catch2/catch.hpp>

#include <signal.h>

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

using mgmt::test::ChildProcess;
using mgmt::test::Completed;
using mgmt::test::free_port;
using mgmt::test::have_program;
using mgmt::test::run_to_completion;
using mgmt::test::TempDir;

namespace {

std::string mgmt_binary() {
  const char* binary = std::getenv("MGMT_BINARY");
  REQUIRE(binary != nullptr);
  return binary;
}

std::string url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

// One member: an agent hosting a store member, with fixed ports and data dir across restarts.
struct Member {
  std::string name;
  std::string client;
  std::string peer;
  std::string prefix;
  std::unique_ptr<ChildProcess> process;

  void start(const std::string& seeds) {
    std::vector<std::string> argv = {mgmt_binary(), "run", "--hostname", name, "--prefix", prefix,
                                     "--client-urls", client, "--server-urls", peer,
                                     "--ideal-cluster-size", "3", "--no-deploy-watch"};
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

Completed etcdctl(const std::string& endpoints, const std::string& args) {
  return run_to_completion({"/bin/sh", "-c",
                            "ETCDCTL_API=3 etcdctl --dial-timeout=3s --command-timeout=8s "
                            "--endpoints=" + endpoints + " " + args + " 2>&1"});
}

struct Cluster {
  TempDir dir;
  std::vector<Member> members;

  Cluster() {
    for (int i = 1; i <= 3; ++i) {
      members.push_back(Member{"s" + std::to_string(i), url(free_port()), url(free_port()),
                               dir.path() + "/s" + std::to_string(i), nullptr});
    }
    members[0].start("");
    REQUIRE(members[0].ready());
    for (int i = 1; i < 3; ++i) {
      members[i].start(members[0].client);
      REQUIRE(members[i].ready());
    }
    // Both joiners become voters.
    REQUIRE(wait_for([&] {
      auto list = etcdctl(members[0].client, "member list");
      return list.exit_code == 0 && count_lines(list.output) == 3 &&
             list.output.find(", true") == std::string::npos;
    }));
  }

  std::string all() const {
    std::string out;
    for (const auto& m : members) out += (out.empty() ? "" : ",") + m.client;
    return out;
  }

  // The member that leads, from `endpoint status` ("IS LEADER" column).
  int leader() {
    for (size_t i = 0; i < members.size(); ++i) {
      auto s = etcdctl(members[i].client, "endpoint status");
      // endpoint, id, version, db size, is leader, is learner, term, index, applied, errors
      if (s.exit_code == 0 && s.output.find(", true, false,") != std::string::npos) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  static size_t count_lines(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  }

  // Polls a condition observed through etcdctl: each poll is a real request that itself waits
  // on the cluster (no sleeps); bounded so that a broken build fails instead of hanging.
  static bool wait_for(const std::function<bool()>& done, int attempts = 300) {
    for (int i = 0; i < attempts; ++i) {
      if (done()) return true;
    }
    return false;
  }
};

}  // namespace

TEST_CASE("store cluster: members joined by --seeds replicate every write and survive the "
          "leader's death", "[cluster]") {
  if (!have_program("etcdctl")) {
    WARN("etcdctl (Debian package etcd-client) is not installed; skipping");
    return;
  }
  Cluster c;
  // A write on each member is read on every member.
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(etcdctl(c.members[i].client, "put k" + std::to_string(i) + " v" +
                                             std::to_string(i)).exit_code == 0);
  }
  for (auto& m : c.members) {
    auto got = etcdctl(m.client, "get --prefix k --print-value-only");
    CHECK(got.output == "v0\nv1\nv2\n");
  }

  // A watch on a follower, then the leader dies (SIGKILL).
  int lead = c.leader();
  REQUIRE(lead >= 0);
  const int follower = (lead + 1) % 3;
  ChildProcess watch({"/bin/sh", "-c", "ETCDCTL_API=3 exec etcdctl --endpoints=" +
                                           c.members[follower].client + " watch --prefix w"});
  REQUIRE(etcdctl(c.members[follower].client, "put w1 before").exit_code == 0);
  REQUIRE(watch.wait_for_output("before"));
  auto lease = etcdctl(c.members[lead].client, "lease grant 60");
  std::smatch id;
  REQUIRE(std::regex_search(lease.output, id, std::regex("lease ([0-9a-f]+) granted")));
  REQUIRE(etcdctl(c.members[lead].client, "put --lease=" + id[1].str() + " leased yes")
              .exit_code == 0);

  c.members[lead].kill9();
  std::string survivors;
  for (int i = 0; i < 3; ++i) {
    if (i != lead) survivors += (survivors.empty() ? "" : ",") + c.members[i].client;
  }
  // The two others elect a leader and take writes.
  REQUIRE(Cluster::wait_for([&] { return etcdctl(survivors, "put w2 after").exit_code == 0; }));
  CHECK(watch.wait_for_output("after"));
  const std::string events = watch.output();
  CHECK(events.find("before") < events.find("after"));  // in order, each once
  CHECK(std::count(events.begin(), events.end(), 'P') == 2);  // two PUT events
  // The lease survived the leader change (the new leader keeps its TTL).
  auto ttl = etcdctl(survivors, "lease timetolive " + id[1].str());
  CHECK(ttl.output.find("remaining") != std::string::npos);
  CHECK(etcdctl(survivors, "get leased --print-value-only").output == "yes\n");

  // The dead member comes back on its data dir and catches up.
  c.members[lead].start("");
  REQUIRE(c.members[lead].ready());
  CHECK(Cluster::wait_for([&] {
    return etcdctl(c.members[lead].client, "get w2 --print-value-only").output == "after\n";
  }));
}

TEST_CASE("store cluster: removing a member shrinks the cluster, and a full restart keeps "
          "everything", "[cluster]") {
  if (!have_program("etcdctl")) {
    WARN("etcdctl (Debian package etcd-client) is not installed; skipping");
    return;
  }
  Cluster c;
  REQUIRE(etcdctl(c.all(), "put keep me").exit_code == 0);

  // Remove the third member through the first.
  auto list = etcdctl(c.members[0].client, "member list");
  std::smatch id;
  REQUIRE(std::regex_search(list.output, id, std::regex("([0-9a-f]+), started, s3,")));
  auto removed = etcdctl(c.members[0].client, "member remove " + id[1].str());
  CHECK(removed.exit_code == 0);
  CHECK(removed.output.find("removed from cluster") != std::string::npos);
  CHECK(Cluster::count_lines(etcdctl(c.members[0].client, "member list").output) == 2);
  c.members[2].kill9();
  CHECK(etcdctl(c.members[0].client + "," + c.members[1].client, "put two left").exit_code == 0);

  // Stop both, start both on their data dirs: same cluster, same data.
  for (int i = 0; i < 2; ++i) {
    c.members[i].process->send_signal(SIGTERM);
    CHECK(c.members[i].process->wait_exit() == 0);
  }
  for (int i = 0; i < 2; ++i) c.members[i].start("");
  for (int i = 0; i < 2; ++i) REQUIRE(c.members[i].ready());
  const std::string both = c.members[0].client + "," + c.members[1].client;
  CHECK(etcdctl(both, "get keep --print-value-only").output == "me\n");
  CHECK(etcdctl(both, "get two --print-value-only").output == "left\n");
  CHECK(Cluster::count_lines(etcdctl(both, "member list").output) == 2);
}
