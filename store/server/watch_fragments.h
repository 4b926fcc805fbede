// watch_fragments.h: etcd's watch response fragmentation (WatchCreateRequest.fragment). A
// watcher that asked for it gets a response of at least etcd's limit (the request limit and its
// allowance for gRPC overhead: 2 MiB) holding two events or more in parts, each under that size
// unless it is one event alone, all marked `fragment` but the last; the client (clientv3's
// WithFragment) joins them. A watcher that did not ask gets the whole response, as from etcd.
// Invariants: the parts hold the events in their order, each exactly once; every part has the
// whole response's header, watch id and other fields; only the last has fragment false.
#pragma once

#include "etcd/rpc.pb.h"

#include <cstddef>
#include <vector>

namespace mgmt::store::server {

// `whole` as the parts a fragmenting watcher is sent (itself alone when small enough).
std::vector<etcdserverpb::WatchResponse> watch_fragments(etcdserverpb::WatchResponse whole,
                                                         std::size_t limit);

}  // namespace mgmt::store::server
