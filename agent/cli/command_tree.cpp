// command_tree.cpp: declares every command and flag of mgmt; see command_tree.h.
#include "agent/cli/command_tree.h"

#include "agent/cli/misuse.h"

namespace mgmt::agent::cli {
namespace {

// A list-valued flag: `--seeds=a,b`, `--seeds a --seeds b` and `--seeds=a --seeds=b` all give
// [a, b]; each occurrence takes exactly one value, so the positional arguments that follow are
// never swallowed (`--seeds URL lang x.mcl` keeps `lang x.mcl` as the command).
CLI::Option* add_list_flag(CLI::App* app, const std::string& name,
                           std::vector<std::string>* values, const std::string& help,
                           const std::string& env) {
  auto* opt = app->add_option(name, *values, help);
  opt->delimiter(',');
  opt->allow_extra_args(false);
  opt->type_name("URL");
  if (!env.empty()) opt->envname(env);
  opt->check(CLI::Validator(
      [](std::string& value) {
        auto error = url_problem(value);
        return error ? *error : std::string();
      },
      "", "URL"));
  return opt;
}

// Rejects anything but a whole number >= min, naming the value and giving an example.
// A positive duration, as etcd's duration flags take it ("500ms", "30s", "10m").
CLI::Validator positive_duration() {
  return CLI::Validator(
      [](std::string& value) {
        auto error = positive_duration_problem(value);
        return error ? *error : std::string();
      },
      "", "");
}

CLI::Validator whole_number(long long min) {
  return CLI::Validator(
      [min](std::string& value) {
        auto error = whole_number_problem(value, min);
        return error ? *error : std::string();
      },
      "", "");
}

void add_frontend_flags(CLI::App* frontend, FrontendArgs* args, bool takes_code) {
  const std::string& name = frontend->get_name();
  if (name == "lang") {
    frontend->add_option("code", args->input,
                         "the mcl code: a .mcl file, or a directory holding main.mcl")
        ->type_name("PATH");
    frontend->add_flag("--skip-unify", args->skip_unify,
                       "do not type-check the code before using it");
    frontend->add_option("--module-path", args->module_path,
                         "directory where imported modules are found")
        ->envname("MGMT_MODULE_PATH")
        ->type_name("DIR");
  } else if (name == "yaml") {
    frontend->add_option("code", args->input, "the YAML graph file")->type_name("FILE");
  } else if (name == "puppet") {
    frontend->add_option("code", args->input,
                         "the puppet code: a .pp file, a directory holding site.pp (and its "
                         "modules/), or inline code")
        ->type_name("CODE");
    frontend->add_option("--puppet-conf", args->puppet_config,
                         "a puppet.conf for compiling it (default: puppet's own settings)")
        ->type_name("FILE");
  } else if (name == "langpuppet") {
    frontend->add_option("--lp-lang", args->input,
                         "the mcl side: a .mcl file, or a directory holding main.mcl")
        ->type_name("PATH");
    frontend->add_option("--lp-puppet", args->puppet_input,
                         "the puppet side: a .pp file, or a directory holding site.pp (and "
                         "its modules/)")
        ->type_name("PATH");
    frontend->add_option("--lp-puppet-conf", args->puppet_config,
                         "a puppet.conf for compiling the puppet side")
        ->type_name("FILE");
    frontend->add_flag("--skip-unify", args->skip_unify,
                       "do not type-check the mcl side before using it");
  }
  (void)takes_code;
}

void add_frontends(CLI::App* parent, FrontendArgs* args, const std::string& verb) {
  struct Entry {
    const char* name;
    const char* what;
  };
  static const Entry entries[] = {
      {"empty", "an empty graph: removes everything the previous code managed"},
      {"yaml", "a graph written in YAML (resources and edges)"},
      {"lang", "code in mcl, mgmt's reactive configuration language"},
      {"puppet", "a puppet manifest, translated into a graph"},
      {"langpuppet", "mcl and puppet code merged into one graph"},
  };
  for (const auto& entry : entries) {
    auto* sub = parent->add_subcommand(entry.name, verb + " " + entry.what);
    sub->fallthrough();
    sub->callback([args, sub] { args->name = sub->get_name(); });
    add_frontend_flags(sub, args, std::string(entry.name) != "empty");
  }
}

void add_seeds(CLI::App* app, std::vector<std::string>* seeds) {
  add_list_flag(app, "--seeds", seeds,
                "client URLs of the cluster's store (ours or etcd), comma separated or repeated",
                "MGMT_SEEDS");
}

void add_run(CLI::App* root, RunOptions* o) {
  auto* run = root->add_subcommand(
      "run", "run the agent: host the cluster store, watch for deploys, converge this host");
  run->fallthrough();
  run->add_option("--hostname", o->hostname, "name of this host in the cluster (default: the "
                                             "machine's hostname)")
      ->envname("MGMT_HOSTNAME")
      ->check(CLI::Validator(
          [](std::string& value) { return host_name_problem(value).value_or(std::string()); },
          "", ""));
  run->add_option("--prefix", o->prefix, "data directory for the store and the agent")
      ->envname("MGMT_PREFIX")
      ->capture_default_str()
      ->type_name("DIR");
  run->add_flag("--tmp-prefix", o->tmp_prefix,
                "use a fresh temporary data directory, removed on exit");
  add_seeds(run, &o->seeds);
  add_list_flag(run, "--client-urls", &o->client_urls,
                "URLs the store listens on for clients: etcd's gRPC API, and over HTTP /health, "
                "/version, /metrics and the JSON gateway /v3/... (default: "
                "http://127.0.0.1:2379)",
                "MGMT_CLIENT_URLS");
  add_list_flag(run, "--server-urls", &o->server_urls,
                "URLs the store listens on for peers (default: http://127.0.0.1:2380)",
                "MGMT_SERVER_URLS");
  add_list_flag(run, "--advertise-client-urls", &o->advertise_client_urls,
                "client URLs other hosts should use (default: the --client-urls)",
                "MGMT_ADVERTISE_CLIENT_URLS");
  add_list_flag(run, "--advertise-server-urls", &o->advertise_server_urls,
                "peer URLs other hosts should use (default: the --server-urls)",
                "MGMT_ADVERTISE_SERVER_URLS");
  run->add_option("--ideal-cluster-size", o->ideal_cluster_size,
                  "how many hosts should be voting members of the store")
      ->envname("MGMT_IDEAL_CLUSTER_SIZE")
      ->capture_default_str()
      ->check(whole_number(1));
  run->add_option("--member-timeout", o->member_timeout,
                  "seconds a store member may be unreachable before the leader removes it, "
                  "making room for a live agent to join (0: never)")
      ->envname("MGMT_MEMBER_TIMEOUT")
      ->capture_default_str()
      ->check(whole_number(0));
  run->add_option("--snapshot-count", o->snapshot_count,
                  "applied store entries between snapshots of the log (compaction), as etcd's")
      ->envname("MGMT_SNAPSHOT_COUNT")
      ->capture_default_str()
      ->check(whole_number(1));
  run->add_option("--snapshot-catchup-entries", o->snapshot_catchup_entries,
                  "applied store entries a compaction keeps, so that a slow member catches up "
                  "from the log rather than from a snapshot of the whole store, as etcd's")
      ->envname("MGMT_SNAPSHOT_CATCHUP_ENTRIES")
      ->capture_default_str()
      ->check(whole_number(0));
  run->add_option("--quota-backend-bytes", o->quota_backend_bytes,
                  "bytes the store may hold before it refuses writes and raises the NOSPACE "
                  "alarm, as etcd's (0: etcd's default of 2 GiB; negative: no limit)")
      ->envname("MGMT_QUOTA_BACKEND_BYTES")
      ->capture_default_str();
  run->add_option("--auto-compaction-mode", o->auto_compaction_mode,
                  "how --auto-compaction-retention counts, as etcd's: periodic (a time) or "
                  "revision (a number of revisions)")
      ->envname("MGMT_AUTO_COMPACTION_MODE")
      ->capture_default_str();
  run->add_option("--auto-compaction-retention", o->auto_compaction_retention,
                  "the store history to keep, older revisions being compacted away, as etcd's: "
                  "hours or a duration like 30m (periodic), or revisions (revision); 0: keep "
                  "it all")
      ->envname("MGMT_AUTO_COMPACTION_RETENTION")
      ->capture_default_str();
  run->add_option("--watch-progress-notify-interval,--experimental-watch-progress-notify-interval",
                  o->watch_progress_notify_interval,
                  "how often the store tells a watcher created with progress_notify (clientv3's "
                  "WithProgressNotify) the current revision when no event came for it, as etcd's")
      ->envname("MGMT_WATCH_PROGRESS_NOTIFY_INTERVAL")
      ->type_name("DURATION")
      ->capture_default_str()
      ->check(positive_duration());
  run->add_flag("--no-server", o->no_server,
                "host no store; use the cluster at --seeds (ours or a real etcd)");
  run->add_option("--converged-timeout", o->converged_timeout,
                  "exit after this many seconds with everything in state (-1: never)")
      ->envname("MGMT_CONVERGED_TIMEOUT")
      ->capture_default_str()
      ->check(whole_number(-1));
  run->add_option("--max-runtime", o->max_runtime,
                  "exit after about this many seconds (0: run until stopped)")
      ->envname("MGMT_MAX_RUNTIME")
      ->capture_default_str()
      ->check(whole_number(0));
  run->add_flag("--noop", o->noop, "change nothing: report what would be done");
  run->add_flag("--no-watch", o->no_watch,
                "keep the first graph: no later deploys, no new runs of its mcl or puppet code");
  run->add_flag("--no-deploy-watch", o->no_deploy_watch,
                "keep the first deploy; ignore later ones");
  run->add_flag("--no-autoedges", o->no_autoedges, "do not add automatic edges");
  run->add_flag("--no-autogroup", o->no_autogroup, "do not group resources automatically");
  add_frontends(run, &o->frontend, "run");
  run->footer(
      "Without a frontend, the agent waits for code from `mgmt deploy`. With one, it deploys\n"
      "that code to itself through the store, exactly as `mgmt deploy --force` would; hosts\n"
      "started together with their code deploy it one after the other.\n"
      "\n"
      "Exit codes: 0 stopped (a signal, --max-runtime, --converged-timeout); 2 the command line\n"
      "is wrong; 10 the data dir cannot be used (not a directory, unwritable, locked by another\n"
      "agent, damaged, or holding another cluster's member); 11 the store cannot start or be\n"
      "reached (a URL in use, seeds that do not answer, this member removed from the cluster);\n"
      "12 the code given here failed. Every failure says why and what to do, in one line.");
}

void add_deploy(CLI::App* root, DeployOptions* o) {
  auto* deploy = root->add_subcommand(
      "deploy", "ship code to every agent of the cluster through the store");
  deploy->fallthrough();
  add_seeds(deploy, &o->seeds);
  deploy->add_flag("--no-git", o->no_git,
                   "do not check the git commit chain of the code's repository");
  deploy->add_flag("--force", o->force,
                   "deploy even if the running deploy's commit is not an ancestor");
  deploy->add_flag("--noop", o->noop, "agents change nothing: they report what they would do");
  deploy->add_flag("--wait", o->wait,
                   "wait until every live agent has loaded the deploy and converged");
  deploy->add_option("--wait-timeout", o->wait_timeout, "give up waiting after this many seconds")
      ->capture_default_str()
      ->check(whole_number(1));
  deploy->add_option("--retries", o->retries,
                     "times to retry when another deploy lands first")
      ->capture_default_str()
      ->check(whole_number(0));
  add_frontends(deploy, &o->frontend, "deploy");
  deploy->footer(
      "Inside a git repository (found from the code's own directory), the running deploy's\n"
      "commit must be an ancestor of the new one; outside git no commit chain is checked.");
}

void add_get(CLI::App* root, GetOptions* o) {
  auto* get = root->add_subcommand(
      "get", "show keys of the cluster store; `get deploys` and `get hosts` summarise");
  get->fallthrough();
  add_seeds(get, &o->seeds);
  get->add_flag("--prefix", o->prefix, "show every key that starts with KEY");
  get->add_flag("--keys-only", o->keys_only, "show keys without their values");
  get->add_option("--rev", o->rev, "read the store as it was at this revision (0: now)")
      ->capture_default_str()
      ->check(whole_number(0));
  get->add_option("-o,--output", o->output, "output format")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  get->add_option("key", o->key, "the key, or `deploys`, or `hosts`")->type_name("KEY");
}

void add_graph(CLI::App* root, GraphOptions* o) {
  auto* graph = root->add_subcommand(
      "graph", "print the resource graph some code produces, without running it");
  graph->fallthrough();
  add_frontends(graph, &o->frontend, "graph of");
}

void add_restore(CLI::App* root, RestoreOptions* o) {
  auto* restore = root->add_subcommand(
      "restore", "make a new data dir from a store snapshot (`etcdctl snapshot save`)");
  restore->add_option("snapshot", o->snapshot, "the snapshot file")
      ->required()
      ->type_name("FILE");
  restore->add_option("--prefix", o->prefix,
                      "the new agent's data directory (must not exist yet)")
      ->required()
      ->type_name("DIR");
  restore->footer(
      "The new data dir holds the snapshot's keys, their history since its last compaction,\n"
      "its leases and its revision, and none of its cluster's members: `mgmt run --prefix DIR`\n"
      "then founds a new cluster of one member, which other agents join with --seeds.");
}

}  // namespace

std::unique_ptr<CommandTree> build_command_tree() {
  auto tree = std::make_unique<CommandTree>();
  auto& root = tree->root;
  root = std::make_unique<CLI::App>(
      "mgmt: a real-time, distributed configuration-management agent", "mgmt");
  root->option_defaults()->always_capture_default(false);
  root->add_flag("-v,--verbose", tree->options.global.verbose, "log more (debug level)");
  root->add_flag("--debug", tree->options.global.debug, "log everything (trace level)");
  root->add_flag("-q,--quiet", tree->options.global.quiet, "log only warnings and errors");
  root->add_flag("--version", tree->options.global.version,
                 "print the version and the git commit it was built from, as `mgmt version`");
  add_run(root.get(), &tree->options.run);
  add_deploy(root.get(), &tree->options.deploy);
  add_get(root.get(), &tree->options.get);
  add_graph(root.get(), &tree->options.graph);
  add_restore(root.get(), &tree->options.restore);
  root->add_subcommand("help", "show the help of a command: `mgmt help deploy lang`");
  root->add_subcommand("version", "print the version and the git commit it was built from");
  root->footer("Every command has its help: `mgmt help COMMAND`, `mgmt COMMAND --help`.");
  return tree;
}

std::string command_path(const CLI::App* command) {
  std::string path;
  for (const CLI::App* c = command; c != nullptr; c = c->get_parent()) {
    path = path.empty() ? c->get_name() : c->get_name() + " " + path;
  }
  return path;
}

std::vector<CLI::App*> subcommands_of(CLI::App* command) {
  return command->get_subcommands([](CLI::App*) { return true; });
}

}  // namespace mgmt::agent::cli
