// daemon.cpp: start-up, waiting and shutdown of `mgmt run`; see daemon.h.
#include "agent/run/daemon.h"

#include "agent/run/data_dir.h"
#include "agent/run/stop_signal.h"
#include "agent/run/systemd_notify.h"
#include "common/log.h"
#include "common/version.h"
#include "store/server/store_server.h"
#include "agent/engine/engine.h"
#include "frontends/yaml/yaml_graph.h"

#include <fmt/ranges.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

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

  // The store: embedded (the default), or the cluster at --seeds with --no-server.
  std::unique_ptr<store::server::StoreServer> store;
  std::vector<std::string> endpoints = options.seeds;
  if (options.no_server) {
    if (options.seeds.empty()) {
      std::cerr << "mgmt run: --no-server needs a store to use; give its URLs with --seeds "
                   "(or MGMT_SEEDS)\n";
      return kExitStore;
    }
    log->info("using the store at {} (no embedded server)", fmt::join(options.seeds, ", "));
  } else {
    if (!options.seeds.empty()) {
      std::cerr << "mgmt run: joining a cluster with --seeds needs the Raft-replicated store, "
                   "which is not built yet; run with --no-server to use that cluster as a "
                   "client\n";
      return kExitStore;
    }
    store::server::StoreConfig config;
    config.data_dir = ((*data_dir)->path() / "store").string();
    config.member_name = hostname;
    if (!options.client_urls.empty()) config.client_urls = options.client_urls;
    if (!options.server_urls.empty()) config.peer_urls = options.server_urls;
    auto opened = store::server::StoreServer::open(config);
    if (!opened) {
      std::cerr << "mgmt run: " << opened.error().message() << "\n";
      return kExitDataDir;
    }
    store = std::move(*opened);
    if (auto started = store->start(); !started) {
      std::cerr << "mgmt run: " << started.error().message() << "\n";
      return kExitStore;
    }
    endpoints = store->client_endpoints();
  }

  // The engine, and the code given on the command line, if any.
  engine::EngineOptions engine_options;
  engine_options.noop = options.noop;
  engine_options.autoedges = !options.no_autoedges;
  engine_options.converged_timeout = options.converged_timeout;
  engine_options.on_converged = [&stop, &options] {
    stop.request_stop("converged for " + std::to_string(options.converged_timeout) + "s");
  };
  auto engine = engine::Engine::create(engine_options);
  const auto& frontend = options.frontend;
  if (frontend.name == "yaml" || frontend.name == "empty") {
    auto graph = frontend.name == "yaml" ? frontends::yaml::load_graph_file(frontend.input)
                                         : Result<frontends::GraphSpec>(frontends::GraphSpec{});
    if (!graph) {
      std::cerr << "mgmt run " << frontend.name << ": " << graph.error().message() << "\n";
      return kExitCode;
    }
    if (auto swapped = engine->swap(*graph); !swapped) {
      std::cerr << "mgmt run " << frontend.name << ": " << swapped.error().message() << "\n";
      return kExitCode;
    }
  } else if (!frontend.name.empty()) {
    std::cerr << "mgmt run " << frontend.name << ": the " << frontend.name
              << " frontend is not built yet; use yaml or empty\n";
    return kExitCode;
  } else {
    log->info("no code given: waiting (deploys through the store are not built yet)");
  }

  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.max_runtime > 0) {
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.max_runtime);
  }
  systemd.ready("running as " + hostname);
  std::string reason = stop.wait(deadline);
  log->info("stopping: {}", reason);
  systemd.stopping();
  engine->stop();
  if (store) store->stop();
  return kExitOk;
}

}  // namespace mgmt::agent::run
