// commands.cpp: handlers for each command; see commands.h.
#include "agent/cli/commands.h"

#include "agent/cli/misuse.h"
#include "agent/run/daemon.h"
#include "agent/deploy/commands.h"
#include "common/version.h"
#include "frontends/lang/lang_frontend.h"
#include "frontends/yaml/yaml_graph.h"
#include "store/server/restore.h"

#include <algorithm>
#include <string>
#include <vector>

namespace mgmt::agent::cli {
int version_command(std::ostream& out) {
  out << "mgmt " << version() << " (commit " << build_commit() << ")\n";
  return 0;
}

int run_command(const Options& options, std::ostream&) {
  return run::run_daemon(options.run);
}

int deploy_command(const Options& options, std::ostream& out, std::ostream& err) {
  return deploy::deploy_main(options.deploy, out, err);
}

int get_command(const Options& options, std::ostream& out, std::ostream& err) {
  return deploy::get_main(options.get, out, err);
}

int graph_command(const Options& options, std::ostream& out, std::ostream& err) {
  const FrontendArgs& f = options.graph.frontend;
  if (f.name == "lang") {
    auto graph = frontends::lang::compile_graph(f.input);
    out << frontends::lang::render_graph_output(graph);
    return graph ? 0 : 1;
  }
  if (f.name == "puppet" || f.name == "langpuppet") {
    err << "mgmt graph " << f.name << ": the " << f.name
        << " frontend is not built yet; nothing was done\n";
    return kExitUnavailable;
  }
  auto graph = f.name == "yaml" ? frontends::yaml::load_graph_file(f.input)
                                : Result<frontends::GraphSpec>(frontends::GraphSpec{});
  if (!graph) {
    out << "# err: " << graph.error().message() << "\n";
    return 1;
  }
  // One line per vertex and per edge, sorted, the format the reference's tests compare.
  std::vector<std::string> lines;
  for (const auto& r : graph->resources) lines.push_back("Vertex: " + r.kind + "[" + r.name + "]");
  for (const auto& e : graph->edges) {
    std::string edge = e.from_kind + "[" + e.from_name + "] -> " + e.to_kind + "[" + e.to_name + "]";
    lines.push_back("Edge: " + edge + " # " + edge);
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& line : lines) out << line << "\n";
  return 0;
}

int restore_command(const Options& options, std::ostream& out, std::ostream& err) {
  const RestoreOptions& o = options.restore;
  // The agent keeps its store in DIR/store (agent/run/daemon.cpp).
  const std::string store_dir = o.prefix + "/store";
  auto restored = store::server::restore_snapshot(o.snapshot, store_dir);
  if (!restored) {
    err << "mgmt restore: " << restored.error().message() << "\n";
    return 1;
  }
  out << "restored revision " << restored->revision << " (" << restored->keys
      << " records of key history, Raft index " << restored->applied_index << ") into "
      << o.prefix << "; start it with `mgmt run --prefix " << o.prefix
      << "`: a new cluster of one member, which other agents join with --seeds\n";
  return 0;
}

}  // namespace mgmt::agent::cli
