// commands.cpp: handlers for each command; see commands.h.
#include "agent/cli/commands.h"

#include "agent/cli/misuse.h"
#include "agent/run/daemon.h"
#include "agent/deploy/commands.h"
#include "agent/deploy/deployer.h"
#include "common/version.h"
#include "frontends/lang/lang_frontend.h"
#include "frontends/puppet/langpuppet_merge.h"
#include "frontends/puppet/puppet_graph.h"
#include "frontends/yaml/yaml_graph.h"
#include "store/server/restore.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
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

namespace {

// `mgmt graph puppet|langpuppet`: compiled here, with this host's facts, as an agent here
// would; the notes (what puppet applies itself, puppet's warnings) go to err.
Result<frontends::GraphSpec> puppet_graph(const FrontendArgs& f, std::ostream& err) {
  namespace fs = std::filesystem;
  const std::string given = f.name == "langpuppet" ? f.puppet_input : f.input;
  frontends::puppet::PuppetCode code;
  code.puppet_conf = f.puppet_config;
  std::optional<fs::path> scratch;
  std::error_code ec;
  if (fs::is_directory(given, ec)) {
    code.manifest = (fs::path(given) / "site.pp").string();
  } else if (f.name == "langpuppet" || !deploy::is_inline_puppet(given)) {
    if (!fs::exists(given, ec)) {
      return fail(Code::not_found,
                  "cannot read " + given + ": no such file or directory; check the path");
    }
    code.manifest = given;
  } else {
    scratch = fs::temp_directory_path(ec) / ("mgmt-graph-" + std::to_string(::getpid()) + ".pp");
    std::ofstream(*scratch, std::ios::binary) << given;
    code.manifest = scratch->string();
    code.name = "the inline code";
  }
  auto built = frontends::puppet::compile_puppet_graph(code);
  if (scratch) fs::remove(*scratch, ec);
  if (!built) return fail(built.error());
  if (f.name == "langpuppet") {
    auto lang = frontends::lang::compile_graph(f.input);
    if (!lang) return fail(lang.error());
    auto merged = frontends::puppet::merge_langpuppet(*lang, built->graph, &built->notes);
    if (!merged) return fail(merged.error());
    built->graph = std::move(*merged);
  }
  for (const auto& note : built->notes) err << "# " << note << "\n";
  return std::move(built->graph);
}

}  // namespace

int graph_command(const Options& options, std::ostream& out, std::ostream& err) {
  const FrontendArgs& f = options.graph.frontend;
  if (f.name == "lang") {
    auto graph = frontends::lang::compile_graph(f.input);
    out << frontends::lang::render_graph_output(graph);
    return graph ? 0 : 1;
  }
  Result<frontends::GraphSpec> graph = frontends::GraphSpec{};
  if (f.name == "puppet" || f.name == "langpuppet") {
    graph = puppet_graph(f, err);
  } else if (f.name == "yaml") {
    graph = frontends::yaml::load_graph_file(f.input);
  }
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
