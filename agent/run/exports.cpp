// exports.cpp: see exports.h.
#include "agent/run/exports.h"

#include "common/json_text.h"

#include <map>

namespace mgmt::agent::run {

std::string exports_prefix(const std::string& hostname) {
  return "/_mgmt/exported/" + hostname + "/";
}

Result<std::size_t> publish_exports(EtcdStoreAccess& store, const std::string& hostname,
                                    const frontends::GraphSpec& graph) {
  const std::string prefix = exports_prefix(hostname);
  std::map<std::string, std::string> want;
  for (const auto& r : graph.resources) {
    auto to = r.meta.find("export");
    if (to == r.meta.end() || !to->is_array() || to->empty()) continue;
    nlohmann::json data = {{"params", r.params}, {"to", *to}};
    want[prefix + r.kind + "/" + r.name] = json_text(data);
  }
  auto have = store.get_prefix(prefix);
  if (!have) return fail(have.error());
  std::size_t changed = 0;
  for (const auto& [key, value] : want) {
    auto it = have->find(key);
    if (it != have->end() && it->second == value) continue;
    if (auto p = store.put(key, value); !p) return fail(p.error());
    ++changed;
  }
  for (const auto& [key, value] : *have) {
    if (want.count(key)) continue;
    if (auto d = store.del(key); !d) return fail(d.error());
    ++changed;
  }
  return changed;
}

}  // namespace mgmt::agent::run
