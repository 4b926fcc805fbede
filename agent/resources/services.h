// services.h: what the agent lends its resources beyond the machine itself: the cluster store
// (for kv) and this host's name. The engine hands the same Services to every resource
// (Resource::bind, before init); a resource that needs one that is missing fails its check
// with one line saying so. Thread-safety: StoreAccess implementations are thread-safe.
#pragma once

#include "agent/resources/resource.h"
#include "common/result.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mgmt::agent::resources {

class StoreAccess {
 public:
  virtual ~StoreAccess() = default;
  // nullopt when the key does not exist.
  virtual Result<std::optional<std::string>> get(const std::string& key) = 0;
  virtual Result<void> put(const std::string& key, const std::string& value) = 0;
  virtual Result<void> del(const std::string& key) = 0;
  // Puts the key under a lease of `ttl_seconds` that this agent keeps alive while it runs: the
  // key vanishes that long after the agent dies, or at once when it stops cleanly unless
  // `outlive_stop`. A lease lost (the store unreachable past the TTL) deletes the key; the
  // key's watcher hears of it and puts it again.
  virtual Result<void> put_expiring(const std::string& key, const std::string& value,
                                    int64_t ttl_seconds, bool outlive_stop) = 0;
  // Calls on_change after every change of the key; nullptr when the watch cannot start.
  virtual std::unique_ptr<Watch> watch(const std::string& key,
                                       std::function<void()> on_change) = 0;
};

struct Services {
  std::shared_ptr<StoreAccess> store;
  std::string hostname;
  std::string value_dir;  // where value resources keep their values (value_state.h)
};

}  // namespace mgmt::agent::resources
