// leader_forward.h: requests only the leader can answer (membership changes, lease keep-alive
// and time-to-live), sent on by a follower to the leader's client URL, as etcd forwards them.
// The leader's URL comes from the membership each member publishes. Errors: no leader known,
// or the leader unreachable (one line each).
// Thread-safety: all functions are thread-safe (channels are cached under a mutex).
#pragma once

#include "common/result.h"
#include "store/server/backend.h"

#include "etcd/rpc.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <memory>

namespace mgmt::store::server {

// A stub on the leader's client URL, or an error saying why there is none.
Result<std::shared_ptr<grpc::Channel>> leader_channel(const Backend& backend,
                                                      uint64_t leader_id);

// Runs `call(stub, context)` against the leader with a deadline; maps a transport failure to
// the status to return to our own client.
template <typename Stub, typename Call>
grpc::Status forward_to_leader(const Backend& backend, uint64_t leader_id, Call&& call) {
  auto channel = leader_channel(backend, leader_id);
  if (!channel) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, channel.error().message());
  }
  auto stub = Stub::NewStub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return call(*stub, ctx);
}

}  // namespace mgmt::store::server
