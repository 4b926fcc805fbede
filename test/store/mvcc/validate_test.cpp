// validate_test.cpp: request validation with etcd 3.4's messages.
#include "store/mvcc/errors.h"
#include "store/mvcc/validate.h"

#include <catch2/catch.hpp>

using namespace mgmt::store::mvcc;

namespace {
std::string message(const mgmt::Result<void>& r) { return r ? "ok" : r.error().message(); }
RequestOp put(std::string k) { return RequestOp::make_put(PutRequest{std::move(k), "v"}); }
RequestOp del(std::string k, std::string end = "") {
  return RequestOp::make_delete(DeleteRangeRequest{std::move(k), std::move(end)});
}
}  // namespace

TEST_CASE("validate: empty keys and put flags", "[mvcc][validate]") {
  CHECK(message(validate_range(RangeRequest{})) == "etcdserver: key is not provided");
  CHECK(message(validate_put(PutRequest{})) == "etcdserver: key is not provided");
  PutRequest p{"k", "v"};
  p.ignore_value = true;
  CHECK(message(validate_put(p)) == "etcdserver: value is provided");
  p = PutRequest{"k", ""};
  p.ignore_lease = true;
  p.lease = 5;
  CHECK(message(validate_put(p)) == "etcdserver: lease is provided");
  CHECK(message(validate_delete_range(DeleteRangeRequest{"k"})) == "ok");
}

TEST_CASE("validate: a sort order or target outside etcd's enums is refused, in a txn too",
          "[mvcc][validate]") {
  RangeRequest r;
  r.key = "k";
  r.sort_order = RangeRequest::SortOrder::descend;
  r.sort_target = RangeRequest::SortTarget::value;
  CHECK(message(validate_range(r)) == "ok");
  r.sort_order = static_cast<RangeRequest::SortOrder>(3);
  CHECK(message(validate_range(r)) == "etcdserver: invalid sort option");
  r.sort_order = static_cast<RangeRequest::SortOrder>(-1);
  CHECK(message(validate_range(r)) == "etcdserver: invalid sort option");
  r.sort_order = RangeRequest::SortOrder::none;
  r.sort_target = static_cast<RangeRequest::SortTarget>(5);
  CHECK(message(validate_range(r)) == "etcdserver: invalid sort option");
  TxnRequest t;
  t.failure.push_back(RequestOp::make_range(r));
  CHECK(message(validate_txn(t)) == "etcdserver: invalid sort option");
}

TEST_CASE("validate: a txn may hold 128 ops, not 129", "[mvcc][validate]") {
  TxnRequest t;
  for (int i = 0; i < 128; ++i) t.success.push_back(put("k" + std::to_string(i)));
  CHECK(message(validate_txn(t)) == "ok");
  t.success.push_back(put("one-more"));
  auto r = validate_txn(t);
  CHECK(message(r) == "etcdserver: too many operations in txn request");
  CHECK(r.error().code() == mgmt::Code::invalid_argument);
}

TEST_CASE("validate: duplicate keys in one branch", "[mvcc][validate]") {
  TxnRequest t;
  t.success = {put("a"), put("a")};
  CHECK(message(validate_txn(t)) == "etcdserver: duplicate key given in txn request");
  t.success = {put("a"), del("a")};
  CHECK(message(validate_txn(t)) == "etcdserver: duplicate key given in txn request");
  t.success = {put("b"), del("a", "c")};
  CHECK(message(validate_txn(t)) == "etcdserver: duplicate key given in txn request");
  // Then and else are exclusive.
  t.success = {put("a")};
  t.failure = {put("a")};
  CHECK(message(validate_txn(t)) == "ok");
  // Nested: a put in a nested branch against a put at this level.
  TxnRequest inner;
  inner.success = {put("x")};
  inner.failure = {put("x")};
  t.success = {put("y"), RequestOp::make_txn(inner)};
  t.failure = {};
  CHECK(message(validate_txn(t)) == "ok");
  t.success = {put("x"), RequestOp::make_txn(inner)};
  CHECK(message(validate_txn(t)) == "etcdserver: duplicate key given in txn request");
  // Reads never conflict.
  t.success = {put("a"), RequestOp::make_range(RangeRequest{"a"})};
  CHECK(message(validate_txn(t)) == "ok");
}

TEST_CASE("validate: the two mvcc errors get etcd's wire prefix, others go out as they are",
          "[mvcc][validate]") {
  CHECK(wire_message(err_compacted()) == "etcdserver: mvcc: required revision has been compacted");
  CHECK(wire_message(err_future_rev()) ==
        "etcdserver: mvcc: required revision is a future revision");
  CHECK(wire_message(err_lease_not_found()) == "etcdserver: requested lease not found");
}
