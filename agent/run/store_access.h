// store_access.h: the cluster store as resources see it (resources::StoreAccess), over the
// agent's etcd client: plain get/put/delete of one key and a watch calling back on its changes;
// keys under leases the agent keeps alive (one lease per TTL, renewed by one thread, on a client
// of its own to the same endpoints so that close() can abandon a renewal under way).
// The client must outlive this object and every watch it made.
#pragma once

#include "agent/resources/services.h"
#include "store/client/etcd_client.h"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace mgmt::agent::run {

class EtcdStoreAccess final : public resources::StoreAccess {
 public:
  explicit EtcdStoreAccess(store::client::EtcdClient& client);
  Result<std::optional<std::string>> get(const std::string& key) override;
  Result<void> put(const std::string& key, const std::string& value) override;
  Result<void> del(const std::string& key) override;
  Result<void> put_expiring(const std::string& key, const std::string& value,
                            int64_t ttl_seconds, bool outlive_stop) override;
  std::unique_ptr<resources::Watch> watch(const std::string& key,
                                          std::function<void()> on_change) override;
  // Every key under `prefix`, and a watch of them all.
  Result<std::map<std::string, std::string>> get_prefix(const std::string& prefix);
  std::unique_ptr<resources::Watch> watch_prefix(const std::string& prefix,
                                                 std::function<void()> on_change);
  // Every key under `prefix` with its value and create revision (world.schedule).
  Result<std::map<std::string, std::pair<std::string, int64_t>>> list_prefix(
      const std::string& prefix);
  // Stops keeping leases alive (abandoning a renewal under way) and revokes those not meant to
  // outlive a stop, waiting at most 1 s in all for that. Before the store stops; the destructor
  // does it too.
  void close();
  ~EtcdStoreAccess() override;

 private:
  struct Lease {
    int64_t id = 0;
    bool outlive_stop = false;
  };
  void keep_alive_loop();

  store::client::EtcdClient& client_;
  std::unique_ptr<store::client::EtcdClient> lease_client_;  // renewals and revokes
  std::mutex mutex_;
  std::condition_variable wake_;
  bool closing_ = false;
  std::map<std::pair<int64_t, bool>, Lease> leases_;  // (ttl, outlive_stop) -> lease
  std::thread keeper_;                               // started with the first lease
};

}  // namespace mgmt::agent::run
