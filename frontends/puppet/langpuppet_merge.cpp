// langpuppet_merge.cpp: see langpuppet_merge.h.
#include "frontends/puppet/langpuppet_merge.h"

#include <map>
#include <set>
#include <tuple>

namespace mgmt::frontends::puppet {
namespace {

constexpr const char* kLangPrefix = "puppet_";
constexpr const char* kPuppetPrefix = "mgmt_";

// The hand-over name of a noop with this prefix, or empty.
std::string handover(const ResourceSpec& r, const std::string& prefix) {
  if (r.kind != "noop" || r.name.rfind(prefix, 0) != 0 || r.name.size() == prefix.size()) {
    return "";
  }
  return r.name.substr(prefix.size());
}

}  // namespace

Result<GraphSpec> merge_langpuppet(const GraphSpec& lang, const GraphSpec& puppet,
                                   std::vector<std::string>* notes) {
  std::set<std::string> lang_points;
  std::set<std::string> puppet_points;
  for (const auto& r : lang.resources) {
    if (auto h = handover(r, kLangPrefix); !h.empty()) lang_points.insert(h);
  }
  for (const auto& r : puppet.resources) {
    if (auto h = handover(r, kPuppetPrefix); !h.empty()) puppet_points.insert(h);
  }
  // (kind, name) on one side -> its name in the merged graph.
  auto renamed = [&](const ResourceSpec& r, bool lang_side) {
    const std::string h = handover(r, lang_side ? kLangPrefix : kPuppetPrefix);
    const bool both = !h.empty() && lang_points.count(h) && puppet_points.count(h);
    return both ? h : r.name;
  };
  GraphSpec out;
  out.name = lang.name;
  struct Seen {
    std::string origin;
    bool half = false;  // one half of a merged hand-over point
  };
  std::map<std::pair<std::string, std::string>, Seen> seen;
  auto add_resources = [&](const GraphSpec& g, bool lang_side) -> Result<void> {
    for (const auto& r : g.resources) {
      ResourceSpec copy = r;
      copy.name = renamed(r, lang_side);
      const bool half = copy.name != r.name;
      const std::string origin = (lang_side ? "mcl " : "puppet ") + r.origin;
      auto [it, fresh] = seen.emplace(std::pair{copy.kind, copy.name}, Seen{origin, half});
      if (!fresh) {
        if (half && it->second.half) continue;  // the other half of a merged point
        return fail(Code::invalid_argument,
                    copy.kind + "[" + copy.name + "] is declared twice (" + it->second.origin +
                        ", and " + origin + "); keep one of them (a hand-over point's merged "
                        "noop takes the name after its prefix)");
      }
      out.resources.push_back(std::move(copy));
    }
    return ok();
  };
  if (auto a = add_resources(lang, true); !a) return fail(a.error());
  if (auto a = add_resources(puppet, false); !a) return fail(a.error());
  // (from kind, from name, to kind, to name) -> its place in out.edges.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::size_t> edges;
  auto add_edges = [&](const GraphSpec& g, bool lang_side) {
    std::map<std::pair<std::string, std::string>, std::string> names;
    for (const auto& r : g.resources) names[{r.kind, r.name}] = renamed(r, lang_side);
    for (const auto& e : g.edges) {
      EdgeSpec copy = e;
      copy.from_name = names.count({e.from_kind, e.from_name}) ? names[{e.from_kind, e.from_name}]
                                                               : e.from_name;
      copy.to_name = names.count({e.to_kind, e.to_name}) ? names[{e.to_kind, e.to_name}]
                                                         : e.to_name;
      auto [at, fresh] = edges.emplace(
          std::tuple{copy.from_kind, copy.from_name, copy.to_kind, copy.to_name},
          out.edges.size());
      if (!fresh) {  // both sides order the same two points: a refresh from either flows
        out.edges[at->second].notify = out.edges[at->second].notify || copy.notify;
        continue;
      }
      out.edges.push_back(std::move(copy));
    }
  };
  add_edges(lang, true);
  add_edges(puppet, false);
  if (notes) {
    for (const auto& h : lang_points) {
      if (!puppet_points.count(h)) {
        notes->push_back("noop[" + std::string(kLangPrefix) + h + "] has no `class " +
                         kPuppetPrefix + h + " {}` on the puppet side: nothing is merged there");
      }
    }
    for (const auto& h : puppet_points) {
      if (!lang_points.count(h)) {
        notes->push_back("class " + std::string(kPuppetPrefix) + h + " has no noop \"" +
                         kLangPrefix + h + "\" on the mcl side: nothing is merged there");
      }
    }
  }
  return out;
}

}  // namespace mgmt::frontends::puppet
