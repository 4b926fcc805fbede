// raft_sim_test.cpp: the simulator in CI: a fixed, bounded set of seeds must show no violation
// and stay live; MGMT_SIM_SEED adds one seed to replay. The deliberately broken core (Figure 8
// commit rule) is caught: raft_sim_broken_core_test.
#include "test/sim/figure8_scenario.h"
#include "test/support/sim/raft_simulation.h"

#include <catch.hpp>

#include <cstdlib>
#include <iostream>

using namespace mgmt::test::sim;

namespace {

void expect_clean(uint64_t seed) {
  SimulationOptions o;
  o.seed = seed;
  const SimulationResult r = run_simulation(o);
  INFO("seed " << seed << " (" << r.config << "): " << r.violation << "\n  replay: "
               << replay_command(seed));
  CHECK(r.ok);
}

}  // namespace

TEST_CASE("raft simulation: fixed seeds keep every safety property and stay live", "[sim]") {
  for (uint64_t seed = 1; seed <= 1000; ++seed) expect_clean(seed);
}

TEST_CASE("raft simulation: the seed from MGMT_SIM_SEED replays", "[sim]") {
  const char* env = std::getenv("MGMT_SIM_SEED");
  if (env == nullptr) return;
  expect_clean(std::strtoull(env, nullptr, 10));
}

TEST_CASE("Figure 8 (§5.4.2): an entry from an earlier term is not committed by counting "
          "replicas, and may be overwritten by a later leader", "[sim]") {
  const Figure8Outcome out =
      run_figure8_scenario(std::getenv("MGMT_SIM_TRACE") ? &std::cout : nullptr);
  INFO(out.setup_error.value_or(""));
  REQUIRE_FALSE(out.setup_error.has_value());
  INFO(out.violation.value_or(""));
  CHECK_FALSE(out.violation.has_value());
  CHECK(out.old_entry_overwritten);
}
