// raft_golden_test.cpp: interaction scripts whose trace explains the behaviour better than
// asserts: the event-by-event trace of a scenario (one fixed-column line per event: tick, node,
// role, term, commit/applied/last, event) is compared with test/sim/testdata/<name>.trace.
// MGMT_REWRITE=1 rewrites the files; review the diff before committing.
#include "test/sim/figure8_scenario.h"
#include "test/support/sim/sim_cluster.h"

#include <catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace mgmt::test::sim;

namespace {

void compare_with_golden(const std::string& name, const std::string& trace) {
  const char* src = std::getenv("MGMT_SOURCE_DIR");
  REQUIRE(src != nullptr);
  const std::string path = std::string(src) + "/test/sim/testdata/" + name + ".trace";
  if (std::getenv("MGMT_REWRITE") != nullptr) {
    std::ofstream(path) << trace;
    return;
  }
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream want;
  want << in.rdbuf();
  INFO(path << " differs; run with MGMT_REWRITE=1 to accept, then review the diff");
  CHECK(trace == want.str());
}

}  // namespace

TEST_CASE("golden: Figure 8, step by step (§5.4.2)", "[sim]") {
  std::ostringstream trace;
  const Figure8Outcome out = run_figure8_scenario(&trace);
  REQUIRE_FALSE(out.setup_error.has_value());
  compare_with_golden("figure8", trace.str());
}

TEST_CASE("golden: a partitioned node rejoins without deposing the leader (pre-vote, "
          "check-quorum)", "[sim]") {
  std::ostringstream trace;
  ClusterOptions o;
  o.trace = &trace;
  SimCluster c(3, {1, 2, 3}, o);
  REQUIRE(c.run_until([&] { return c.leader().has_value(); }, 500));
  const NodeId lead = *c.leader();
  const NodeId other = lead == 3 ? 2 : 3;
  c.isolate(other);
  for (int i = 0; i < 60; ++i) c.tick();
  c.heal();
  c.trace(other, "healed");
  for (int i = 0; i < 30; ++i) c.tick();
  c.trace(lead, "still leading");
  REQUIRE(c.leader() == lead);
  compare_with_golden("prevote_rejoin", trace.str());
}
