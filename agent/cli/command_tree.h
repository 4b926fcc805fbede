// command_tree.h: the mgmt command tree, built with CLI11: run, deploy, get, graph, help,
// version, and under run/deploy/graph the frontends (empty, yaml, lang, puppet, langpuppet).
// One tree is built per invocation; parsing fills the Options it owns.
// Invariants: every command and flag is declared here once, so the help text (help.h) and the
// parser can never disagree.
// Thread-safety: none; used from main only.
#pragma once

#include "agent/cli/options.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mgmt::agent::cli {

struct CommandTree {
  std::unique_ptr<CLI::App> root;
  Options options;
};

// Builds the whole tree, with every flag bound into tree->options.
std::unique_ptr<CommandTree> build_command_tree();

// "mgmt deploy lang" for the lang subcommand of deploy.
std::string command_path(const CLI::App* command);

// The subcommands of a command, in declaration order.
std::vector<CLI::App*> subcommands_of(CLI::App* command);

}  // namespace mgmt::agent::cli
