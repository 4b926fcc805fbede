// autogroup.h: Meta autogroup (on by default): resources of a kind that can act as one (pkg:
// one apt-get for many packages) are merged into one vertex, led by the first by id. Only
// resources with the same metaparameters merge, and a merge that would make a cycle (one of
// them reaching the other through the graph, directly or through other groups) is not made.
// The merged vertex takes every edge of its members.
#pragma once

#include "frontends/graph_spec.h"

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mgmt::agent::engine {

struct Grouping {
  std::map<std::string, std::vector<std::string>> members;  // leader -> the others, by id
  std::map<std::string, std::string> leader_of;             // every grouped id -> its leader
};

// edges: from -> (to, notify). groupable(kind): whether that kind merges at all.
Grouping autogroup(const std::map<std::string, const frontends::ResourceSpec*>& wanted,
                   const std::map<std::string, std::vector<std::pair<std::string, bool>>>& edges,
                   const std::function<bool(const std::string& kind)>& groupable);

}  // namespace mgmt::agent::engine
