// daemon.cpp: start-up, waiting and shutdown of `mgmt run`; see daemon.h.
#include "agent/run/daemon.h"

#include <malloc.h>

#include "agent/cli/misuse.h"
#include "agent/run/data_dir.h"
#include "agent/run/exports.h"
#include "agent/run/lang_stream.h"
#include "agent/run/puppet_deploy.h"
#include "agent/run/membership.h"
#include "agent/run/store_access.h"
#include "agent/run/stop_signal.h"
#include "agent/run/systemd_notify.h"
#include "common/duration.h"
#include "common/host.h"
#include "common/log.h"
#include "common/version.h"
#include "store/server/progress_ticker.h"
#include "store/server/space_quota.h"
#include "store/server/store_server.h"
#include "agent/engine/engine.h"
#include "frontends/lang/lang_frontend.h"
#include "frontends/yaml/yaml_graph.h"
#include "agent/deploy/deployer.h"
#include "agent/deploy/deploy_watcher.h"
#include "agent/deploy/status_publisher.h"
#include "store/client/etcd_client.h"

#include <fmt/ranges.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mgmt::agent::run {

int run_daemon(const cli::RunOptions& options) {
  auto log = log::get("agent");
  StopSignal stop;  // first: blocks the stop signals before any thread starts
  SystemdNotify systemd;

  auto compaction = store::server::parse_auto_compaction(options.auto_compaction_mode,
                                                          options.auto_compaction_retention);
  if (!compaction) {
    std::cerr << "mgmt run: " << compaction.error().message() << "\n";
    return cli::kExitUsage;
  }
  std::string hostname = options.hostname.empty() ? machine_hostname() : options.hostname;
  // A --hostname was checked with the flags; the machine's own is checked here.
  if (auto problem = options.hostname.empty() ? cli::host_name_problem(hostname) : std::nullopt) {
    std::cerr << "mgmt run: this machine's hostname " << *problem << "; give one with "
              << "--hostname NAME\n";
    return cli::kExitUsage;
  }
  auto data_dir = DataDir::open(options.prefix, options.tmp_prefix);
  if (!data_dir) {
    std::cerr << "mgmt run: " << data_dir.error().message() << "\n";
    return kExitDataDir;
  }
  log->info("mgmt {} (commit {}) starting as {}, data in {}", version(), build_commit(),
            hostname, (*data_dir)->path().string());

  // The store: embedded (the default), or the cluster at --seeds with --no-server.
  std::unique_ptr<store::server::StoreServer> store;
  std::mutex store_mutex;  // guards `store` once a client agent may join (membership.h)
  auto member_store = [&]() -> store::server::StoreServer* {
    std::lock_guard lock(store_mutex);
    return store.get();
  };
  store::server::StoreConfig config;  // this agent's member, now or when nominated
  std::vector<std::string> advertise_peers;
  bool volunteer = false;  // a client of the cluster that may be nominated to join it
  std::atomic<bool> removed_from_cluster{false};
  std::vector<std::string> endpoints = options.seeds;
  if (options.no_server) {
    if (options.seeds.empty()) {
      std::cerr << "mgmt run: --no-server needs a store to use; give its URLs with --seeds "
                   "(or MGMT_SEEDS)\n";
      return kExitStore;
    }
    log->info("using the store at {} (no embedded server)", fmt::join(options.seeds, ", "));
  } else {
    config.data_dir = ((*data_dir)->path() / "store").string();
    config.member_name = hostname;
    if (!options.client_urls.empty()) config.client_urls = options.client_urls;
    if (!options.server_urls.empty()) config.peer_urls = options.server_urls;
    config.ideal_voters = static_cast<size_t>(std::max(1, options.ideal_cluster_size));
    config.member_timeout = std::chrono::seconds(std::max(0, options.member_timeout));
    // Removed while running (partitioned past --member-timeout, or by hand): a member without
    // a cluster serves nothing, so the agent stops and says what to do.
    config.on_removed = [&stop, &removed_from_cluster, dir = config.data_dir] {
      removed_from_cluster = true;
      stop.request_stop("this agent's store member was removed from the cluster (by hand, or "
                        "after it was unreachable past --member-timeout); move " +
                        dir + " away and start again to join the cluster as a new member");
    };
    config.snapshot_count = static_cast<uint64_t>(std::max(1, options.snapshot_count));
    config.snapshot_catchup_entries =
        static_cast<uint64_t>(std::max(0, options.snapshot_catchup_entries));
    config.quota_backend_bytes = options.quota_backend_bytes;
    config.auto_compaction = *compaction;
    // Checked with the flags: a positive duration.
    config.watch_progress_notify_interval =
        parse_duration(options.watch_progress_notify_interval)
            .value_or(store::server::ProgressTicker::kDefaultInterval);
    if (options.quota_backend_bytes > store::server::SpaceQuota::kMaxBytes) {
      log::get("etcd")->warn("--quota-backend-bytes {} is past etcd's recommended maximum of "
                             "8 GiB; every member holds its whole store in memory",
                             options.quota_backend_bytes);
    }
    config.advertise_client_urls = options.advertise_client_urls;
    config.advertise_peer_urls = options.advertise_server_urls;
    advertise_peers =
        options.advertise_server_urls.empty() ? config.peer_urls : options.advertise_server_urls;
    // Before a cluster is created or asked to add a member: URLs in use are the user's to fix.
    if (auto r = store::server::check_listen(config); !r) {
      std::cerr << "mgmt run: " << r.error().message() << "\n";
      return kExitStore;
    }
    bool serve = true;
    if (!options.seeds.empty()) {
      // An agent given --seeds belongs to that cluster: it never starts a new one. With no
      // store of its own yet, it asks to join (as a learner the leader promotes when caught up)
      // while the cluster has fewer voters than --ideal-cluster-size; past it, it is a client.
      config.never_bootstrap = true;
      config.seeds = fmt::format("{}", fmt::join(options.seeds, ","));
      std::error_code ec;
      const bool have_store = std::filesystem::exists(config.data_dir, ec) &&
                              !std::filesystem::is_empty(config.data_dir, ec);
      if (!have_store) {
        auto seeds = store::client::EtcdClient::open(options.seeds);
        if (!seeds) {
          std::cerr << "mgmt run: " << seeds.error().message() << "\n";
          return kExitStore;
        }
        auto members = (*seeds)->member_list();
        if (!members) {
          // The client's error names the seeds, the cause and the remedy already.
          std::cerr << "mgmt run: " << members.error().message() << "\n";
          return kExitStore;
        }
        size_t voters = 0;
        for (const auto& m : *members) voters += m.is_learner ? 0 : 1;
        if (voters >= config.ideal_voters) {
          serve = false;
          volunteer = true;
          log->info("the cluster has {} voting members (--ideal-cluster-size {}): running as its "
                    "client, without a store of my own", voters, config.ideal_voters);
        } else {
          if (auto joined = ask_to_join(**seeds, advertise_peers, config); !joined) {
            std::cerr << "mgmt run: " << joined.error().message() << "\n";
            return kExitStore;
          }
          log->info("joining cluster {:x} as member {:x} (a learner until it has caught up)",
                    config.join_cluster_id.value_or(0), config.join_member_id.value_or(0));
        }
      } else if (auto seeds = store::client::EtcdClient::open(options.seeds,
                                                              std::chrono::seconds(2))) {
        // Restarting on a store of its own: the seeds, when they answer, must serve the same
        // cluster (a whole cluster restarting may not answer yet; the store then starts alone).
        if (auto id = (*seeds)->cluster_id()) config.seeds_cluster_id = *id;
      }
    }
    if (serve) {
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
      // Serve deploys only once the cluster has a leader (a restarting cluster waits for a
      // quorum of its members); say so while waiting.
      while (!store->wait_for_leader(std::chrono::seconds(5))) {
        if (store->removed()) {
          std::cerr << "mgmt run: this agent's store member was removed from the cluster (by "
                       "hand, or after it was unreachable past --member-timeout); move "
                    << config.data_dir
                    << " away and start again to join the cluster as a new member\n";
          return kExitStore;
        }
        if (stop.stop_requested()) return 0;
        log->info("waiting for the store's cluster to elect a leader (needs a quorum of its "
                  "members running)");
      }
    }
  }

  // The engine. Graphs reach it only through deploys in the store, also the code given on
  // this command line (deployed to the store first, exactly as `mgmt deploy` would).
  engine::EngineOptions engine_options;
  engine_options.noop = options.noop;
  engine_options.autoedges = !options.no_autoedges;
  engine_options.converged_timeout = options.converged_timeout;
  engine_options.state_dir = ((*data_dir)->path() / "engine").string();
  std::atomic<bool> converged{false};
  std::function<void()> poke_status;
  std::mutex poke_mutex;  // guards poke_status
  engine_options.on_converged = [&] {
    converged = true;
    // A burst of checks (a new graph, a storm of events) leaves freed pages behind; converged
    // is quiet and rare, the time to give them back (glibc keeps them by default).
    ::malloc_trim(0);
    {
      std::lock_guard lock(poke_mutex);
      if (poke_status) poke_status();
    }
    if (options.converged_timeout >= 0) {
      stop.request_stop("converged for " + std::to_string(options.converged_timeout) + "s");
    }
  };
  // Without --converged-timeout, converged still reports to the status key after a quiet 1 s.
  if (engine_options.converged_timeout < 0) engine_options.converged_timeout = 1;
  // The client outlives the engine (declared first): kv resources use it until they stop.
  auto client = store::client::EtcdClient::open(endpoints);
  if (!client) {
    std::cerr << "mgmt run: " << client.error().message() << "\n";
    return kExitStore;
  }
  auto store_access = std::make_shared<run::EtcdStoreAccess>(**client);
  engine_options.services->store = store_access;
  engine_options.services->hostname = hostname;
  const std::string value_dir = ((*data_dir)->path() / "lang" / "value").string();
  {
    std::error_code ec;  // made now, so value.get_* can watch it before any value is set
    std::filesystem::create_directories(value_dir, ec);
  }
  engine_options.services->value_dir = value_dir;
  auto engine = engine::Engine::create(engine_options);
  const auto& frontend = options.frontend;
  if (!frontend.name.empty()) {
    deploy::DeployRequest request;
    request.frontend = frontend.name;
    request.code = frontend.input;
    request.force = true;  // code given to `mgmt run` replaces whatever ran before
    // Hosts of a cluster started together with their code each deploy it at once; one that
    // loses that race deploys again on top of the winner (force makes that valid) rather than
    // exiting. Bounded: one retry per other deployer racing it, up to 10.
    request.retries = 10;
    request.skip_unify = frontend.skip_unify;
    request.puppet_code = frontend.puppet_input;
    request.puppet_conf = frontend.puppet_config;
    request.noop = options.noop;
    request.deployer = hostname;
    auto landed = deploy::deploy(**client, request, [&](const std::string& note) {
      log::get("deploy")->info("{}", note);
    });
    if (!landed) {
      std::cerr << "mgmt run " << frontend.name << ": " << landed.error().message() << "\n";
      return kExitCode;
    }
  }
  std::string work_dir = ((*data_dir)->path() / "deploys").string();
  // A lang deploy is reactive: lang_stream runs it again when what it read changes. Swaps
  // from it and from new deploys take turns; a new deploy ends the last one's stream first.
  std::mutex swap_mutex;
  std::unique_ptr<LangStream> stream;
  std::unique_ptr<PuppetDeploy> puppet_deploy;  // a puppet or langpuppet deploy, kept current
  // What lang programs get from this agent: the world (its store) and local state.
  frontends::lang::LangRuntime lang_runtime;
  lang_runtime.hostname = hostname;
  lang_runtime.var_dir = ((*data_dir)->path() / "lang").string();
  lang_runtime.get = [store_access](const std::string& key) { return store_access->get(key); };
  lang_runtime.get_prefix = [store_access](const std::string& prefix) {
    return store_access->get_prefix(prefix);
  };
  lang_runtime.list_prefix = [store_access](const std::string& prefix) {
    return store_access->list_prefix(prefix);
  };
  lang_runtime.value_dir = value_dir;
  auto swap_graph = [&](frontends::GraphSpec graph, bool noop) -> Result<void> {
    // `mgmt deploy --noop`: every agent checks this deploy and changes nothing.
    if (noop) {
      for (auto& r : graph.resources) r.meta["noop"] = true;
    }
    std::lock_guard lock(swap_mutex);
    if (!noop) {
      // Meta:export: what other hosts may collect from this one.
      if (auto published = publish_exports(*store_access, hostname, graph); !published) {
        log->warn("could not publish this host's exported resources: {}",
                  published.error().message());
      }
    }
    converged = false;
    return engine->swap(graph);
  };
  // What mcl code watches in the store (LangStream, PuppetDeploy's mcl side).
  LangStream::WatchStore watch_store = [store_access](const std::string& key, bool prefix,
                                                      std::function<void()> f) {
    return prefix ? store_access->watch_prefix(key, std::move(f))
                  : store_access->watch(key, std::move(f));
  };
  // Loads one deploy: the newest at start, then each newer one.
  auto load_deploy = [&](const deploy::Payload& payload, const std::string& dir) -> Result<void> {
        // The new deploy is compiled first: one that does not compile leaves the running one
        // as it is, its stream or refresh included. Then the running one stops following its
        // inputs (so that it swaps no graph after the new one) and the new graph goes in.
        frontends::lang::LangRuntime program_runtime = lang_runtime;
        Result<frontends::GraphSpec> graph = frontends::GraphSpec{};
        frontends::lang::StreamSources sources;
        const std::string entry = dir + "/" + payload.entry;
        if (payload.frontend == "yaml") {
          graph = frontends::yaml::load_graph_file(entry);
        } else if (payload.frontend == "lang") {
          // A program's own state (history, os.system's processes) lives as long as its
          // deploy: the stream takes it over; a new deploy starts afresh.
          program_runtime.history = std::make_shared<frontends::lang::HistoryBook>();
          program_runtime.commands = std::make_shared<frontends::lang::CommandLines>();
          graph = frontends::lang::compile_graph(entry, &sources, &program_runtime);
        } else if (payload.frontend == "puppet" || payload.frontend == "langpuppet") {
          // It hands its graphs to the engine itself: the first now, then as either side
          // changes (puppet_deploy.h).
          const bool noop = payload.noop;
          auto prepared = PuppetDeploy::prepare(
              payload, dir, program_runtime, watch_store,
              [&, noop](const frontends::GraphSpec& g) { return swap_graph(g, noop); });
          if (!prepared) return fail(prepared.error());
          stream.reset();
          puppet_deploy = std::move(*prepared);
          return puppet_deploy->start(/*follow_changes=*/!options.no_watch);
        } else if (payload.frontend != "empty") {
          return fail(Code::unimplemented, "this agent does not know the " + payload.frontend +
                                               " frontend; upgrade it");
        }
        if (!graph) return fail(graph.error());
        stream.reset();
        puppet_deploy.reset();
        frontends::GraphSpec first = *graph;
        if (auto swapped = swap_graph(std::move(*graph), payload.noop); !swapped) {
          return swapped;
        }
        if (!sources.empty() && !options.no_watch) {  // --no-watch: the first graph stays
          const bool noop = payload.noop;
          stream = std::make_unique<LangStream>(
              entry, std::move(first), sources, program_runtime, watch_store,
              [&, noop](const frontends::GraphSpec& g) { return swap_graph(g, noop); });
        }
        return ok();
      };
  // --no-deploy-watch keeps the deploy this agent started with; so does --no-watch (which also
  // keeps its first graph). Later deploys are seen and named, not loaded.
  const bool keep_first_deploy = options.no_deploy_watch || options.no_watch;
  bool deploy_loaded = false;  // the watcher's: one deploy loads at a time
  auto apply_deploy = [&](const deploy::Payload& payload, const std::string& dir) -> Result<void> {
    if (keep_first_deploy && deploy_loaded) {
      log::get("deploy")->info("deploy {} is not loaded: {} keeps the deploy this agent started "
                               "with",
                               payload.id, options.no_watch ? "--no-watch" : "--no-deploy-watch");
      return ok();
    }
    auto loaded = load_deploy(payload, dir);
    if (loaded) deploy_loaded = true;
    return loaded;
  };
  auto watcher = deploy::DeployWatcher::start(**client, work_dir, apply_deploy);
  // This agent's own store member may not answer for a while after it starts (catching up
  // with its cluster, installing a large snapshot): that is waited for, not a reason to stop.
  while (!watcher && store && watcher.error().code() == Code::unavailable) {
    log->info("this agent's store member does not answer yet (it may be catching up with its "
              "cluster); asking again in 1 s");
    if (stop.stop_within(std::chrono::seconds(1))) return 0;
    watcher = deploy::DeployWatcher::start(**client, work_dir, apply_deploy);
  }
  if (!watcher) {
    std::cerr << "mgmt run: " << watcher.error().message() << "\n";
    return kExitStore;
  }
  if ((*watcher)->loaded() == 0 && frontend.name.empty()) {
    log->info("no deploy yet: waiting for `mgmt deploy`");
  }
  // The status publisher's own client (gRPC shares the connections): its calls give up after
  // 2 s, so a stop that finds one under way on a store without quorum waits at most that.
  auto status_client = store::client::EtcdClient::open(endpoints, std::chrono::seconds(2));
  if (!status_client) {
    std::cerr << "mgmt run: " << status_client.error().message() << "\n";
    return kExitStore;
  }
  auto status = std::make_unique<deploy::StatusPublisher>(**status_client, [&] {
    deploy::HostStatus s;
    s.host = hostname;
    s.deploy = (*watcher)->loaded();
    s.attempted = (*watcher)->attempted();
    s.converged = converged && engine->idle() && engine->errors().empty();
    s.error = (*watcher)->last_error();
    if (s.error.empty() && !engine->errors().empty()) s.error = engine->errors().front();
    auto* member = member_store();
    s.role = member ? member->role() : "client";
    return s;
  });
  {
    std::lock_guard lock(poke_mutex);
    poke_status = [&status] { status->poke(); };
  }

  // Membership (membership.h): the leader's agent nominates volunteers while the cluster has
  // fewer members than the ideal size; a client agent volunteers and joins when nominated.
  std::unique_ptr<Chooser> chooser;
  std::unique_ptr<Volunteer> volunteering;
  if (!options.no_server && std::getenv("MGMT_NO_CHOOSER") == nullptr) {
    chooser = std::make_unique<Chooser>(*store_access, **client, member_store,
                                        config.ideal_voters);
  }
  if (volunteer) {
    volunteering = std::make_unique<Volunteer>(*store_access, hostname, advertise_peers, [&] {
      if (auto r = store::server::check_listen(config); !r) {
        log->error("could not join the cluster's store: {}", r.error().message());
        return;
      }
      if (auto joined = ask_to_join(**client, advertise_peers, config); !joined) {
        log->error("could not join the cluster's store: {}", joined.error().message());
        return;
      }
      auto opened = store::server::StoreServer::open(config);
      if (!opened) {
        log->error("could not open this agent's store member: {}", opened.error().message());
        return;
      }
      if (auto started = (*opened)->start(); !started) {
        log->error("could not start this agent's store member: {}", started.error().message());
        return;
      }
      log->info("joined cluster {:x} as member {:x} (a learner until it has caught up)",
                config.join_cluster_id.value_or(0), config.join_member_id.value_or(0));
      std::lock_guard lock(store_mutex);
      store = std::move(*opened);
    });
  }

  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options.max_runtime > 0) {
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.max_runtime);
  }
  systemd.ready("running as " + hostname);
  std::string reason = stop.wait(deadline);
  log->info("stopping: {}", reason);
  systemd.stopping();
  {
    std::lock_guard lock(poke_mutex);
    poke_status = nullptr;
  }
  // What is still asked of the store on the agent's own client ends at once, and whatever asks
  // again is answered at once: with the cluster stopping too, or paused, or without a quorum,
  // each call would wait its full 5 s (a deploy's load, a program's read, the volunteer's two
  // reads, the chooser's, a resource's: one after another, 10 s and more). The courtesy
  // revokes below go out on clients of their own.
  (*client)->cancel_calls("this agent is stopping");
  // Then nothing new comes in: no deploy is loaded, no program run, no code compiled once the
  // agent says it stops.
  (*watcher)->stop();  // the status still reads it
  stream.reset();
  puppet_deploy.reset();
  volunteering.reset();
  chooser.reset();
  // The courtesy revokes, side by side, each on a client of its own and within 1 s: the
  // status's lease, and the leases of the agent's expiring keys (kv, schedule, volunteering).
  std::thread status_withdrawn([&status] { status.reset(); });
  store_access->close();
  status_withdrawn.join();
  watcher->reset();
  engine->stop();
  {
    std::lock_guard lock(store_mutex);
    if (store) store->stop();
  }
  return removed_from_cluster ? kExitStore : kExitOk;
}

}  // namespace mgmt::agent::run
