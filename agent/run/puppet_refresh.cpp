// puppet_refresh.cpp: see puppet_refresh.h.
#include "agent/run/puppet_refresh.h"

#include "common/log.h"
#include "common/thread_name.h"

namespace mgmt::agent::run {

PuppetRefresh::PuppetRefresh(frontends::GraphSpec last, std::chrono::seconds interval,
                             Build build, Swap swap)
    : last_(std::move(last)), interval_(interval), build_(std::move(build)),
      swap_(std::move(swap)) {
  thread_ = std::thread([this] { run(); });
}

PuppetRefresh::~PuppetRefresh() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PuppetRefresh::run() {
  name_this_thread("puppet");
  auto log = log::get("puppet");
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    auto graph = build_();
    if (!graph) {
      log->warn("compiling the catalog again failed, the last graph keeps running: {}",
                graph.error().message());
      continue;
    }
    if (*graph == last_) continue;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;  // a new deploy replaces this one: its graph must not come back
    }
    log->info("the catalog changed: {} resources now", graph->resources.size());
    if (auto swapped = swap_(*graph); !swapped) {
      log->warn("the new catalog's graph was refused: {}", swapped.error().message());
      continue;
    }
    last_ = std::move(*graph);
  }
}

}  // namespace mgmt::agent::run
