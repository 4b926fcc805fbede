// services.h: the etcd v3 gRPC services of one member (KV, Watch, Lease, Cluster, Maintenance,
// Auth), each a thin adapter from wire messages to the Backend. Every response carries etcd's
// header (cluster_id, member_id, revision, raft_term).
// Watch and LeaseKeepAlive streams use gRPC's callback API and hold no thread: the store's
// watch sinks (called under its locks) queue a response and start its write when none is in
// flight; a follower sends a keep-alive on to the leader with the callback client API. The
// Snapshot stream uses the synchronous API, one server thread while it lasts.
// Thread-safety: the services are called concurrently by gRPC's threads; the Backend is
// thread-safe; stop() ends every open stream.
#pragma once

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

struct ServiceContext {
  Backend& backend;
  MemberInfo member;
  RaftHost* host = nullptr;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> watch_streams{0};  // Watch streams open now (for /metrics)
  std::atomic<int64_t> slow_watchers{0};  // watchers behind their stream's backlog (/metrics)

  void fill(etcdserverpb::ResponseHeader* header) const;
  void fill(etcdserverpb::ResponseHeader* header, int64_t revision) const;
};

std::unique_ptr<etcdserverpb::KV::Service> make_kv_service(ServiceContext& context);
std::unique_ptr<etcdserverpb::Watch::Service> make_watch_service(ServiceContext& context);
std::unique_ptr<etcdserverpb::Lease::Service> make_lease_service(ServiceContext& context);
std::unique_ptr<etcdserverpb::Cluster::Service> make_cluster_service(ServiceContext& context);
std::unique_ptr<etcdserverpb::Maintenance::Service> make_maintenance_service(
    ServiceContext& context);
std::unique_ptr<etcdserverpb::Auth::Service> make_auth_service(ServiceContext& context);

}  // namespace mgmt::store::server
