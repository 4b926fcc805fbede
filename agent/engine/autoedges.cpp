// autoedges.cpp: see autoedges.h.
#include "agent/engine/autoedges.h"

#include <filesystem>
#include <set>

namespace mgmt::agent::engine {
namespace {

std::string param(const frontends::ResourceSpec& r, const char* key) {
  auto it = r.params.find(key);
  return it != r.params.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "/a/b/" and "/a/b" name the same place for lookups; directories keep one trailing slash.
std::string normal(const std::string& path) {
  if (path.empty() || path[0] != '/') return {};
  std::string p = std::filesystem::path(path).lexically_normal().string();
  if (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> autoedges(
    const std::map<std::string, const frontends::ResourceSpec*>& wanted,
    const std::map<std::string, bool>& enabled,
    const std::vector<std::pair<std::string, std::string>>& explicit_edges) {
  std::map<std::string, std::string> files;  // normalised path -> id
  for (const auto& [id, r] : wanted) {
    if (r->kind != "file") continue;
    std::string path = param(*r, "path");
    if (path.empty()) path = r->name;
    if (auto n = normal(path); !n.empty()) files[n] = id;
  }
  auto file_id = [&](const std::string& path) -> std::string {
    auto it = files.find(normal(path));
    return it == files.end() ? std::string() : it->second;
  };
  auto id_if = [&](const std::string& kind, const std::string& name) -> std::string {
    std::string id = kind + "[" + name + "]";
    return !name.empty() && wanted.count(id) ? id : std::string();
  };
  std::set<std::pair<std::string, std::string>> given(explicit_edges.begin(),
                                                      explicit_edges.end());
  std::set<std::pair<std::string, std::string>> out;
  auto add = [&](const std::string& before, const std::string& after) {
    if (before.empty() || before == after || given.count({after, before}) ||
        given.count({before, after})) {
      return;
    }
    out.emplace(before, after);
  };
  for (const auto& [id, r] : wanted) {
    auto on = enabled.find(id);
    if (on != enabled.end() && !on->second) continue;
    if (r->kind == "file") {
      std::string path = param(*r, "path");
      if (path.empty()) path = r->name;
      const std::string self = normal(path);
      if (self.size() > 1) {
        add(file_id(std::filesystem::path(self).parent_path().string()), id);
      }
      add(id_if("user", param(*r, "owner")), id);
      add(id_if("group", param(*r, "group")), id);
    } else if (r->kind == "user") {
      add(id_if("group", param(*r, "group")), id);
      if (auto g = r->params.find("groups"); g != r->params.end() && g->is_array()) {
        for (const auto& name : *g) {
          if (name.is_string()) add(id_if("group", name.get<std::string>()), id);
        }
      }
    } else if (r->kind == "exec") {
      const std::string cmd = param(*r, "cmd");
      const std::string program = cmd.substr(0, cmd.find_first_of(" \t"));
      if (!program.empty() && program[0] == '/') add(file_id(program), id);
      const std::string cwd = param(*r, "cwd");
      if (!cwd.empty()) add(file_id(cwd), id);
      add(id_if("user", param(*r, "user")), id);
      add(id_if("group", param(*r, "group")), id);
    } else if (r->kind == "svc") {
      std::string unit = r->name;
      if (unit.find('.') == std::string::npos) unit += ".service";
      add(file_id("/etc/systemd/system/" + unit), id);
      const std::string base = r->name.substr(0, r->name.rfind(".service"));
      add(id_if("pkg", base), id);
    } else if (r->kind == "line") {
      add(file_id(param(*r, "file")), id);
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace mgmt::agent::engine
