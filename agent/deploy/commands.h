// commands.h: `mgmt deploy` and `mgmt get`, from parsed options to exit code. Output for people
// goes to `out`; each failure is one line on `err` with a non-zero exit.
// Without --seeds (or MGMT_SEEDS) both talk to the local agent at http://127.0.0.1:2379.
#pragma once

#include "agent/cli/options.h"

#include <ostream>

namespace mgmt::agent::deploy {

inline constexpr const char* kDefaultSeed = "http://127.0.0.1:2379";

int deploy_main(const cli::DeployOptions& options, std::ostream& out, std::ostream& err);
int get_main(const cli::GetOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mgmt::agent::deploy
