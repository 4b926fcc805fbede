// engine_harness.h: an Engine whose convergence a test can wait for (an event: the engine's
// converged callback with a timeout of 0 s), with helpers to build GraphSpecs.
#pragma once

#include "agent/engine/engine.h"
#include "test/support/process/child_process.h"  // slurp

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

namespace mgmt::test {

class EngineHarness {
 public:
  explicit EngineHarness(bool noop = false, std::string state_dir = "") {
    agent::engine::EngineOptions options;
    options.noop = noop;
    options.state_dir = std::move(state_dir);
    options.converged_timeout = 0;
    options.on_converged = [this] {
      std::lock_guard lock(mutex_);
      ++converged_;
      changed_.notify_all();
    };
    services_ = options.services;
    engine = agent::engine::Engine::create(options);
  }
  // What the engine lends its resources; fill before the first swap.
  const std::shared_ptr<agent::resources::Services>& services() const { return services_; }
  // Waits until the engine has converged more than `count` times; returns the new count.
  int wait_converged(int count) {
    std::unique_lock lock(mutex_);
    bool ok = changed_.wait_for(lock, std::chrono::seconds(30),
                                [&] { return converged_ > count; });
    return ok ? converged_ : -1;
  }
  int converged() {
    std::lock_guard lock(mutex_);
    return converged_;
  }
  std::unique_ptr<agent::engine::Engine> engine;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int converged_ = 0;
  std::shared_ptr<agent::resources::Services> services_;
};

inline frontends::ResourceSpec resource(const std::string& kind, const std::string& name,
                                        nlohmann::json params = nlohmann::json::object(),
                                        nlohmann::json meta = nlohmann::json::object()) {
  frontends::ResourceSpec r;
  r.kind = kind;
  r.name = name;
  // `{}` in a test reads as null to nlohmann::json; frontends always give objects.
  r.params = params.is_null() ? nlohmann::json::object() : std::move(params);
  r.meta = meta.is_null() ? nlohmann::json::object() : std::move(meta);
  return r;
}

inline frontends::EdgeSpec edge(const std::string& fk, const std::string& fn,
                                const std::string& tk, const std::string& tn,
                                bool notify = false) {
  return frontends::EdgeSpec{fk, fn, tk, tn, notify};
}

}  // namespace mgmt::test
