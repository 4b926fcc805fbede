// lessor_test.cpp: leases as etcd 3.4 keeps them: grant with the minimum TTL, attached keys,
// revoke in one revision, leader-only expiry from passed-in time, promote after failover,
// persistence across restart.
#include "store/lease/lessor.h"
#include "store/mvcc/kv_store.h"
#include "test/store/mvcc/temp_store.h"

#include <catch2/catch.hpp>

using namespace mgmt::store;
using namespace mgmt::store::lease;

namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<Lessor> lessor;
  std::unique_ptr<mvcc::KvStore> kv;

  Fixture() { open(); }
  void open() {
    storage = test::open_storage(dir.path());
    lessor = std::move(Lessor::open(*storage, Options{}).value());
    kv = std::move(mvcc::KvStore::open(*storage, lessor.get()).value());
    lessor->attach_existing(*kv);
  }
  void restart() {
    kv.reset();
    lessor.reset();
    storage.reset();
    open();
  }
  LeaseInfo grant(LeaseId id, int64_t ttl, int64_t now_ms = 0) {
    storage::Batch batch;
    auto r = lessor->grant(id, ttl, now_ms, batch);
    if (!r) FAIL(r.error().message());
    REQUIRE(storage->write(batch, true));
    return *r;
  }
  int64_t revoke(LeaseId id) {
    storage::Batch batch;
    auto r = lessor->revoke(id, *kv, batch);
    if (!r) FAIL(r.error().message());
    REQUIRE(storage->write(batch, true));
    return *r;
  }
  void put(const std::string& key, LeaseId lease) {
    mvcc::PutRequest p{key, "v"};
    p.lease = lease;
    auto r = kv->put(p);
    if (!r) FAIL(r.error().message());
  }
  std::size_t live_keys() {
    mvcc::RangeRequest r;
    r.key = std::string(1, '\0');
    r.range_end = std::string(1, '\0');
    return kv->range(r).value().kvs.size();
  }
};

}  // namespace

TEST_CASE("lease: grant raises a small TTL to the minimum and does not bump the revision",
          "[lease]") {
  Fixture f;
  auto info = f.grant(7, 1);
  CHECK(info.granted_ttl_seconds == 2);
  CHECK(f.grant(8, 60).granted_ttl_seconds == 60);
  CHECK(f.kv->current_revision() == 1);
  CHECK(f.lessor->list() == std::vector<LeaseId>{7, 8});
}

TEST_CASE("lease: grant errors use etcd's messages", "[lease]") {
  Fixture f;
  f.grant(7, 10);
  storage::Batch batch;
  auto dup = f.lessor->grant(7, 10, 0, batch);
  REQUIRE_FALSE(dup);
  CHECK(dup.error().message() == "etcdserver: lease already exists");
  auto big = f.lessor->grant(9, kMaxLeaseTtlSeconds + 1, 0, batch);
  REQUIRE_FALSE(big);
  CHECK(big.error().message() == "etcdserver: too large lease TTL");
  auto missing = f.lessor->time_to_live(99, false, 0);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "etcdserver: requested lease not found");
  CHECK(missing.error().code() == mgmt::Code::not_found);
  storage::Batch revoke_batch;
  CHECK_FALSE(f.lessor->revoke(99, *f.kv, revoke_batch));
}

TEST_CASE("lease: revoke deletes every attached key in one revision", "[lease]") {
  Fixture f;
  f.grant(5, 30);
  f.put("a", 5);
  f.put("b", 5);
  f.put("c", 0);
  f.put("d", 5);
  f.put("d", 0);  // d moved off the lease
  auto ttl = f.lessor->time_to_live(5, true, 0).value();
  CHECK(ttl.keys == std::vector<std::string>{"a", "b"});
  int64_t before = f.kv->current_revision();
  CHECK(f.revoke(5) == before + 1);
  CHECK(f.live_keys() == 2);
  CHECK_FALSE(f.lessor->contains(5));
  // A lease without keys revokes without a new revision.
  f.grant(6, 30);
  CHECK(f.revoke(6) == before + 1);
}

TEST_CASE("lease: only the primary expires leases, from the time it is given", "[lease]") {
  Fixture f;
  f.grant(1, 10, 0);
  CHECK(f.lessor->expired(1'000'000).empty());  // a follower never expires leases
  f.lessor->promote(1000);
  CHECK(f.lessor->expired(10'999).empty());
  CHECK(f.lessor->expired(11'000) == std::vector<LeaseId>{1});
  // Keep-alive moves the deadline.
  CHECK(f.lessor->renew(1, 5000).value() == 10);
  CHECK(f.lessor->expired(11'000).empty());
  CHECK(f.lessor->time_to_live(1, false, 7500).value().ttl_seconds == 7);
  CHECK(f.lessor->expired(15'000) == std::vector<LeaseId>{1});
  // An expired lease cannot be renewed.
  auto late = f.lessor->renew(1, 15'000);
  REQUIRE_FALSE(late);
  CHECK(late.error().message() == "etcdserver: requested lease not found");
}

TEST_CASE("lease: a new leader gives every lease a full TTL again", "[lease]") {
  Fixture f;
  f.lessor->promote(0);
  f.grant(1, 10, 0);
  f.grant(2, 20, 0);
  f.lessor->demote();
  CHECK_FALSE(f.lessor->renew(1, 1000));  // not primary
  CHECK(f.lessor->expired(100'000).empty());
  f.lessor->promote(50'000);
  CHECK(f.lessor->expired(59'999).empty());
  CHECK(f.lessor->expired(60'000) == std::vector<LeaseId>{1});
  CHECK(f.lessor->expired(70'000) == std::vector<LeaseId>{1, 2});
}

TEST_CASE("lease: leases and their keys survive a restart", "[lease]") {
  Fixture f;
  f.grant(3, 40);
  f.put("k", 3);
  f.grant(4, 50);
  f.revoke(4);
  f.restart();
  CHECK(f.lessor->list() == std::vector<LeaseId>{3});
  auto info = f.lessor->time_to_live(3, true, 0).value();
  CHECK(info.granted_ttl_seconds == 40);
  CHECK(info.keys == std::vector<std::string>{"k"});
  f.revoke(3);
  CHECK(f.live_keys() == 0);
}

TEST_CASE("lease: a put naming a missing lease fails, a revoked lease's keys are gone",
          "[lease]") {
  Fixture f;
  mvcc::PutRequest p{"k", "v"};
  p.lease = 12;
  auto r = f.kv->put(p);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "etcdserver: requested lease not found");
  f.grant(12, 30);
  REQUIRE(f.kv->put(p));
  CHECK(f.kv->range(mvcc::RangeRequest{"k"}).value().kvs.at(0).lease == 12);
}

TEST_CASE("lease: a watcher sees a revoke's deletes together at one revision", "[lease]") {
  Fixture f;
  f.grant(9, 30);
  f.put("s/a", 9);
  f.put("s/b", 9);
  std::vector<mvcc::WatchEvents> got;
  mvcc::WatchRequest w;
  w.key = "s/";
  w.range_end = "s0";
  f.kv->watch(w, [&](const mvcc::WatchEvents& e) { got.push_back(e); });
  int64_t rev = f.revoke(9);
  REQUIRE(got.size() == 1);
  CHECK(got[0].revision == rev);
  REQUIRE(got[0].events.size() == 2);
  CHECK(got[0].events[0].type == mvcc::Event::Type::del);
  CHECK(got[0].events[0].kv.key == "s/a");
  CHECK(got[0].events[1].kv.key == "s/b");
}
