// options.h: what the command line says, as plain values. The command tree (command_tree.h)
// fills these; the modules that do the work read them. No parsing logic lives here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mgmt::agent::cli {

// The frontends a payload can be written for; the next layer under run, deploy and graph.
inline const std::vector<std::string> kFrontends = {"empty", "yaml", "lang", "puppet",
                                                    "langpuppet"};

// The frontend chosen under run/deploy/graph and its code argument.
struct FrontendArgs {
  std::string name;         // one of kFrontends, or empty when none was given
  std::string input;        // the code: a file or directory (empty for `empty`); langpuppet:
                            // the mcl side (--lp-lang); puppet: also inline code
  bool skip_unify = false;  // lang: ship without type-checking
  std::string module_path;  // lang: where imported modules are found
  std::string puppet_config;  // puppet/langpuppet: the puppet.conf to use
  std::string puppet_input;   // langpuppet: the puppet side (--lp-puppet); input is the mcl side
};

struct GlobalOptions {
  bool verbose = false;
  bool debug = false;
  bool quiet = false;
  bool version = false;  // --version: as `mgmt version` (the reference's go-arg has it too)
};

struct RunOptions {
  std::string hostname;  // default: the machine's hostname
  std::string prefix;    // data directory
  bool tmp_prefix = false;
  std::vector<std::string> seeds;
  std::vector<std::string> client_urls;
  std::vector<std::string> server_urls;
  std::vector<std::string> advertise_client_urls;
  std::vector<std::string> advertise_server_urls;
  int ideal_cluster_size = 5;
  int member_timeout = 60;  // seconds; 0: members are never removed for silence
  int snapshot_count = 10000;
  int snapshot_catchup_entries = 5000;
  int64_t quota_backend_bytes = 0;  // 0: etcd's default (2 GiB); negative: none
  std::string auto_compaction_mode = "periodic";
  std::string auto_compaction_retention = "0";  // off
  std::string watch_progress_notify_interval = "10m";  // a duration (common/duration.h)
  bool no_server = false;
  int converged_timeout = -1;  // seconds; -1 never exits on convergence
  int max_runtime = 0;         // seconds; 0 runs until stopped
  bool noop = false;
  bool no_watch = false;
  bool no_deploy_watch = false;
  bool no_autoedges = false;
  bool no_autogroup = false;
  FrontendArgs frontend;
};

struct DeployOptions {
  std::vector<std::string> seeds;
  bool no_git = false;
  bool force = false;
  bool noop = false;
  bool wait = false;
  int wait_timeout = 300;  // seconds, with --wait
  int retries = 0;         // how often a deployer that lost a race tries again
  FrontendArgs frontend;
};

struct GetOptions {
  std::vector<std::string> seeds;
  bool prefix = false;
  bool keys_only = false;
  std::int64_t rev = 0;
  std::string output = "table";
  std::string key;
};

struct GraphOptions {
  FrontendArgs frontend;
};

struct RestoreOptions {
  std::string snapshot;  // the file `etcdctl snapshot save` wrote
  std::string prefix;    // the new agent's data directory
};

struct Options {
  GlobalOptions global;
  RunOptions run;
  DeployOptions deploy;
  GetOptions get;
  GraphOptions graph;
  RestoreOptions restore;
};

}  // namespace mgmt::agent::cli
