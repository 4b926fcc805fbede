// resource.h: what every resource kind implements, and how the engine drives it (after the
// reference's resource API: Default/Validate via configure(), Init, Watch, CheckApply, Cleanup,
// Cmp by parameters).
//
// Life of one resource in the engine: configure(spec) once (fields checked against the
// registry before), then init(), then watch(on_event) (its events mark it for a check) and any
// number of check_apply(apply) calls, never two at once, then cleanup(). A resource whose
// parameters did not change between two graphs is kept as it is (same object, same watch).
// check_apply(apply): returns true when the resource was already in state; false when it was
// not (and, when apply is true, it has now been fixed); an error when it could not be checked
// or fixed. With apply false (noop), nothing may change on the system.
// Thread-safety: the engine calls check_apply from its worker pool and watch callbacks may come
// from any thread; a resource needs no locking of its own unless its watcher thread shares
// state with check_apply.
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mgmt::agent::resources {

struct Services;

// Stops a resource's watch when destroyed (joins its thread, closes its descriptors).
class Watch {
 public:
  virtual ~Watch() = default;
};

class Resource {
 public:
  virtual ~Resource() = default;

  // Reads the fields (already checked against the registry's types) and fills defaults;
  // an invalid combination of values is an error naming the field.
  [[nodiscard]] virtual Result<void> configure(const frontends::ResourceSpec& spec) = 0;
  // What the agent lends (services.h): the store, the hostname. Before init().
  virtual void bind(const Services& services) { (void)services; }
  [[nodiscard]] virtual Result<void> init() { return ok(); }
  virtual void cleanup() {}

  // Starts watching the resource's state, calling on_event whenever it may have drifted.
  // Nothing (nullptr) for kinds without events; the engine polls them if Meta poll is set.
  virtual std::unique_ptr<Watch> watch(std::function<void()> on_event) {
    (void)on_event;
    return nullptr;
  }

  [[nodiscard]] virtual Result<bool> check_apply(bool apply) = 0;

  // Meta reverse: a kind that can undo its changes returns, once it has changed something,
  // the spec of a resource that puts back what it found before its first change (a file it
  // created: absent; a file it rewrote: the old content and mode). nullopt: nothing to undo.
  virtual std::optional<frontends::ResourceSpec> reversal() const { return std::nullopt; }
  // Set by the engine for resources with Meta reverse: only they pay for remembering.
  void set_keep_reversal(bool keep) { keep_reversal_ = keep; }
  bool keep_reversal() const { return keep_reversal_; }

  // Meta autogroup: a kind whose resources can act as one (pkg: one apt-get for many
  // packages) says so, and its first resource takes in the others of the group (all of its
  // kind, configured); false: it cannot take that one.
  virtual bool groups() const { return false; }
  virtual bool absorb(std::unique_ptr<Resource>& other) {
    (void)other;
    return false;
  }

  // Send/recv: the value this resource sends under `key` (registry KindInfo::sends) after its
  // last check_apply; nothing before it has one.
  virtual std::optional<nlohmann::json> sent(const std::string& key) const {
    (void)key;
    return std::nullopt;
  }

  // A refresh arrived along a notify edge since the last check_apply.
  void set_refresh(bool refresh) { refresh_ = refresh; }
  bool refresh() const { return refresh_; }

  // "file[/tmp/x]", for log lines and errors.
  const std::string& id() const { return id_; }
  void set_id(std::string id) { id_ = std::move(id); }

 private:
  bool refresh_ = false;
  bool keep_reversal_ = false;
  std::string id_;
};

}  // namespace mgmt::agent::resources
