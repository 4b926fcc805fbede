// dispatch.cpp: parse, check, and hand the command to its module; see dispatch.h.
#include "agent/cli/dispatch.h"

#include "agent/cli/command_tree.h"
#include "agent/cli/commands.h"
#include "agent/cli/help.h"
#include "agent/cli/misuse.h"
#include "common/log.h"
#include "store/client/grpc_log.h"

#include <algorithm>

namespace mgmt::agent::cli {
namespace {

std::vector<std::string> names_of(CLI::App* command) {
  std::vector<std::string> names;
  for (CLI::App* sub : subcommands_of(command)) names.push_back(sub->get_name());
  return names;
}

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : ", ") + w;
  return s;
}

// The deepest command the parser reached: root, then each parsed subcommand.
CLI::App* deepest_parsed(CLI::App* root) {
  CLI::App* node = root;
  for (;;) {
    auto parsed = node->get_subcommands();
    if (parsed.empty()) return node;
    node = parsed.front();
  }
}

std::vector<std::string> all_flag_names(const CLI::App* command) {
  std::vector<std::string> names;
  for (const CLI::App* c = command; c != nullptr; c = c->get_parent()) {
    for (const CLI::Option* opt : c->get_options()) {
      for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    }
  }
  return names;
}

std::string help_hint(CLI::App* command) {
  std::string path = command_path(command);
  return path == "mgmt" ? "see 'mgmt help'" : "see 'mgmt help " + path.substr(5) + "'";
}

bool is_frontend_parent(CLI::App* command) {
  const std::string& n = command->get_name();
  return command->get_parent() != nullptr && command->get_parent()->get_parent() == nullptr &&
         (n == "run" || n == "deploy" || n == "graph");
}

// "; did you mean "x"? (see 'mgmt help')" or "; choose one of a, b, c (see 'mgmt help')".
std::string suggestion(const std::string& word, const std::vector<std::string>& choices,
                       const std::string& hint) {
  if (auto match = closest_match(word, choices)) {
    return "; did you mean \"" + *match + "\"? (" + hint + ")";
  }
  return "; choose one of " + join(choices) + " (" + hint + ")";
}

// An argument the parser could not place, as one line naming the command it was given to.
std::string unplaced_argument(CLI::App* command, const std::string& extra) {
  std::string path = command_path(command);
  if (!extra.empty() && extra[0] == '-') {
    std::string name = extra.substr(0, extra.find('='));
    auto match = closest_match(name, all_flag_names(command));
    return path + ": unknown flag \"" + name + "\"" +
           (match ? "; did you mean \"" + *match + "\"?" : "") + " (" + help_hint(command) +
           " for its flags)";
  }
  if (command->get_parent() == nullptr) {
    return "mgmt: unknown command \"" + extra + "\"" +
           suggestion(extra, names_of(command), "see 'mgmt help'");
  }
  if (is_frontend_parent(command)) {
    return path + ": unknown frontend \"" + extra + "\"" +
           suggestion(extra, kFrontends, help_hint(command));
  }
  return path + ": unexpected argument \"" + extra + "\"; " + help_hint(command);
}

// The command in the parsed chain that declares the flag a CLI11 message starts with
// ("--seeds: ..."), so the hint points at the help that lists it.
CLI::App* owner_of_flag_in(CLI::App* deepest, const std::string& message) {
  if (message.rfind("--", 0) != 0) return deepest;
  std::string flag = message.substr(0, message.find(':'));
  for (CLI::App* c = deepest; c != nullptr; c = c->get_parent()) {
    for (const CLI::Option* opt : c->get_options()) {
      if (opt->check_name(flag)) return c;
    }
  }
  return deepest;
}

log::Level log_level(const GlobalOptions& g) {
  if (g.debug) return log::Level::debug;
  if (g.verbose) return log::Level::verbose;
  if (g.quiet) return log::Level::quiet;
  return log::Level::info;
}

