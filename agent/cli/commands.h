// commands.h: the handlers behind each command. Each returns the process exit code; a command
// whose module has not landed says so in one line and exits kExitUnavailable, doing nothing.
// Thread-safety: called once from run_cli.
#pragma once

#include "agent/cli/options.h"

#include <ostream>

namespace mgmt::agent::cli {

int version_command(std::ostream& out);
int run_command(const Options& options, std::ostream& err);
int deploy_command(const Options& options, std::ostream& out, std::ostream& err);
int get_command(const Options& options, std::ostream& out, std::ostream& err);
int graph_command(const Options& options, std::ostream& out, std::ostream& err);
int restore_command(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace mgmt::agent::cli
