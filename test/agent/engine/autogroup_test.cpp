// autogroup_test.cpp: which resources Meta autogroup merges: those of a kind that groups,
// with the same metaparams, never into a cycle, never when autogroup is false; and a graph
// of real pkg resources checked as one.
#include "agent/engine/autogroup.h"
#include "test/agent/engine/resource_maker.h"
#include "test/support/process/real_etcd.h"

using mgmt::agent::engine::autogroup;
using mgmt::test::EngineHarness;
using mgmt::test::resource;

namespace {

using Specs = std::vector<mgmt::frontends::ResourceSpec>;
using Edges = std::map<std::string, std::vector<std::pair<std::string, bool>>>;

std::map<std::string, std::string> leaders(const Specs& specs, const Edges& edges = {}) {
  std::map<std::string, const mgmt::frontends::ResourceSpec*> wanted;
  for (const auto& s : specs) wanted[s.kind + "[" + s.name + "]"] = &s;
  return autogroup(wanted, edges, [](const std::string& kind) { return kind == "pkg"; })
      .leader_of;
}

}  // namespace

TEST_CASE("autogroup: resources of a grouping kind with the same metaparams merge", "[engine]") {
  const Specs specs = {resource("pkg", "a"), resource("pkg", "b"), resource("pkg", "c"),
                       resource("exec", "x"), resource("exec", "y"),
                       resource("pkg", "noisy", {}, {{"retry", 3}}),
                       resource("pkg", "alone", {}, {{"autogroup", false}})};
  CHECK(leaders(specs) == std::map<std::string, std::string>{{"pkg[b]", "pkg[a]"},
                                                             {"pkg[c]", "pkg[a]"}});
}

TEST_CASE("autogroup: a merge that would make a cycle is not made", "[engine]") {
  const Specs specs = {resource("pkg", "a"), resource("pkg", "b"), resource("pkg", "c"),
                       resource("exec", "x")};
  // a -> x -> b: merging a and b would make the group wait on itself; c is free to join.
  const Edges edges = {{"pkg[a]", {{"exec[x]", false}}}, {"exec[x]", {{"pkg[b]", false}}}};
  CHECK(leaders(specs, edges) == std::map<std::string, std::string>{{"pkg[c]", "pkg[a]"}});
}

TEST_CASE("autogroup: real pkg resources are checked together as one vertex", "[engine][pkg]") {
  if (!mgmt::test::have_program("dpkg-query")) {
    WARN("no dpkg-query: not a Debian system");
    return;
  }
  EngineHarness h(true);  // noop: checks only
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("pkg", "coreutils"), resource("pkg", "bash"),
                 resource("exec", "after", {{"cmd", "true"}, {"shell", "/bin/sh"}})};
  g.edges = {{"pkg", "bash", "exec", "after", false}};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  CHECK(h.engine->vertex_count() == 2);  // the two packages are one vertex
  CHECK(h.engine->errors().empty());
}
