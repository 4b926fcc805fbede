// deploy_command.cpp: `mgmt deploy`; see commands.h. With --wait it follows the hosts' status
// keys until every live agent has loaded the deploy and converged, or one reports an error.
#include "agent/deploy/commands.h"
#include "agent/deploy/deployer.h"
#include "common/host.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

namespace mgmt::agent::deploy {
namespace {

std::string this_host() { return machine_hostname(); }

int wait_for_hosts(store::client::EtcdClient& client, int64_t id, int timeout_seconds,
                   std::ostream& out, std::ostream& err) {
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t generation = 0;
  auto watch = client.watch(
      kStatusPrefix, true, 0,
      [&](const std::vector<store::client::WatchEvent>&) {
        std::lock_guard lock(mutex);
        ++generation;
        changed.notify_all();
      },
      [&](const Error&) {
        std::lock_guard lock(mutex);
        ++generation;
        changed.notify_all();
      });
  if (!watch) {
    err << "mgmt deploy --wait: " << watch.error().message() << "\n";
    return 1;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::map<std::string, bool> reported;
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard lock(mutex);
      seen = generation;
    }
    auto hosts = client.get(kStatusPrefix, store::client::GetOptions{true, false, 0, 0});
    if (!hosts) {
      err << "mgmt deploy --wait: " << hosts.error().message() << "\n";
      return 1;
    }
    if (hosts->kvs.empty()) {
      err << "mgmt deploy --wait: no live agent reports its status; start `mgmt run` on the "
             "hosts, or deploy without --wait\n";
      return 1;
    }
    bool all = true;
    for (const auto& kv : hosts->kvs) {
      auto status = decode_status(kv.value);
      if (!status) continue;
      // Its error is about this deploy once it loaded it or tried to (and failed).
      if ((status->deploy >= id || status->attempted >= id) && !status->error.empty()) {
        err << "mgmt deploy --wait: host " << status->host << " failed deploy " << id << ": "
            << status->error << "\n";
        return 1;
      }
      bool done = status->deploy >= id && status->converged;
      if (done && !reported[status->host]) {
        out << "deploy: " << status->host << " loaded deploy " << id << " and converged\n";
        reported[status->host] = true;
      }
      all = all && done;
    }
    if (all) return 0;
    std::unique_lock lock(mutex);
    if (!changed.wait_until(lock, deadline, [&] { return generation != seen; })) {
      err << "mgmt deploy --wait: not every host converged on deploy " << id << " within "
          << timeout_seconds << "s; see `mgmt get hosts`\n";
      return 1;
    }
  }
}

}  // namespace

int deploy_main(const cli::DeployOptions& options, std::ostream& out, std::ostream& err) {
  std::string command = "mgmt deploy " + options.frontend.name;
  auto seeds = options.seeds.empty() ? std::vector<std::string>{kDefaultSeed} : options.seeds;
  auto client = store::client::EtcdClient::open(seeds);
  if (!client) {
    err << command << ": " << client.error().message() << "\n";
    return 1;
  }
  DeployRequest request;
  request.frontend = options.frontend.name;
  request.code = options.frontend.input;
  request.no_git = options.no_git;
  request.force = options.force;
  request.noop = options.noop;
  request.retries = options.retries;
  request.skip_unify = options.frontend.skip_unify;
  request.puppet_code = options.frontend.puppet_input;
  request.puppet_conf = options.frontend.puppet_config;
  request.deployer = this_host();
  auto landed = deploy(**client, request, [&](const std::string& note) {
    out << "deploy: " << note << "\n";
  });
  if (!landed) {
    err << command << ": " << landed.error().message() << "\n";
    return 1;
  }
  std::string commit = landed->commit.empty() ? "no commit" : "commit " +
                                                                  landed->commit.substr(0, 7);
  out << "deploy: deploy " << landed->id << " landed (" << landed->frontend << ", " << commit
      << (landed->dirty ? ", dirty tree" : "") << ")\n";
  if (options.wait) return wait_for_hosts(**client, landed->id, options.wait_timeout, out, err);
  return 0;
}

}  // namespace mgmt::agent::deploy
