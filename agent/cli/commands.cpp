// commands.cpp: handlers for each command; see commands.h.
#include "agent/cli/commands.h"

#include "agent/cli/misuse.h"
#include "agent/run/daemon.h"
#include "common/version.h"

namespace mgmt::agent::cli {
namespace {

int not_built(std::ostream& err, const std::string& what, int issue) {
  err << "mgmt " << what << ": not built yet (issue " << issue
      << " brings it); nothing was done\n";
  return kExitUnavailable;
}

}  // namespace

int version_command(std::ostream& out) {
  out << "mgmt " << version() << " (commit " << build_commit() << ")\n";
  return 0;
}

int run_command(const Options& options, std::ostream&) {
  return run::run_daemon(options.run);
}

int deploy_command(const Options&, std::ostream&, std::ostream& err) {
  return not_built(err, "deploy", 7);
}

int get_command(const Options&, std::ostream&, std::ostream& err) {
  return not_built(err, "get", 7);
}

int graph_command(const Options&, std::ostream&, std::ostream& err) {
  return not_built(err, "graph", 6);
}

}  // namespace mgmt::agent::cli
