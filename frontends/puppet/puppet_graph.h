// puppet_graph.h: the puppet frontend end to end: a manifest compiled by puppet
// (catalog_compiler.h) and translated into a GraphSpec (catalog_translation.h). Beside the
// manifest, a modules/ directory is searched for modules first, and a hiera.yaml is the hiera
// configuration (over any hiera_config a puppet.conf sets), so a deploy can carry its modules
// and its data.
// Thread-safety: free function; calls may run concurrently.
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mgmt::frontends::puppet {

struct PuppetCode {
  std::string manifest;     // the .pp file to compile
  std::string modules;      // a directory of modules; empty: modules/ beside the manifest, if any
  std::string puppet_conf;  // a puppet.conf, or empty for puppet's defaults
  std::string name;         // what messages call the manifest (default: its file name)
};

struct PuppetGraph {
  GraphSpec graph;
  int64_t runinterval = 1800;      // seconds: how often puppet would compile it again
  std::vector<std::string> notes;  // puppet's warnings and the resources puppet applies itself
};

[[nodiscard]] Result<PuppetGraph> compile_puppet_graph(const PuppetCode& code);

}  // namespace mgmt::frontends::puppet
