// catalog_compiler.h: a Puppet manifest compiled into a catalog by Debian's puppet (the ruby
// library of the `puppet` package), as `puppet apply` compiles it: this host is the node, with
// its facts, and every resource is checked against its type; nothing is applied. It runs our
// compile_catalog.rb (embedded) with ruby, one process per compile (about 1.5 s).
// Errors are one line: puppet missing (with the package to install), or puppet's own reason,
// prefixed with the manifest's name.
// Thread-safety: free functions; compiles may run concurrently.
#pragma once

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mgmt::frontends::puppet {

struct CompileRequest {
  std::string manifest;     // a .pp file
  std::string modulepath;   // extra module directory (a deploy's modules/), or empty
  std::string puppet_conf;  // a puppet.conf (--puppet-conf), or empty for puppet's defaults
  std::string name;         // what error messages call the manifest (default: its path)
  std::string hiera_config;  // a hiera.yaml (its datadir relative to it), or empty
};

struct Compiled {
  nlohmann::json catalog;        // as puppet serialises it: resources, edges, classes
  int64_t runinterval = 1800;    // puppet's runinterval setting, in seconds
  std::string basemodulepath;    // the module path it compiled with (the deploy's modules first)
  std::vector<std::string> warnings;  // puppet's "Warning: ..." lines
};

[[nodiscard]] Result<Compiled> compile_catalog(const CompileRequest& request);

// Checks the manifest's syntax only (`puppet parser validate`), without facts or a node: what
// `mgmt deploy` can check on a machine that is not the agent. Ok(false): puppet is not installed
// here, so nothing was checked.
[[nodiscard]] Result<bool> validate_syntax(const std::string& manifest, const std::string& name);

}  // namespace mgmt::frontends::puppet
