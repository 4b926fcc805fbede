// puppet_graph.cpp: see puppet_graph.h.
#include "frontends/puppet/puppet_graph.h"

#include "frontends/puppet/catalog_compiler.h"
#include "frontends/puppet/catalog_translation.h"

#include <filesystem>

namespace mgmt::frontends::puppet {

Result<PuppetGraph> compile_puppet_graph(const PuppetCode& code) {
  const std::string name =
      code.name.empty() ? std::filesystem::path(code.manifest).filename().string() : code.name;
  std::string modules = code.modules;
  std::error_code ec;
  const auto beside = std::filesystem::path(code.manifest).parent_path() / "modules";
  if (modules.empty() && std::filesystem::is_directory(beside, ec)) modules = beside.string();
  // A hiera.yaml beside the manifest is the deploy's own hiera (data/ beside it, typically).
  std::string hiera;
  const auto hiera_beside = std::filesystem::path(code.manifest).parent_path() / "hiera.yaml";
  if (std::filesystem::is_regular_file(hiera_beside, ec)) hiera = hiera_beside.string();
  auto compiled = compile_catalog({code.manifest, modules, code.puppet_conf, name, hiera});
  if (!compiled) return fail(compiled.error());
  auto translated = translate_catalog(
      compiled->catalog,
      {name, code.puppet_conf, modules.empty() ? std::string() : compiled->basemodulepath});
  if (!translated) return fail(translated.error());
  PuppetGraph out;
  out.graph = std::move(translated->graph);
  out.runinterval = compiled->runinterval;
  for (auto& w : compiled->warnings) out.notes.push_back("puppet: " + w);
  for (auto& n : translated->notes) out.notes.push_back(std::move(n));
  return out;
}

}  // namespace mgmt::frontends::puppet
