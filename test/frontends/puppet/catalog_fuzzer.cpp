// catalog_fuzzer.cpp: libFuzzer target for the puppet catalog translation
// (frontends/puppet/catalog_translation.h). The catalog comes from our own compiler, but a
// puppet of another version, a module's odd parameters or a damaged deploy can hand it anything;
// whatever JSON it gets, it must answer with a graph or an error, never crash, and a graph it
// answers must hold: resource (kind, name) pairs unique, every edge between two of them, no
// edge from a resource to itself, and every resource of a kind the engine knows from puppet.
// Run by tools/fuzz.sh (target `puppet_catalog`).
#include "frontends/puppet/catalog_translation.h"

#include <cstdlib>
#include <set>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto catalog = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (catalog.is_discarded()) return 0;
  auto translated = mgmt::frontends::puppet::translate_catalog(catalog, {"site.pp", ""});
  if (!translated) {
    if (translated.error().message().rfind("site.pp: ", 0) != 0) std::abort();  // names it
    return 0;
  }
  const std::set<std::string> kinds = {"file", "exec", "msg", "pkg", "svc", "user", "group",
                                       "mount", "noop"};
  std::set<std::pair<std::string, std::string>> vertices;
  for (const auto& r : translated->graph.resources) {
    if (!kinds.count(r.kind)) std::abort();
    if (!vertices.emplace(r.kind, r.name).second) std::abort();
  }
  for (const auto& e : translated->graph.edges) {
    if (!vertices.count({e.from_kind, e.from_name}) || !vertices.count({e.to_kind, e.to_name})) {
      std::abort();
    }
    if (e.from_kind == e.to_kind && e.from_name == e.to_name) std::abort();
  }
  return 0;
}
