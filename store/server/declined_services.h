// declined_services.h: the gRPC services etcd 3.4 serves on its client port that mgmt's store
// does not: the server-side lock (v3lockpb.Lock) and election (v3electionpb.Election) APIs,
// which etcd builds on its own KV, lease and watch. A call to one, over gRPC or the JSON gateway
// (/v3/lock/..., /v3/election/...), is refused with UNIMPLEMENTED and the line below, which
// names what to use instead, rather than gRPC's bare "unknown service" or the gateway's 404.
// Invariant: every entry is a whole service; its methods are all declined.
#pragma once

namespace mgmt::store::server {

struct DeclinedService {
  const char* service;         // "package.Service", as in a gRPC path
  const char* gateway_prefix;  // its JSON gateway calls, after "/v3"
  const char* why;
};

inline constexpr DeclinedService kDeclinedServices[] = {
    {"v3lockpb.Lock", "/lock/",
     "mgmt: the store does not serve etcd's lock service (v3lockpb.Lock); take the lock with a "
     "client's concurrency package over KV, lease and watch, as etcdctl lock and Go's "
     "clientv3/concurrency do"},
    {"v3electionpb.Election", "/election/",
     "mgmt: the store does not serve etcd's election service (v3electionpb.Election); campaign "
     "with a client's concurrency package over KV, lease and watch, as etcdctl elect and Go's "
     "clientv3/concurrency do"},
};

}  // namespace mgmt::store::server
