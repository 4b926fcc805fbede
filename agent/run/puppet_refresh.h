// puppet_refresh.h: puppet compiles a catalog again every `runinterval` (facts change, hiera
// data changes); so does the agent for a puppet or langpuppet deploy. Every interval it builds
// the graph again and hands it to the engine when it differs from the last one (the engine
// keeps what did not change). A compile that fails keeps the last good graph and logs why.
// Thread-safety: one thread of its own; the destructor stops it (no swap after it returns).
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace mgmt::agent::run {

class PuppetRefresh {
 public:
  using Build = std::function<Result<frontends::GraphSpec>()>;
  using Swap = std::function<Result<void>(const frontends::GraphSpec&)>;

  // `last`: the graph running now; `interval`: puppet's runinterval (positive).
  PuppetRefresh(frontends::GraphSpec last, std::chrono::seconds interval, Build build,
                Swap swap);
  ~PuppetRefresh();
  PuppetRefresh(const PuppetRefresh&) = delete;
  PuppetRefresh& operator=(const PuppetRefresh&) = delete;

 private:
  void run();

  frontends::GraphSpec last_;
  std::chrono::seconds interval_;
  Build build_;
  Swap swap_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mgmt::agent::run