// After a successful parse: what the parser accepts but the command cannot do without.
std::string missing_pieces(CLI::App* command, const Options& options) {
  CLI::App* parent = command->get_parent();
  std::string path = command_path(command);
  if (parent == nullptr) {
    return "mgmt: missing command; choose one of " + join(names_of(command)) + " (see 'mgmt help')";
  }
  const std::string& name = command->get_name();
  if (name == "deploy" || name == "graph") {
    return path + ": missing frontend; choose one of " + join(kFrontends) + ", e.g. '" + path +
           " lang main.mcl'";
  }
  if (is_frontend_parent(parent) && name != "empty") {
    const FrontendArgs& f = parent->get_name() == "run"      ? options.run.frontend
                            : parent->get_name() == "deploy" ? options.deploy.frontend
                                                             : options.graph.frontend;
    if (name == "langpuppet" && (f.input.empty() || f.puppet_input.empty())) {
      return path + ": missing " + (f.input.empty() ? "--lp-lang" : "--lp-puppet") +
             "; give both sides, e.g. '" + path + " --lp-lang main.mcl --lp-puppet site.pp'";
    }
    if (name != "langpuppet" && f.input.empty()) {
      std::string what = name == "yaml"   ? "a YAML graph file"
                         : name == "lang" ? "a .mcl file or a directory holding main.mcl"
                                          : "a puppet manifest, or inline puppet code";
      return path + ": missing code argument; give " + what + ", e.g. '" + path + " " +
             (name == "yaml" ? "graph.yaml" : name == "lang" ? "main.mcl" : "site.pp") + "'";
    }
  }
  return "";
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto tree = build_command_tree();
  CLI::App* root = tree->root.get();

  if (auto help = find_help_request(root, args)) {
    if (!*help) {
      err << help->error().message() << "\n";
      return kExitUsage;
    }
    out << help_text(**help);
    return 0;
  }

  // Extras are collected rather than thrown, so they can be named with the command they
  // were given to.
  root->allow_extras();
  for (CLI::App* sub : subcommands_of(root)) {
    sub->allow_extras();
    for (CLI::App* frontend : subcommands_of(sub)) frontend->allow_extras();
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    root->parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    CLI::App* at = owner_of_flag_in(deepest_parsed(root), message);
    // Our own validators already end with the remedy; CLI11's own messages get the hint.
    bool has_remedy = message.find("; ") != std::string::npos;
    err << command_path(at) << ": " << message << (has_remedy ? "" : "; " + help_hint(at))
        << "\n";
    return kExitUsage;
  }

  CLI::App* command = deepest_parsed(root);
  // Flags fall through to the commands above, and so do arguments nobody took; name them
  // with the deepest command, which is where the user put them.
  for (CLI::App* c = command; c != nullptr; c = c->get_parent()) {
    auto extras = c->remaining(false);
    if (!extras.empty()) {
      err << unplaced_argument(command, extras.front()) << "\n";
      return kExitUsage;
    }
  }
  // --version answers wherever it is given, as `mgmt version`, and runs nothing else.
  if (tree->options.global.version) return version_command(out);
  if (std::string missing = missing_pieces(command, tree->options); !missing.empty()) {
    err << missing << "\n";
    return kExitUsage;
  }

  log::init(log_level(tree->options.global));
  store::client::route_grpc_logs();
  std::string top = command == root ? "" : command_path(command).substr(5);
  top = top.substr(0, top.find(' '));
  if (top == "version") return version_command(out);
  if (top == "run") return run_command(tree->options, err);
  if (top == "deploy") return deploy_command(tree->options, out, err);
  if (top == "get") return get_command(tree->options, out, err);
  if (top == "graph") return graph_command(tree->options, out, err);
  if (top == "restore") return restore_command(tree->options, out, err);
  err << "mgmt: internal error: no handler for '" << top << "'\n";
  return kExitUsage;
}

}  // namespace mgmt::agent::cli
