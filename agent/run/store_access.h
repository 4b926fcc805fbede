// store_access.h: the cluster store as resources see it (resources::StoreAccess), over the
// agent's etcd client: plain get/put/delete of one key and a watch calling back on its changes.
// The client must outlive this object and every watch it made.
#pragma once

#include "agent/resources/services.h"
#include "store/client/etcd_client.h"

#include <map>
#include <string>

namespace mgmt::agent::run {

class EtcdStoreAccess final : public resources::StoreAccess {
 public:
  explicit EtcdStoreAccess(store::client::EtcdClient& client) : client_(client) {}
  Result<std::optional<std::string>> get(const std::string& key) override;
  Result<void> put(const std::string& key, const std::string& value) override;
  Result<void> del(const std::string& key) override;
  std::unique_ptr<resources::Watch> watch(const std::string& key,
                                          std::function<void()> on_change) override;
  // Every key under `prefix`, and a watch of them all.
  Result<std::map<std::string, std::string>> get_prefix(const std::string& prefix);
  std::unique_ptr<resources::Watch> watch_prefix(const std::string& prefix,
                                                 std::function<void()> on_change);

 private:
  store::client::EtcdClient& client_;
};

}  // namespace mgmt::agent::run
