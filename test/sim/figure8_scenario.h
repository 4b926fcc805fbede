// figure8_scenario.h: the situation of Figure 8 of the Raft paper (§5.4.2), played step by step
// on a five-member simulated cluster. A correct core never commits the old-term entry by counting
// its replicas; a core that does is caught by the simulator's checkers when a later leader
// overwrites it. Compiled into the tests of both the real and the deliberately broken core.
#pragma once

#include <optional>
#include <ostream>
#include <string>

namespace mgmt::test::sim {

struct Figure8Outcome {
  std::optional<std::string> setup_error;  // a step did not go as the figure requires
  std::optional<std::string> violation;    // what the checkers caught
  bool old_entry_overwritten = false;      // index 4 ended with the term-3 entry everywhere
};

Figure8Outcome run_figure8_scenario(std::ostream* trace);

}  // namespace mgmt::test::sim
