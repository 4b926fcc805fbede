// graph_queries.h: what the puppet frontend's tests ask of a GraphSpec: one resource by kind
// and name (the test stops if it is missing), and the edges as "file[/a] -> exec[e]" lines,
// with ~> for a notify edge.
#pragma once

#include "frontends/graph_spec.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>

namespace mgmt::test::puppet {

inline const frontends::ResourceSpec& vertex(const frontends::GraphSpec& g,
                                             const std::string& kind, const std::string& name) {
  auto it = std::find_if(g.resources.begin(), g.resources.end(),
                         [&](const frontends::ResourceSpec& r) {
                           return r.kind == kind && r.name == name;
                         });
  INFO("looking for " << kind << "[" << name << "]");
  REQUIRE(it != g.resources.end());
  return *it;
}

inline std::multiset<std::string> edges_of(const frontends::GraphSpec& g) {
  std::multiset<std::string> out;
  for (const frontends::EdgeSpec& e : g.edges) {
    out.insert(e.from_kind + "[" + e.from_name + "] " + (e.notify ? "~>" : "->") + " " +
               e.to_kind + "[" + e.to_name + "]");
  }
  return out;
}

}  // namespace mgmt::test::puppet
