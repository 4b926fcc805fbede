// real_etcd.h: Debian's etcd 3.4 on free loopback ports with a fresh data dir, for tests that
// compare with it or use it as an external store. Ready when etcd says so in its output.
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

// Whether a program is on PATH.
bool have_program(const std::string& program);

}  // namespace mgmt::test
