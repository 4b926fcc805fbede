// deployer.h: `mgmt deploy` without the command line: collect the code's files, check the git
// chain, and land the deploy in one transaction (layout.h).
// The chain, with least surprise: the repository is found from the code's directory; outside
// git the deploy goes ahead and one note says no commit chain is checked; inside git the running
// deploy's commit must be the new commit or its ancestor, unless --force or --no-git; the same
// commit may be deployed again; a dirty tree is recorded. Losing a race to another deployer is
// reported with the id that landed first, and retried `retries` times.
// Thread-safety: one call at a time per client is not required; calls are independent.
#pragma once

#include "agent/deploy/layout.h"
#include "common/result.h"
#include "store/client/etcd_client.h"

#include <functional>
#include <string>

namespace mgmt::agent::deploy {

struct DeployRequest {
  std::string frontend;  // empty, yaml, lang, ...
  // A file or directory (unused for `empty`); puppet also takes inline code.
  std::string code;
  bool no_git = false;
  bool force = false;
  bool noop = false;
  int retries = 0;
  bool skip_unify = false;  // lang: ship without compiling first
  // langpuppet: the puppet side (`code` is the mcl side); puppet and langpuppet: a puppet.conf
  // to ship with the manifest.
  std::string puppet_code;
  std::string puppet_conf;
  std::string deployer;  // this host's name, recorded in the payload
};

// `note` receives one-line remarks for the user (e.g. that no commit chain is checked).
[[nodiscard]] Result<Payload> deploy(store::client::EtcdClient& client,
                                     const DeployRequest& request,
                                     const std::function<void(const std::string&)>& note);

// Puppet code given on the command line rather than a path: it does not exist as a file, does
// not end in .pp, and reads as code (a brace, a parenthesis, `$`, `=` or white space); a bare
// word is more likely a mistyped path than a manifest.
bool is_inline_puppet(const std::string& code);

// The newest deploy id in the store, or 0 if there is none.
[[nodiscard]] Result<int64_t> latest_deploy(store::client::EtcdClient& client);

}  // namespace mgmt::agent::deploy
