// dispatch.h: the whole command line, from argv to exit code: help in every spelling, parsing,
// misuse messages (one line, cause and remedy, exit kExitUsage), and the call into the module
// that does the work. main() is one call to run_cli; tests call it in-process.
// Thread-safety: none; called once per process (or once per test).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace mgmt::agent::cli {

// `args` excludes the program name. Help and version go to `out`; misuse to `err`.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mgmt::agent::cli
