// cli_runner.h: runs the command line in-process and captures what it prints, for the CLI tests.
#pragma once

#include "agent/cli/dispatch.h"

#include <sstream>
#include <string>
#include <vector>

namespace mgmt::agent::cli::testing {

struct CliResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

inline CliResult run(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

// Splits "deploy lang" into {"deploy", "lang"}.
inline std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> result;
  std::istringstream in(line);
  for (std::string w; in >> w;) result.push_back(w);
  return result;
}

}  // namespace mgmt::agent::cli::testing
