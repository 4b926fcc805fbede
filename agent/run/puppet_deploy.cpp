// puppet_deploy.cpp: see puppet_deploy.h.
#include "agent/run/puppet_deploy.h"

#include "common/log.h"
#include "frontends/lang/lang_frontend.h"
#include "frontends/puppet/langpuppet_merge.h"
#include "frontends/puppet/puppet_graph.h"

namespace mgmt::agent::run {
namespace {

// The puppet side compiled; `again` (a compile every runinterval) logs only in debug: the
// first compile said it all.
Result<frontends::puppet::PuppetGraph> compile(const deploy::Payload& payload,
                                               const std::string& dir, bool again) {
  frontends::puppet::PuppetCode code;
  const std::string manifest = payload.puppet_entry.empty() ? payload.entry
                                                            : payload.puppet_entry;
  code.manifest = dir + "/" + manifest;
  code.name = manifest;
  if (!payload.puppet_conf.empty()) code.puppet_conf = dir + "/" + payload.puppet_conf;
  auto built = frontends::puppet::compile_puppet_graph(code);
  if (!built) return fail(built.error());
  auto log = log::get("puppet");
  const auto level = again ? spdlog::level::debug : spdlog::level::info;
  for (const auto& note : built->notes) log->log(level, "{}", note);
  const auto n = built->graph.resources.size();
  log->log(level, "{} compiled: {} resource{}; compiled again every {} s (puppet's runinterval)",
           manifest, n, n == 1 ? "" : "s", built->runinterval);
  return built;
}

}  // namespace

Result<std::unique_ptr<PuppetDeploy>> PuppetDeploy::prepare(const deploy::Payload& payload,
                                                            const std::string& dir,
                                                            frontends::lang::LangRuntime runtime,
                                                            LangStream::WatchStore watch_store,
                                                            Swap swap) {
  std::unique_ptr<PuppetDeploy> d(new PuppetDeploy(payload, dir, std::move(swap)));
  auto puppet = compile(payload, dir, false);
  if (!puppet) return fail(puppet.error());
  d->puppet_ = std::move(puppet->graph);
  d->runinterval_ = puppet->runinterval;
  d->entry_ = dir + "/" + payload.entry;
  if (payload.frontend == "langpuppet") {
    // The mcl side's own state (history, os.system's processes) lives as long as the deploy.
    runtime.history = std::make_shared<frontends::lang::HistoryBook>();
    runtime.commands = std::make_shared<frontends::lang::CommandLines>();
    auto lang = frontends::lang::compile_graph(d->entry_, &d->sources_, &runtime);
    if (!lang) return fail(lang.error());
    d->lang_ = std::move(*lang);
    std::vector<std::string> notes;
    if (auto m = frontends::puppet::merge_langpuppet(d->lang_, d->puppet_, &notes); !m) {
      return fail(m.error());
    }
    for (const auto& note : notes) log::get("puppet")->info("{}", note);
  }
  d->runtime_ = std::move(runtime);
  d->watch_store_ = std::move(watch_store);
  return d;
}

Result<void> PuppetDeploy::start(bool follow_changes) {
  frontends::GraphSpec first;
  {
    std::lock_guard lock(mutex_);
    auto m = merged();
    if (!m) return fail(m.error());
    first = *m;
    if (auto swapped = swap_merged(); !swapped) return fail(swapped.error());
  }
  if (!follow_changes) return ok();
  if (runinterval_ > 0) {
    refresh_ = std::make_unique<PuppetRefresh>(
        std::move(first), std::chrono::seconds(runinterval_),
        [this]() -> Result<frontends::GraphSpec> {
          auto again = compile(payload_, dir_, true);
          if (!again) return fail(again.error());
          std::lock_guard lock(mutex_);
          puppet_ = std::move(again->graph);
          return merged();
        },
        [this](const frontends::GraphSpec&) {
          std::lock_guard lock(mutex_);
          return swap_merged();
        });
  }
  if (payload_.frontend == "langpuppet" && !sources_.empty()) {
    stream_ = std::make_unique<LangStream>(entry_, lang_, sources_, runtime_, watch_store_,
                                           [this](const frontends::GraphSpec& lang) {
                                             std::lock_guard lock(mutex_);
                                             lang_ = lang;
                                             return swap_merged();
                                           });
  }
  return ok();
}

PuppetDeploy::~PuppetDeploy() {
  stream_.reset();
  refresh_.reset();
}

Result<frontends::GraphSpec> PuppetDeploy::merged() const {
  if (payload_.frontend != "langpuppet") return puppet_;
  return frontends::puppet::merge_langpuppet(lang_, puppet_, nullptr);
}

Result<void> PuppetDeploy::swap_merged() {
  auto m = merged();
  if (!m) return fail(m.error());
  return swap_(*m);
}

}  // namespace mgmt::agent::run
