// raft_sim_broken_core_test.cpp: the simulator catches a deliberately broken core. Built
// against mgmt_store_raft_broken, whose leader commits an entry of an earlier term once a
// majority holds it (the bug of the paper's Figure 8). The same scenario that passes on the
// real core (raft_sim_test) must end in a safety violation here, and the random simulator must
// find it by itself within a bounded number of seeds (docs/raft.md has the figures).
#include "test/sim/figure8_scenario.h"
#include "test/support/process/child_process.h"

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

TEST_CASE("broken core: the random simulator finds it within a few thousand seeds", "[sim]") {
  const auto r = mgmt::test::run_to_completion(
      {MGMT_RAFT_SIM_BROKEN, "--seeds", "4000", "--jobs", "2", "--stop-at-first"});
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("FAIL seed") != std::string::npos);
  CHECK(r.output.find("raft_sim_broken --seed") != std::string::npos);  // the replay command
}
