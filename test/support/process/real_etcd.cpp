// real_etcd.cpp: see real_etcd.h.
#include "test/support/process/real_etcd.h"

#include "test/support/process/free_port.h"

#include <signal.h>

namespace mgmt::test {

RealEtcd::RealEtcd(const std::vector<std::string>& extra)
    : client_port_(free_port()), peer_port_(free_port()) {
  std::string client = endpoint();
  std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  argv_ = {
      "/usr/bin/etcd", "--name", "default", "--data-dir", dir_.path() + "/etcd",
      "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls",
      peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "default=" + peer};
  argv_.insert(argv_.end(), extra.begin(), extra.end());
  start();
}

void RealEtcd::kill_and_restart() {
  process_->send_signal(SIGKILL);
  process_->wait_exit();
  start();
}

void RealEtcd::send_signal(int signal_number) { process_->send_signal(signal_number); }

void RealEtcd::start() {
  process_ = std::make_unique<ChildProcess>(argv_);
  ready_ = process_->wait_for_output("ready to serve client requests");
}

std::string RealEtcd::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(client_port_);
}

RealEtcdCluster::RealEtcdCluster(int size, const std::vector<std::string>& extra) {
  std::vector<int> peer_ports;
  std::string initial;
  for (int i = 0; i < size; ++i) {
    client_ports_.push_back(free_port());
    peer_ports.push_back(free_port());
    initial += (i == 0 ? "" : ",") + std::string("e") + std::to_string(i) +
               "=http://127.0.0.1:" + std::to_string(peer_ports.back());
  }
  for (int i = 0; i < size; ++i) {
    const std::string client = "http://127.0.0.1:" + std::to_string(client_ports_[i]);
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_ports[i]);
    std::vector<std::string> argv = {
        "/usr/bin/etcd", "--name", "e" + std::to_string(i), "--data-dir",
        dir_.path() + "/e" + std::to_string(i), "--listen-client-urls", client,
        "--advertise-client-urls", client, "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer, "--initial-cluster", initial,
        "--initial-cluster-state", "new"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    processes_.push_back(std::make_unique<ChildProcess>(argv));
  }
  // Each serves once the cluster has a leader: all of them must have started first.
  ready_ = true;
  for (auto& p : processes_) {
    ready_ = p->wait_for_output("ready to serve client requests") && ready_;
  }
}

std::string RealEtcdCluster::join(const std::string& name, const std::string& peer_url,
                                  const std::string& initial) {
  const std::string client = "http://127.0.0.1:" + std::to_string(free_port());
  std::vector<std::string> argv = {
      "/usr/bin/etcd", "--name", name, "--data-dir", dir_.path() + "/" + name,
      "--listen-client-urls", client, "--advertise-client-urls", client, "--listen-peer-urls",
      peer_url, "--initial-advertise-peer-urls", peer_url, "--initial-cluster", initial,
      "--initial-cluster-state", "existing"};
  processes_.push_back(std::make_unique<ChildProcess>(argv));
  return processes_.back()->wait_for_output("ready to serve client requests") ? client : "";
}

std::vector<std::string> RealEtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (int port : client_ports_) out.push_back("http://127.0.0.1:" + std::to_string(port));
  return out;
}

bool have_program(const std::string& program) {
  return run_to_completion({"/bin/sh", "-c", "command -v " + program}).exit_code == 0;
}

}  // namespace mgmt::test
