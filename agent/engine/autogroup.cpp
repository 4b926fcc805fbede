// autogroup.cpp: see autogroup.h.
#include "agent/engine/autogroup.h"

#include <set>

namespace mgmt::agent::engine {
namespace {

std::string leader(const std::map<std::string, std::string>& leader_of, const std::string& id) {
  auto it = leader_of.find(id);
  return it == leader_of.end() ? id : it->second;
}

// Whether the graph with every group contracted to its leader has a cycle.
bool contracted_has_cycle(
    const std::map<std::string, const frontends::ResourceSpec*>& wanted,
    const std::map<std::string, std::vector<std::pair<std::string, bool>>>& edges,
    const std::map<std::string, std::string>& leader_of) {
  std::map<std::string, std::set<std::string>> next;
  for (const auto& [from, tos] : edges) {
    for (const auto& [to, notify] : tos) {
      const std::string a = leader(leader_of, from);
      const std::string b = leader(leader_of, to);
      if (a == b) return true;  // an edge inside a group: its members would wait on themselves
      next[a].insert(b);
    }
  }
  std::map<std::string, int> colour;  // 0 new, 1 on the path, 2 done
  std::function<bool(const std::string&)> visit = [&](const std::string& id) {
    colour[id] = 1;
    for (const auto& n : next[id]) {
      if (colour[n] == 1) return true;
      if (colour[n] == 0 && visit(n)) return true;
    }
    colour[id] = 2;
    return false;
  };
  for (const auto& [id, r] : wanted) {
    const std::string l = leader(leader_of, id);
    if (colour[l] == 0 && visit(l)) return true;
  }
  return false;
}

}  // namespace

Grouping autogroup(const std::map<std::string, const frontends::ResourceSpec*>& wanted,
                   const std::map<std::string, std::vector<std::pair<std::string, bool>>>& edges,
                   const std::function<bool(const std::string& kind)>& groupable) {
  Grouping g;
  std::vector<std::string> leaders;
  for (const auto& [id, r] : wanted) {
    auto on = r->meta.find("autogroup");
    if (on != r->meta.end() && on->is_boolean() && !on->get<bool>()) continue;
    if (!groupable(r->kind)) continue;
    bool placed = false;
    for (const auto& l : leaders) {
      const auto* lead = wanted.at(l);
      if (lead->kind != r->kind || lead->meta != r->meta) continue;
      g.leader_of[id] = l;
      if (contracted_has_cycle(wanted, edges, g.leader_of)) {
        g.leader_of.erase(id);
        continue;
      }
      g.members[l].push_back(id);
      placed = true;
      break;
    }
    if (!placed) leaders.push_back(id);
  }
  return g;
}

}  // namespace mgmt::agent::engine
