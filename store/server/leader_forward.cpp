// leader_forward.cpp: see leader_forward.h.
#include "store/server/leader_forward.h"

#include "store/server/etcd_errors.h"
#include "store/server/store_server.h"

#include <map>
#include <mutex>

namespace mgmt::store::server {

Result<std::shared_ptr<grpc::Channel>> leader_channel(const Backend& backend,
                                                      uint64_t leader_id) {
  if (leader_id == 0) return fail(Code::unavailable, kErrNoLeader);
  auto m = backend.member(leader_id);
  if (!m || m->client_urls_size() == 0) {
    return fail(Code::unavailable, "etcdserver: the leader has not published its client URLs yet");
  }
  auto address = listen_address(m->client_urls(0));
  if (!address) return fail(address.error());
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::lock_guard lock(mutex);
  auto& channel = channels[*address];
  if (!channel) channel = grpc::CreateChannel(*address, grpc::InsecureChannelCredentials());
  return channel;
}

}  // namespace mgmt::store::server
