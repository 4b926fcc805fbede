// raft_sim_broken_core_test.cpp: the simulator catches a deliberately broken core. Built
// against mgmt_store_raft_broken, whose leader commits an entry of an earlier term once a
// majority holds it (the bug of the paper's Figure 8). The same scenario that passes on the
// real core (raft_sim_test) must end in a state machine safety violation here. The random
// simulator catches it too, more rarely: `build/test/sim/raft_sim_broken --seeds 20000 --jobs 2`
// (docs/raft.md has the figures).
#include "test/sim/figure8_scenario.h"

#include <catch.hpp>

#include <cstdlib>
#include <iostream>

using namespace mgmt::test::sim;

TEST_CASE("broken core: committing an old-term entry by counting replicas is caught by the "
          "checkers", "[sim]") {
  const Figure8Outcome out =
      run_figure8_scenario(std::getenv("MGMT_SIM_TRACE") ? &std::cout : nullptr);
  INFO(out.setup_error.value_or(""));
  REQUIRE_FALSE(out.setup_error.has_value());
  REQUIRE(out.violation.has_value());
  INFO(*out.violation);
  // The new leader lacks the entry the broken leader counted as committed.
  const bool caught = out.violation->find("leader completeness") != std::string::npos ||
                      out.violation->find("state machine safety") != std::string::npos;
  CHECK(caught);
}
