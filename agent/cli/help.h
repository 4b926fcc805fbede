// help.h: one help text per command, reachable every way a user asks:
//   mgmt help deploy lang  =  mgmt deploy lang --help  =  mgmt deploy lang -h
//   mgmt help deploy       =  mgmt deploy --help  =  mgmt deploy -h  =  mgmt deploy help
// The text lists the command's flags with defaults and environment variables and its next layer
// of subcommands (for run, deploy and graph: the frontends).
// Thread-safety: none; used from main only.
#pragma once

#include "common/result.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace mgmt::agent::cli {

// If `args` (without the program name) ask for help, the command whose help to show, or an
// error for `mgmt help nosuchcommand`. Nothing when the arguments do not ask for help.
std::optional<Result<CLI::App*>> find_help_request(CLI::App* root,
                                                   const std::vector<std::string>& args);

// The full help text of `command`.
std::string help_text(const CLI::App* command);

}  // namespace mgmt::agent::cli
