// services.h: the etcd v3 gRPC services of one member (KV, Watch, Lease, Cluster, Maintenance,
// Auth), each a thin adapter from wire messages to the Backend. Every response carries etcd's
// header (cluster_id, member_id, revision, raft_term).
// They are served by our own gRPC server (store/rpc/rpc_server.h). KV's reads and writes are
// handed to the Backend from its I/O thread and answered by whichever thread has the result;
// Watch and LeaseKeepAlive streams are reactors that hold no thread: the store's watch sinks
// (called under its locks) queue a response; a follower sends a keep-alive on to the leader
// with gRPC's callback client API. The other methods may wait (for Raft, for the leader) and
// run on the server's workers; the Snapshot stream holds one while it lasts.
// Thread-safety: the Backend is thread-safe; the server's stop() ends every open stream.
#pragma once

#include "store/rpc/rpc_server.h"
#include "store/server/backend.h"

#include "etcd/rpc.grpc.pb.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::store::server {

// The etcd versions this store answers as (Status, /version): the API of etcd 3.4.
inline constexpr const char* kServerVersion = "3.4.0";
inline constexpr const char* kClusterVersion = "3.4.0";

struct MemberInfo {
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
};

// What every service shares.
class RaftHost;
class ProgressTicker;

struct ServiceContext {
  Backend& backend;
  MemberInfo member;
  RaftHost* host = nullptr;
  // Ticks every Watch stream for its watchers' periodic progress notifications (progress_notify);
  // none: no periodic progress.
  ProgressTicker* progress_ticker = nullptr;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> watch_streams{0};  // Watch streams open now (for /metrics)
  std::atomic<int64_t> slow_watchers{0};  // watchers behind their stream's backlog (/metrics)

  void fill(etcdserverpb::ResponseHeader* header) const;
  void fill(etcdserverpb::ResponseHeader* header, int64_t revision) const;
};

// Each registers its service's methods on `server` (before it starts); `context` outlives it.
void add_kv_service(ServiceContext& context, rpc::RpcServer& server);
void add_watch_service(ServiceContext& context, rpc::RpcServer& server);
void add_lease_service(ServiceContext& context, rpc::RpcServer& server);
void add_cluster_service(ServiceContext& context, rpc::RpcServer& server);
void add_maintenance_service(ServiceContext& context, rpc::RpcServer& server);
void add_auth_service(ServiceContext& context, rpc::RpcServer& server);

// Registers `method` of `service` (grpc::Status (const Request*, Response*), which may block)
// at `path`.
template <typename Service, typename Request, typename Response>
void add_blocking(rpc::RpcServer& server, const std::string& path,
                  std::shared_ptr<Service> service,
                  grpc::Status (Service::*method)(const Request*, Response*)) {
  server.add_blocking<Request, Response>(
      path, [service, method](const Request& request, Response& response, const rpc::CallInfo&) {
        return ((*service).*method)(&request, &response);
      });
}

}  // namespace mgmt::store::server
