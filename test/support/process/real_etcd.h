// real_etcd.h: Debian's etcd 3.4 on free loopback ports with a fresh data dir (one member, or a
// cluster), for tests that compare with it or use it as an external store. Ready when etcd
// says so in its output.
#pragma once

#include "test/support/process/child_process.h"

#include <memory>
#include <string>
#include <vector>

namespace mgmt::test {

class RealEtcd {
 public:
  // extra: more of etcd's flags (e.g. {"--quota-backend-bytes=1048576"}).
  explicit RealEtcd(const std::vector<std::string>& extra = {});
  std::string endpoint() const;
  bool ready() const { return ready_; }
  // Kills it (SIGKILL) and starts it again on the same ports and data dir; ready() says whether
  // it came back.
  void kill_and_restart();
  // Sends it a signal: SIGSTOP makes a store that takes connections and answers nothing (a
  // paused member, or one whose cluster lost its quorum); SIGCONT wakes it.
  void send_signal(int signal_number);

 private:
  void start();  // runs argv_ and waits until it serves

  TempDir dir_;
  int client_port_;
  int peer_port_;
  std::vector<std::string> argv_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

// Debian's etcd 3.4 as a cluster of `size` members on loopback (a static initial cluster),
// ready once every member serves.
class RealEtcdCluster {
 public:
  explicit RealEtcdCluster(int size, const std::vector<std::string>& extra = {});
  // Each member's client URL, in member order.
  std::vector<std::string> endpoints() const;
  // Starts a member the cluster was told of by MemberAdd (`initial`: etcd's --initial-cluster
  // of every member, this one included, as NAME=PEER_URL,...), listening on `peer_url`;
  // returns its client URL once it serves, "" if it does not within the wait.
  std::string join(const std::string& name, const std::string& peer_url,
                   const std::string& initial);
  bool ready() const { return ready_; }

 private:
  TempDir dir_;
  std::vector<int> client_ports_;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
  bool ready_ = false;
};

// Whether a program is on PATH.
bool have_program(const std::string& program);

}  // namespace mgmt::test
