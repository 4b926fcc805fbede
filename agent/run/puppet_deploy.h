// puppet_deploy.h: a puppet or langpuppet deploy as an agent runs it. Preparing compiles the
// manifest (frontends/puppet/puppet_graph.h) and, for langpuppet, evaluates the mcl side and
// merges the two (langpuppet_merge.h); starting hands the graph to the engine. Then it keeps the
// graph current as each side would on its own: the puppet side compiled again every
// runinterval (puppet_refresh.h), the mcl side run again when what it read changes
// (lang_stream.h). Each new half is merged with the other's latest, under one lock that also
// covers the hand-over to the engine, so a slower half never brings back an older other half.
// Thread-safety: the destructor stops both (no swap after it returns); nothing else is public.
#pragma once

#include "agent/deploy/layout.h"
#include "agent/run/lang_stream.h"
#include "agent/run/puppet_refresh.h"
#include "common/result.h"
#include "frontends/graph_spec.h"
#include "frontends/lang/interpret.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace mgmt::agent::run {

class PuppetDeploy {
 public:
  using Swap = std::function<Result<void>(const frontends::GraphSpec&)>;

  // Compiles the deploy (both sides of a langpuppet one) and hands nothing to the engine yet,
  // so that a deploy that does not compile leaves the running one as it is, still current.
  // `dir`: where the deploy's files were written; `runtime`: what the agent lends mcl code.
  [[nodiscard]] static Result<std::unique_ptr<PuppetDeploy>> prepare(
      const deploy::Payload& payload, const std::string& dir,
      frontends::lang::LangRuntime runtime, LangStream::WatchStore watch_store, Swap swap);
  // Hands its graph to the engine and starts keeping it current (once, after prepare);
  // `follow_changes` false (`mgmt run --no-watch`): the first graph stays.
  [[nodiscard]] Result<void> start(bool follow_changes = true);
  ~PuppetDeploy();
  PuppetDeploy(const PuppetDeploy&) = delete;
  PuppetDeploy& operator=(const PuppetDeploy&) = delete;

 private:
  PuppetDeploy(deploy::Payload payload, std::string dir, Swap swap)
      : payload_(std::move(payload)), dir_(std::move(dir)), swap_(std::move(swap)) {}
  // The graph of both halves as they are now (callers hold mutex_).
  Result<frontends::GraphSpec> merged() const;
  // Hands the merged graph to the engine (callers hold mutex_).
  Result<void> swap_merged();

  const deploy::Payload payload_;
  const std::string dir_;
  Swap swap_;
  mutable std::mutex mutex_;  // guards lang_, puppet_ and every swap
  frontends::GraphSpec lang_;    // langpuppet: the mcl side's latest graph
  frontends::GraphSpec puppet_;  // the puppet side's latest graph
  // What start() needs from prepare().
  int64_t runinterval_ = 0;
  std::string entry_;  // the mcl side's entry (langpuppet)
  frontends::lang::StreamSources sources_;
  frontends::lang::LangRuntime runtime_;
  LangStream::WatchStore watch_store_;
  // Declared last: they stop first, before what their threads use goes away.
  std::unique_ptr<PuppetRefresh> refresh_;
  std::unique_ptr<LangStream> stream_;
};

}  // namespace mgmt::agent::run
