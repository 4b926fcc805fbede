// pb_convert.h: etcd's wire messages (proto/etcd) to and from the MVCC store's C++ types
// (store/mvcc/types.h), field by field. Nested txns convert recursively.
// Thread-safety: pure functions.
#pragma once

#include "store/mvcc/types.h"

#include "etcd/rpc.pb.h"

namespace mgmt::store::server {

mvcc::RangeRequest from_pb(const etcdserverpb::RangeRequest& r);
mvcc::PutRequest from_pb(const etcdserverpb::PutRequest& r);
mvcc::DeleteRangeRequest from_pb(const etcdserverpb::DeleteRangeRequest& r);
mvcc::TxnRequest from_pb(const etcdserverpb::TxnRequest& r);

// Requests back to the wire form (what goes into a Raft entry).
void to_pb_request(const mvcc::RangeRequest& r, etcdserverpb::RangeRequest* out);
void to_pb_request(const mvcc::PutRequest& r, etcdserverpb::PutRequest* out);
void to_pb_request(const mvcc::DeleteRangeRequest& r, etcdserverpb::DeleteRangeRequest* out);
void to_pb_request(const mvcc::TxnRequest& r, etcdserverpb::TxnRequest* out);

void to_pb(const mvcc::KeyValue& kv, mvccpb::KeyValue* out);
void to_pb(const mvcc::Event& e, mvccpb::Event* out);
// Responses: everything but the header, which the service fills.
void to_pb(const mvcc::RangeResponse& r, etcdserverpb::RangeResponse* out);
void to_pb(const mvcc::PutResponse& r, etcdserverpb::PutResponse* out);
void to_pb(const mvcc::DeleteRangeResponse& r, etcdserverpb::DeleteRangeResponse* out);
// Nested responses get a header with only the revision, as etcd's do.
void to_pb(const mvcc::TxnResponse& r, etcdserverpb::TxnResponse* out);

}  // namespace mgmt::store::server
