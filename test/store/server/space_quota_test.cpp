// space_quota_test.cpp: the space quota's costs and limits (etcd's) and the replicated alarm
// set: what a write costs, when it fits, what an AlarmRequest changes and what survives a reload.
#include "store/server/alarms.h"
#include "store/server/space_quota.h"
#include "test/store/mvcc/temp_store.h"

#include <catch2/catch.hpp>

using namespace mgmt::store;
using namespace mgmt::store::server;

namespace {

mvcc::RequestOp put_op(std::string key, std::string value) {
  return mvcc::RequestOp::make_put(mvcc::PutRequest{std::move(key), std::move(value)});
}

etcdserverpb::AlarmRequest alarm(etcdserverpb::AlarmRequest::AlarmAction action, uint64_t member,
                                 etcdserverpb::AlarmType type) {
  etcdserverpb::AlarmRequest r;
  r.set_action(action);
  r.set_memberid(member);
  r.set_alarm(type);
  return r;
}

}  // namespace

TEST_CASE("space quota: writes cost as etcd's, and fit while the store stays below the limit",
          "[quota]") {
  CHECK(SpaceQuota::cost(mvcc::PutRequest{"key", "value"}) == 256 + 3 + 5);
  mvcc::TxnRequest txn;
  txn.success = {put_op("a", "1"), mvcc::RequestOp::make_range(mvcc::RangeRequest{})};
  txn.failure = {put_op("b", "22"), put_op("c", "333")};
  CHECK(SpaceQuota::cost(txn) == (256 + 1 + 2) + (256 + 1 + 3));  // the costlier branch
  mvcc::TxnRequest nested;
  nested.success = {mvcc::RequestOp::make_txn(txn)};
  CHECK(SpaceQuota::cost(nested) == SpaceQuota::cost(txn));
  CHECK(SpaceQuota::cost(mvcc::TxnRequest{}) == 0);  // read-only: always fits

  int64_t held = 0;
  SpaceQuota quota([&] { return held; }, 1000);
  CHECK(quota.available(700));
  held = 500;
  CHECK_FALSE(quota.available(500));
  CHECK(quota.available(499));
  CHECK(quota.available(0));
  held = 5000;
  CHECK(quota.available(0));  // deletes and reads cost nothing
  CHECK(SpaceQuota([&] { return held; }, 0).limit() == SpaceQuota::kDefaultBytes);
  SpaceQuota none([&] { return held; }, -1);
  CHECK(none.limit() == 0);
  CHECK(none.available(int64_t{1} << 40));
}

TEST_CASE("alarms: activate, list, deactivate, and a reload finds what was written", "[quota]") {
  mgmt::store::test::TempDir dir;
  auto storage = mgmt::store::test::open_storage(dir.path());
  Alarms alarms;
  alarms.load(*storage);
  CHECK_FALSE(alarms.capped());

  storage::Batch batch;
  auto raised = alarms.apply(alarm(etcdserverpb::AlarmRequest::ACTIVATE, 7, etcdserverpb::NOSPACE),
                             batch);
  REQUIRE(raised.alarms_size() == 1);
  CHECK(raised.alarms(0).memberid() == 7);
  CHECK(alarms.capped());
  CHECK(alarms.raised(7, etcdserverpb::NOSPACE));
  (void)alarms.apply(alarm(etcdserverpb::AlarmRequest::ACTIVATE, 9, etcdserverpb::CORRUPT), batch);
  // Raised again: answered with the alarm, nothing new.
  CHECK(alarms.apply(alarm(etcdserverpb::AlarmRequest::ACTIVATE, 7, etcdserverpb::NOSPACE), batch)
            .alarms_size() == 1);
  CHECK(alarms.apply(alarm(etcdserverpb::AlarmRequest::GET, 0, etcdserverpb::NONE), batch)
            .alarms_size() == 2);
  CHECK(alarms.apply(alarm(etcdserverpb::AlarmRequest::GET, 0, etcdserverpb::CORRUPT), batch)
            .alarms_size() == 1);
  REQUIRE(storage->write(batch, true));

  Alarms reloaded;
  reloaded.load(*storage);
  CHECK(reloaded.list().size() == 2);
  CHECK(reloaded.capped());

  storage::Batch clear;
  CHECK(reloaded.apply(alarm(etcdserverpb::AlarmRequest::DEACTIVATE, 7, etcdserverpb::NOSPACE),
                       clear)
            .alarms_size() == 1);
  CHECK_FALSE(reloaded.capped());  // the CORRUPT alarm does not cap writes
  CHECK(reloaded.apply(alarm(etcdserverpb::AlarmRequest::DEACTIVATE, 7, etcdserverpb::NOSPACE),
                       clear)
            .alarms_size() == 0);
  REQUIRE(storage->write(clear, true));
  Alarms again;
  again.load(*storage);
  CHECK(again.list().size() == 1);
  CHECK_FALSE(again.capped());
}

TEST_CASE("alarms: a client may not raise an alarm no member raises, nor send an unknown action",
          "[quota]") {
  using etcdserverpb::AlarmRequest;
  auto message = [](const etcdserverpb::AlarmRequest& r) {
    auto c = Alarms::check_request(r);
    return c ? std::string("ok") : c.error().message();
  };
  CHECK(message(alarm(AlarmRequest::GET, 0, etcdserverpb::NONE)) == "ok");
  CHECK(message(alarm(AlarmRequest::ACTIVATE, 7, etcdserverpb::NOSPACE)) == "ok");
  CHECK(message(alarm(AlarmRequest::ACTIVATE, 7, etcdserverpb::CORRUPT)) == "ok");
  CHECK(message(alarm(AlarmRequest::ACTIVATE, 7, static_cast<etcdserverpb::AlarmType>(99))) ==
        "etcdserver: alarm 99 is not one a member raises; use NOSPACE or CORRUPT");
  // One raised before this check existed can still be disarmed.
  CHECK(message(alarm(AlarmRequest::DEACTIVATE, 7, static_cast<etcdserverpb::AlarmType>(99))) ==
        "ok");
  CHECK(message(alarm(static_cast<AlarmRequest::AlarmAction>(7), 0, etcdserverpb::NONE)) ==
        "etcdserver: unknown alarm action 7; use GET, ACTIVATE or DEACTIVATE");
}
