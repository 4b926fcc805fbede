// engine.h: the resource graph and its scheduler: what makes mgmt event-driven.
//
// A graph comes in as a GraphSpec (from any frontend). swap() checks it (kinds and fields
// against the registry, values via each resource's configure(), edges name real resources, no
// cycles — a cycle is an error naming it) before touching what runs; on any error the running
// graph stays as it was. Then it diffs by kind, name, parameters and metaparameters: unchanged
// resources keep running untouched (same object, same watch, no re-check), changed ones are
// replaced, removed ones stop watching and are cleaned up, new ones start.
//
// Scheduling: every resource watches its own state; an event marks it dirty. A dirty resource
// is checked (check_apply on the worker pool) once every resource before it is in state and
// idle; independent branches run in parallel, up to `workers` at once. A resource that
// changed something marks the resources after it dirty, and sends a refresh along notify edges.
// Events that arrive while a resource is queued or running coalesce into one more check.
// Metaparams (GraphSpec meta, metaparams.h): noop (check only), retry (attempts after an
// error, -1 forever), delay (ms between retries), poll (seconds: check periodically, for kinds
// without events), limit/burst (a token bucket on check_apply runs), sema (named counting
// semaphores held while check_apply runs; waiting holds no worker), realize (a swap that
// removes or changes the resource first waits for it to converge once), hidden (in the graph,
// never run), autoedge (autoedges.h), reverse (reversals.h: a resource's changes are undone
// when a later graph no longer has it).
// Converged: when no resource is dirty or running for `converged_timeout` seconds,
// on_converged is called once (and again after the next activity and quiet period).
//
// Thread-safety: all public methods are thread-safe. One mutex guards the graph state; it is
// never held while a resource runs check_apply, nor while a watch is destroyed.
#pragma once

#include "agent/resources/services.h"
#include "common/result.h"
#include "frontends/graph_spec.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::agent::engine {

struct EngineOptions {
  bool noop = false;           // check every resource, change nothing
  int converged_timeout = -1;  // seconds; -1: never report convergence
  std::function<void()> on_converged;
  std::size_t workers = 4;
  bool autoedges = true;
  // Lent to every resource (Resource::bind): the store for kv, the hostname. May be filled
  // after create(), before the first swap.
  std::shared_ptr<resources::Services> services = std::make_shared<resources::Services>();
  // Where Meta reverse keeps its undo records across restarts (reversals.h); empty: memory.
  std::string state_dir;
};

class Engine {
 public:
  [[nodiscard]] static std::unique_ptr<Engine> create(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  [[nodiscard]] Result<void> swap(const frontends::GraphSpec& spec);
  void stop();

  // True when nothing is dirty or running.
  bool idle() const;
  // The last error of each resource that failed for good ("kind[name]: message").
  std::vector<std::string> errors() const;
  std::size_t vertex_count() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgmt::agent::engine
