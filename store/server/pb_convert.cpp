// pb_convert.cpp: wire <-> MVCC conversions; see pb_convert.h.
#include "store/server/pb_convert.h"

namespace mgmt::store::server {

mvcc::RangeRequest from_pb(const etcdserverpb::RangeRequest& r) {
  mvcc::RangeRequest m;
  m.key = r.key();
  m.range_end = r.range_end();
  m.limit = r.limit();
  m.revision = r.revision();
  m.sort_order = static_cast<mvcc::RangeRequest::SortOrder>(r.sort_order());
  m.sort_target = static_cast<mvcc::RangeRequest::SortTarget>(r.sort_target());
  m.serializable = r.serializable();
  m.keys_only = r.keys_only();
  m.count_only = r.count_only();
  m.min_mod_revision = r.min_mod_revision();
  m.max_mod_revision = r.max_mod_revision();
  m.min_create_revision = r.min_create_revision();
  m.max_create_revision = r.max_create_revision();
  return m;
}

mvcc::PutRequest from_pb(const etcdserverpb::PutRequest& r) {
  mvcc::PutRequest m;
  m.key = r.key();
  m.value = r.value();
  m.lease = r.lease();
  m.prev_kv = r.prev_kv();
  m.ignore_value = r.ignore_value();
  m.ignore_lease = r.ignore_lease();
  return m;
}

mvcc::DeleteRangeRequest from_pb(const etcdserverpb::DeleteRangeRequest& r) {
  mvcc::DeleteRangeRequest m;
  m.key = r.key();
  m.range_end = r.range_end();
  m.prev_kv = r.prev_kv();
  return m;
}

namespace {

mvcc::Compare compare_from_pb(const etcdserverpb::Compare& c) {
  mvcc::Compare m;
  m.result = static_cast<mvcc::Compare::Result>(c.result());
  m.target = static_cast<mvcc::Compare::Target>(c.target());
  m.key = c.key();
  m.range_end = c.range_end();
  m.version = c.version();
  m.create_revision = c.create_revision();
  m.mod_revision = c.mod_revision();
  m.value = c.value();
  m.lease = c.lease();
  return m;
}

std::vector<mvcc::RequestOp> ops_from_pb(
    const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops) {
  std::vector<mvcc::RequestOp> out;
  for (const auto& op : ops) {
    switch (op.request_case()) {
      case etcdserverpb::RequestOp::kRequestRange:
        out.push_back(mvcc::RequestOp::make_range(from_pb(op.request_range())));
        break;
      case etcdserverpb::RequestOp::kRequestPut:
        out.push_back(mvcc::RequestOp::make_put(from_pb(op.request_put())));
        break;
      case etcdserverpb::RequestOp::kRequestDeleteRange:
        out.push_back(mvcc::RequestOp::make_delete(from_pb(op.request_delete_range())));
        break;
      case etcdserverpb::RequestOp::kRequestTxn:
        out.push_back(mvcc::RequestOp::make_txn(from_pb(op.request_txn())));
        break;
      case etcdserverpb::RequestOp::REQUEST_NOT_SET:
        // etcd treats an empty op as a range of the empty key, which validation refuses.
        out.push_back(mvcc::RequestOp::make_range(mvcc::RangeRequest{}));
        break;
    }
  }
  return out;
}

void header_with_revision(int64_t revision, etcdserverpb::ResponseHeader* h) {
  h->set_revision(revision);
}

}  // namespace

mvcc::TxnRequest from_pb(const etcdserverpb::TxnRequest& r) {
  mvcc::TxnRequest m;
  for (const auto& c : r.compare()) m.compare.push_back(compare_from_pb(c));
  m.success = ops_from_pb(r.success());
  m.failure = ops_from_pb(r.failure());
  return m;
}

void to_pb_request(const mvcc::RangeRequest& r, etcdserverpb::RangeRequest* out) {
  out->set_key(r.key);
  out->set_range_end(r.range_end);
  out->set_limit(r.limit);
  out->set_revision(r.revision);
  out->set_sort_order(static_cast<etcdserverpb::RangeRequest::SortOrder>(r.sort_order));
  out->set_sort_target(static_cast<etcdserverpb::RangeRequest::SortTarget>(r.sort_target));
  out->set_serializable(r.serializable);
  out->set_keys_only(r.keys_only);
  out->set_count_only(r.count_only);
  out->set_min_mod_revision(r.min_mod_revision);
  out->set_max_mod_revision(r.max_mod_revision);
  out->set_min_create_revision(r.min_create_revision);
  out->set_max_create_revision(r.max_create_revision);
}

void to_pb_request(const mvcc::PutRequest& r, etcdserverpb::PutRequest* out) {
  out->set_key(r.key);
  out->set_value(r.value);
  out->set_lease(r.lease);
  out->set_prev_kv(r.prev_kv);
  out->set_ignore_value(r.ignore_value);
  out->set_ignore_lease(r.ignore_lease);
}

void to_pb_request(const mvcc::DeleteRangeRequest& r, etcdserverpb::DeleteRangeRequest* out) {
  out->set_key(r.key);
  out->set_range_end(r.range_end);
  out->set_prev_kv(r.prev_kv);
}

namespace {

void ops_to_pb(const std::vector<mvcc::RequestOp>& ops,
               google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>* out) {
  for (const auto& op : ops) {
    auto* o = out->Add();
    switch (op.kind) {
      case mvcc::RequestOp::Kind::range: to_pb_request(op.range, o->mutable_request_range()); break;
      case mvcc::RequestOp::Kind::put: to_pb_request(op.put, o->mutable_request_put()); break;
      case mvcc::RequestOp::Kind::delete_range:
        to_pb_request(op.delete_range, o->mutable_request_delete_range());
        break;
      case mvcc::RequestOp::Kind::txn: to_pb_request(*op.txn, o->mutable_request_txn()); break;
    }
  }
}

}  // namespace

void to_pb_request(const mvcc::TxnRequest& r, etcdserverpb::TxnRequest* out) {
  for (const auto& c : r.compare) {
    auto* pc = out->add_compare();
    pc->set_result(static_cast<etcdserverpb::Compare::CompareResult>(c.result));
    pc->set_target(static_cast<etcdserverpb::Compare::CompareTarget>(c.target));
    pc->set_key(c.key);
    pc->set_range_end(c.range_end);
    switch (c.target) {
      case mvcc::Compare::Target::version: pc->set_version(c.version); break;
      case mvcc::Compare::Target::create: pc->set_create_revision(c.create_revision); break;
      case mvcc::Compare::Target::mod: pc->set_mod_revision(c.mod_revision); break;
      case mvcc::Compare::Target::value: pc->set_value(c.value); break;
      case mvcc::Compare::Target::lease: pc->set_lease(c.lease); break;
    }
  }
  ops_to_pb(r.success, out->mutable_success());
  ops_to_pb(r.failure, out->mutable_failure());
}

void to_pb(const mvcc::KeyValue& kv, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  out->set_value(kv.value);
  out->set_lease(kv.lease);
}

void to_pb(const mvcc::Event& e, mvccpb::Event* out) {
  out->set_type(e.type == mvcc::Event::Type::put ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
  to_pb(e.kv, out->mutable_kv());
  if (e.prev_kv) to_pb(*e.prev_kv, out->mutable_prev_kv());
}

void to_pb(const mvcc::RangeResponse& r, etcdserverpb::RangeResponse* out) {
  for (const auto& kv : r.kvs) to_pb(kv, out->add_kvs());
  out->set_more(r.more);
  out->set_count(r.count);
}

void to_pb(const mvcc::PutResponse& r, etcdserverpb::PutResponse* out) {
  if (r.prev_kv) to_pb(*r.prev_kv, out->mutable_prev_kv());
}

void to_pb(const mvcc::DeleteRangeResponse& r, etcdserverpb::DeleteRangeResponse* out) {
  out->set_deleted(r.deleted);
  for (const auto& kv : r.prev_kvs) to_pb(kv, out->add_prev_kvs());
}

void to_pb(const mvcc::TxnResponse& r, etcdserverpb::TxnResponse* out) {
  out->set_succeeded(r.succeeded);
  for (const auto& op : r.responses) {
    auto* pb = out->add_responses();
    switch (op.kind) {
      case mvcc::RequestOp::Kind::range: {
        auto* x = pb->mutable_response_range();
        header_with_revision(op.range.revision, x->mutable_header());
        to_pb(op.range, x);
        break;
      }
      case mvcc::RequestOp::Kind::put: {
        auto* x = pb->mutable_response_put();
        header_with_revision(op.put.revision, x->mutable_header());
        to_pb(op.put, x);
        break;
      }
      case mvcc::RequestOp::Kind::delete_range: {
        // As etcd's: the revision when it ran (a delete of nothing before any write of the
        // txn still has the revision the txn started at).
        auto* x = pb->mutable_response_delete_range();
        header_with_revision(op.delete_range.revision, x->mutable_header());
        to_pb(op.delete_range, x);
        break;
      }
      case mvcc::RequestOp::Kind::txn: {
        auto* x = pb->mutable_response_txn();
        x->mutable_header();  // as etcd 3.4's: a nested txn's header is there, and empty
        if (op.txn) to_pb(*op.txn, x);
        break;
      }
    }
  }
}

}  // namespace mgmt::store::server
