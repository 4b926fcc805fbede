// daemon.cpp: start-up, waiting and shutdown of `mgmt run`; see daemon.h.
#include "agent/run/daemon.h"

#include "agent/run/data_dir.h"
#include "agent/run/stop_signal.h"
#include "agent/run/systemd_notify.h"
#include "common/log.h"
#include "common/version.h"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>

namespace mgmt::agent::run {
namespace {

std::string machine_hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace

int run_daemon(const cli::RunOptions& options) {
  auto log = log::get("agent");
  StopSignal stop;  // first: blocks the stop signals before any thread starts
  SystemdNotify systemd;

  std::string hostname = options.hostname.empty() ? machine_hostname() : options.hostname;
  auto data_dir = DataDir::open(options.prefix, options.tmp_prefix);
  if (!data_dir) {
    std::cerr << "mgmt run: " << data_dir.error().message() << "\n";
    return kExitDataDir;
  }
  log->info("mgmt {} (commit {}) starting as {}, data in {}", version(), build_commit(),
            hostname, (*data_dir)->path().string());

  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.max_runtime > 0) {
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.max_runtime);
  }
  systemd.ready("running as " + hostname);
  std::string reason = stop.wait(deadline);
  log->info("stopping: {}", reason);
  systemd.stopping();
  return kExitOk;
}

}  // namespace mgmt::agent::run
