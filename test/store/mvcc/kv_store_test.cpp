// kv_store_test.cpp: the KvStore against etcd 3.4's documented behaviour: revisions, ranges,
// puts and their flags, deletes, txns, compaction and restart.
#include "store/mvcc/errors.h"
#include "store/mvcc/key_index.h"
#include "store/mvcc/kv_store.h"
#include "test/store/mvcc/temp_store.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

using namespace mgmt::store;
using namespace mgmt::store::mvcc;

namespace {

const std::string kAll(1, '\0');

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<storage::Storage> storage = test::open_storage(dir.path());
  std::unique_ptr<KvStore> kv;

  Fixture() { reopen_kv(); }
  void reopen_kv() {
    auto k = KvStore::open(*storage, nullptr);
    REQUIRE(k);
    kv = std::move(*k);
  }
  void restart() {
    kv.reset();
    storage.reset();
    storage = test::open_storage(dir.path());
    reopen_kv();
  }
  int64_t put(const std::string& key, const std::string& value) {
    auto r = kv->put(PutRequest{key, value});
    REQUIRE(r);
    return r->revision;
  }
  RangeResponse get(RangeRequest r) {
    auto resp = kv->range(r);
    if (!resp) FAIL(resp.error().message());
    return *resp;
  }
  std::vector<std::string> keys(const RangeResponse& r) {
    std::vector<std::string> out;
    for (const auto& k : r.kvs) out.push_back(k.key);
    return out;
  }
};

RangeRequest range(std::string key, std::string end = "") {
  RangeRequest r;
  r.key = std::move(key);
  r.range_end = std::move(end);
  return r;
}

Compare cmp(std::string key, Compare::Target target, Compare::Result result) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.result = result;
  return c;
}

}  // namespace

TEST_CASE("mvcc: a fresh store is at revision 1 and each put bumps it once", "[mvcc]") {
  Fixture f;
  CHECK(f.kv->current_revision() == 1);
  CHECK(f.put("a", "1") == 2);
  CHECK(f.put("a", "2") == 3);
  CHECK(f.put("b", "x") == 4);
  auto r = f.get(range("a"));
  REQUIRE(r.kvs.size() == 1);
  CHECK(r.revision == 4);
  CHECK(r.kvs[0] == KeyValue{"a", 2, 3, 2, "2", 0});
}

TEST_CASE("mvcc: deleting a key resets its version and create revision", "[mvcc]") {
  Fixture f;
  f.put("k", "v1");
  f.put("k", "v2");
  auto d = f.kv->delete_range(DeleteRangeRequest{"k", "", true});
  REQUIRE(d);
  CHECK(d->deleted == 1);
  CHECK(d->revision == 4);
  REQUIRE(d->prev_kvs.size() == 1);
  CHECK(d->prev_kvs[0].value == "v2");
  f.put("k", "v3");
  auto r = f.get(range("k"));
  REQUIRE(r.kvs.size() == 1);
  CHECK(r.kvs[0] == KeyValue{"k", 5, 5, 1, "v3", 0});
}

TEST_CASE("mvcc: deleting nothing and reading do not bump the revision", "[mvcc]") {
  Fixture f;
  f.put("a", "1");
  auto d = f.kv->delete_range(DeleteRangeRequest{"zzz", "", false});
  REQUIRE(d);
  CHECK(d->deleted == 0);
  CHECK(d->revision == 2);
  f.get(range("a"));
  CHECK(f.kv->current_revision() == 2);
  TxnRequest readonly;
  readonly.success.push_back(RequestOp::make_range(range("a")));
  auto t = f.kv->txn(readonly);
  REQUIRE(t);
  CHECK(t->revision == 2);
  CHECK(f.kv->current_revision() == 2);
}

TEST_CASE("mvcc: ranges by prefix, from key and over the whole keyspace", "[mvcc]") {
  Fixture f;
  for (std::string k : {"a", "ab", "abc", "b", "c"}) f.put(k, "v" + k);
  using V = std::vector<std::string>;
  CHECK(f.keys(f.get(range("ab", "ac"))) == V{"ab", "abc"});
  CHECK(f.keys(f.get(range("b", kAll))) == V{"b", "c"});
  CHECK(f.keys(f.get(range(kAll, kAll))) == V{"a", "ab", "abc", "b", "c"});
  CHECK(f.keys(f.get(range("c", "a"))).empty());
  CHECK(f.keys(f.get(range("nope"))).empty());
}

TEST_CASE("mvcc: limit returns the first keys with the full count and more", "[mvcc]") {
  Fixture f;
  for (std::string k : {"a", "b", "c", "d"}) f.put(k, k);
  auto r = range("a", kAll);
  r.limit = 2;
  auto resp = f.get(r);
  CHECK(f.keys(resp) == std::vector<std::string>{"a", "b"});
  CHECK(resp.count == 4);
  CHECK(resp.more);
  r.limit = 4;
  CHECK_FALSE(f.get(r).more);
  r.count_only = true;
  resp = f.get(r);
  CHECK(resp.kvs.empty());
  CHECK(resp.count == 4);
  r.count_only = false;
  r.keys_only = true;
  resp = f.get(r);
  REQUIRE(resp.kvs.size() == 4);
  CHECK(resp.kvs[0].value.empty());
  CHECK(resp.kvs[0].mod_revision == 2);
}

TEST_CASE("mvcc: sort by each target, ascending by default for non-key targets", "[mvcc]") {
  Fixture f;
  f.put("a", "3");
  f.put("b", "1");
  f.put("c", "2");
  f.put("b", "1b");
  auto r = range("a", kAll);
  using V = std::vector<std::string>;
  r.sort_target = RangeRequest::SortTarget::value;
  CHECK(f.keys(f.get(r)) == V{"b", "c", "a"});
  r.sort_order = RangeRequest::SortOrder::descend;
  CHECK(f.keys(f.get(r)) == V{"a", "c", "b"});
  r.sort_target = RangeRequest::SortTarget::key;
  CHECK(f.keys(f.get(r)) == V{"c", "b", "a"});
  r.sort_target = RangeRequest::SortTarget::mod;
  r.sort_order = RangeRequest::SortOrder::none;
  CHECK(f.keys(f.get(r)) == V{"a", "c", "b"});
  r.sort_target = RangeRequest::SortTarget::create;
  r.sort_order = RangeRequest::SortOrder::descend;
  CHECK(f.keys(f.get(r)) == V{"c", "b", "a"});
  r.sort_target = RangeRequest::SortTarget::version;
  r.limit = 1;
  auto resp = f.get(r);
  CHECK(f.keys(resp) == V{"b"});
  CHECK(resp.more);
}

TEST_CASE("mvcc: a limit without a sort order takes the first keys before a target orders "
          "them, as etcd 3.4", "[mvcc]") {
  Fixture f;
  f.put("c", "1");  // 2
  f.put("b", "1");  // 3
  f.put("a", "1");  // 4
  auto r = range("a", kAll);
  r.sort_target = RangeRequest::SortTarget::mod;
  r.limit = 1;
  // etcd reads a and b (the limit and one more, in key order), then orders those by mod
  // revision: a (4) after b (3). The oldest key of the whole range, c, is not among them.
  using V = std::vector<std::string>;
  auto resp = f.get(r);
  CHECK(f.keys(resp) == V{"b"});
  CHECK(resp.more);
  CHECK(resp.count == 3);
  // With an order given, or a filter, every key is read first.
  r.sort_order = RangeRequest::SortOrder::ascend;
  CHECK(f.keys(f.get(r)) == V{"c"});
  r.sort_order = RangeRequest::SortOrder::none;
  r.min_mod_revision = 1;
  CHECK(f.keys(f.get(r)) == V{"c"});
}

TEST_CASE("mvcc: min and max revision filters apply after counting", "[mvcc]") {
  Fixture f;
  f.put("a", "1");  // 2
  f.put("b", "1");  // 3
  f.put("c", "1");  // 4
  f.put("a", "2");  // 5
  auto r = range("a", kAll);
  r.min_mod_revision = 3;
  r.max_mod_revision = 4;
  auto resp = f.get(r);
  CHECK(f.keys(resp) == std::vector<std::string>{"b", "c"});
  CHECK(resp.count == 3);
  r = range("a", kAll);
  r.min_create_revision = 3;
  CHECK(f.keys(f.get(r)) == std::vector<std::string>{"b", "c"});
  r = range("a", kAll);
  r.max_create_revision = 2;
  CHECK(f.keys(f.get(r)) == std::vector<std::string>{"a"});
}

TEST_CASE("mvcc: reads at a past revision, future and compacted revisions fail as etcd", "[mvcc]") {
  Fixture f;
  f.put("k", "1");  // 2
  f.put("k", "2");  // 3
  f.kv->delete_range(DeleteRangeRequest{"k"}).value();  // 4
  auto r = range("k");
  r.revision = 2;
  CHECK(f.get(r).kvs.at(0).value == "1");
  r.revision = 3;
  CHECK(f.get(r).kvs.at(0).value == "2");
  CHECK(f.get(r).revision == 4);
  r.revision = 4;
  CHECK(f.get(r).kvs.empty());
  r.revision = 5;
  auto future = f.kv->range(r);
  REQUIRE_FALSE(future);
  CHECK(future.error().message() == "mvcc: required revision is a future revision");
  CHECK(future.error().code() == mgmt::Code::out_of_range);
  REQUIRE(f.kv->compact(3));
  r.revision = 2;
  auto compacted = f.kv->range(r);
  REQUIRE_FALSE(compacted);
  CHECK(compacted.error().message() == "mvcc: required revision has been compacted");
  r.revision = 3;
  CHECK(f.get(r).kvs.at(0).value == "2");
}

TEST_CASE("mvcc: compaction keeps the latest version at the compact revision", "[mvcc]") {
  Fixture f;
  f.put("a", "1");  // 2
  f.put("a", "2");  // 3
  f.put("b", "1");  // 4
  f.kv->delete_range(DeleteRangeRequest{"b"}).value();  // 5
  f.put("a", "3");  // 6
  auto c = f.kv->compact(5);
  REQUIRE(c);
  CHECK(c->revision == 6);
  CHECK(f.kv->current_revision() == 6);
  auto r = range("a", kAll);
  r.revision = 5;
  auto resp = f.get(r);
  REQUIRE(resp.kvs.size() == 1);
  CHECK(resp.kvs[0] == KeyValue{"a", 2, 3, 2, "2", 0});
  SECTION("compacting at or below the compacted revision fails") {
    auto again = f.kv->compact(4);
    REQUIRE_FALSE(again);
    CHECK(again.error().message() == "mvcc: required revision has been compacted");
    CHECK_FALSE(f.kv->compact(5));
    auto future = f.kv->compact(7);
    REQUIRE_FALSE(future);
    CHECK(future.error().message() == kErrFutureRev);
  }
  SECTION("a restart keeps the compaction") {
    f.restart();
    CHECK(f.kv->compacted_revision() == 5);
    CHECK(f.kv->current_revision() == 6);
    CHECK(f.get(r).kvs.size() == 1);
    r.revision = 4;
    CHECK_FALSE(f.kv->range(r));
  }
}

TEST_CASE("mvcc: put with prev_kv, ignore_value and ignore_lease", "[mvcc]") {
  Fixture f;
  PutRequest p{"k", "v1"};
  p.prev_kv = true;
  auto r = f.kv->put(p);
  REQUIRE(r);
  CHECK_FALSE(r->prev_kv);
  p.value = "v2";
  r = f.kv->put(p);
  REQUIRE(r->prev_kv);
  CHECK(r->prev_kv->value == "v1");

  PutRequest keep{"k", ""};
  keep.ignore_value = true;
  REQUIRE(f.kv->put(keep));
  auto got = f.get(range("k"));
  CHECK(got.kvs.at(0).value == "v2");
  CHECK(got.kvs.at(0).version == 3);

  PutRequest missing{"nope", ""};
  missing.ignore_value = true;
  auto err = f.kv->put(missing);
  REQUIRE_FALSE(err);
  CHECK(err.error().message() == "etcdserver: key not found");
  missing.ignore_value = false;
  missing.ignore_lease = true;
  CHECK_FALSE(f.kv->put(missing));
  CHECK(f.kv->current_revision() == 4);

  PutRequest leased{"k", "v"};
  leased.lease = 42;
  auto no_lease = f.kv->put(leased);
  REQUIRE_FALSE(no_lease);
  CHECK(no_lease.error().message() == "etcdserver: requested lease not found");
  CHECK(no_lease.error().code() == mgmt::Code::not_found);
}

TEST_CASE("mvcc: txn with several writes is one revision with sub-revisions", "[mvcc]") {
  Fixture f;
  f.put("a", "0");
  TxnRequest t;
  t.compare.push_back(cmp("a", Compare::Target::version, Compare::Result::equal));
  t.compare.back().version = 1;
  t.success.push_back(RequestOp::make_put(PutRequest{"a", "1"}));
  t.success.push_back(RequestOp::make_put(PutRequest{"b", "1"}));
  t.success.push_back(RequestOp::make_range(range("a", kAll)));
  t.failure.push_back(RequestOp::make_put(PutRequest{"failed", "1"}));
  auto r = f.kv->txn(t);
  REQUIRE(r);
  CHECK(r->succeeded);
  CHECK(r->revision == 3);
  REQUIRE(r->responses.size() == 3);
  CHECK(r->responses[0].put.revision == 3);
  // Reads inside the txn see its own writes.
  CHECK(r->responses[2].range.kvs.size() == 2);
  CHECK(r->responses[2].range.kvs[1] == KeyValue{"b", 3, 3, 1, "1", 0});
  // Now version is 2: the compare fails and the else branch runs.
  r = f.kv->txn(t);
  REQUIRE(r);
  CHECK_FALSE(r->succeeded);
  CHECK(r->revision == 4);
  CHECK(f.get(range("failed")).kvs.size() == 1);
}

TEST_CASE("mvcc: txn compares on every target, with range_end and missing keys", "[mvcc]") {
  Fixture f;
  f.put("p/a", "x");  // 2
  f.put("p/b", "y");  // 3
  auto check = [&](Compare c) {
    TxnRequest t;
    t.compare.push_back(c);
    auto r = f.kv->txn(t);
    REQUIRE(r);
    return r->succeeded;
  };
  auto c = cmp("p/a", Compare::Target::value, Compare::Result::equal);
  c.value = "x";
  CHECK(check(c));
  c.result = Compare::Result::greater;
  c.value = "w";
  CHECK(check(c));
  c = cmp("p/a", Compare::Target::create, Compare::Result::less);
  c.create_revision = 3;
  CHECK(check(c));
  c = cmp("p/a", Compare::Target::mod, Compare::Result::not_equal);
  c.mod_revision = 2;
  CHECK_FALSE(check(c));
  c = cmp("p/a", Compare::Target::lease, Compare::Result::equal);
  CHECK(check(c));
  // Every key in the range must satisfy it.
  c = cmp("p/", Compare::Target::mod, Compare::Result::greater);
  c.range_end = "p0";
  c.mod_revision = 1;
  CHECK(check(c));
  c.mod_revision = 2;
  CHECK_FALSE(check(c));
  // A missing key has version 0 but no value.
  c = cmp("missing", Compare::Target::version, Compare::Result::equal);
  CHECK(check(c));
  c = cmp("missing", Compare::Target::value, Compare::Result::not_equal);
  c.value = "anything";
  CHECK_FALSE(check(c));
  CHECK(f.kv->current_revision() == 3);
}

TEST_CASE("mvcc: nested txn compares are decided before the outer writes", "[mvcc]") {
  Fixture f;
  TxnRequest inner;
  inner.compare.push_back(cmp("k", Compare::Target::version, Compare::Result::equal));
  inner.success.push_back(RequestOp::make_put(PutRequest{"inner", "saw-missing"}));
  inner.failure.push_back(RequestOp::make_put(PutRequest{"inner", "saw-present"}));
  TxnRequest outer;
  outer.success.push_back(RequestOp::make_put(PutRequest{"k", "v"}));
  outer.success.push_back(RequestOp::make_txn(inner));
  auto r = f.kv->txn(outer);
  REQUIRE(r);
  CHECK(r->revision == 2);
  REQUIRE(r->responses.size() == 2);
  REQUIRE(r->responses[1].txn);
  CHECK(r->responses[1].txn->succeeded);
  CHECK(f.get(range("inner")).kvs.at(0).value == "saw-missing");
}

TEST_CASE("mvcc: a txn whose put fails changes nothing", "[mvcc]") {
  Fixture f;
  f.put("a", "1");
  TxnRequest t;
  t.success.push_back(RequestOp::make_put(PutRequest{"b", "1"}));
  PutRequest bad{"missing", ""};
  bad.ignore_value = true;
  t.success.push_back(RequestOp::make_put(bad));
  auto r = f.kv->txn(t);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "etcdserver: key not found");
  CHECK(f.kv->current_revision() == 2);
  CHECK(f.get(range("b")).kvs.empty());

  TxnRequest future;
  auto rr = range("a");
  rr.revision = 99;
  future.success.push_back(RequestOp::make_range(rr));
  auto fr = f.kv->txn(future);
  REQUIRE_FALSE(fr);
  CHECK(fr.error().message() == kErrFutureRev);
}

TEST_CASE("mvcc: a txn that puts with ignore_value or ignore_lease a key it deleted is refused "
          "whole", "[mvcc]") {
  // etcd 3.4 takes this txn, finds the key gone in its apply and panics: the member exits.
  Fixture f;
  f.put("a", "1");
  f.put("b", "1");
  for (bool nested : {false, true}) {
    TxnRequest t;
    DeleteRangeRequest del{"a", kAll};  // from "a" on: a and b
    t.success.push_back(RequestOp::make_delete(del));
    PutRequest keep{"b", ""};
    keep.ignore_value = !nested;
    keep.ignore_lease = nested;
    if (nested) {
      TxnRequest inner;
      inner.success.push_back(RequestOp::make_put(keep));
      t.success.push_back(RequestOp::make_txn(inner));
    } else {
      t.success.push_back(RequestOp::make_put(keep));
    }
    auto r = f.kv->txn(t);
    INFO("nested " << nested);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == "etcdserver: key not found");
    CHECK(f.kv->current_revision() == 3);
    CHECK(f.get(range("a", kAll)).kvs.size() == 2);
  }
  // Put again first, the key has a value to keep.
  TxnRequest again;
  again.success.push_back(RequestOp::make_delete(DeleteRangeRequest{"b"}));
  again.success.push_back(RequestOp::make_put(PutRequest{"b", "2"}));
  PutRequest keep{"b", ""};
  keep.ignore_value = true;
  again.success.push_back(RequestOp::make_put(keep));
  CHECK(f.kv->txn(again));
}

TEST_CASE("mvcc: a txn's read at a negative revision is compacted once the store compacted, as "
          "etcd 3.4", "[mvcc]") {
  Fixture f;
  f.put("a", "1");  // 2
  f.put("a", "2");  // 3
  TxnRequest t;
  auto rr = range("a");
  rr.revision = -1;
  t.success.push_back(RequestOp::make_range(rr));
  auto before = f.kv->txn(t);
  REQUIRE(before);  // never compacted: read at the current revision
  CHECK(before->responses.at(0).range.kvs.at(0).value == "2");
  REQUIRE(f.kv->compact(2));
  auto after = f.kv->txn(t);
  REQUIRE_FALSE(after);
  CHECK(after.error().message() == "mvcc: required revision has been compacted");
  // A plain range at -1 reads the current revision, as etcd's.
  CHECK(f.get(rr).kvs.at(0).value == "2");
}

TEST_CASE("mvcc: a restart keeps every revision, value and the current revision", "[mvcc]") {
  Fixture f;
  f.put("a", "1");
  f.put("b", "2");
  f.put("a", "3");
  f.kv->delete_range(DeleteRangeRequest{"b"}).value();
  auto hash = f.kv->hash_kv(0);
  f.restart();
  CHECK(f.kv->current_revision() == 5);
  CHECK(f.kv->hash_kv(0) == hash);
  auto r = range("a", kAll);
  r.revision = 3;
  CHECK(f.keys(f.get(r)) == std::vector<std::string>{"a", "b"});
  CHECK(f.get(range("a")).kvs.at(0) == KeyValue{"a", 2, 4, 2, "3", 0});
  CHECK(f.put("c", "x") == 6);
}

TEST_CASE("mvcc: a write put into a caller's batch is durable only with that batch", "[mvcc]") {
  Fixture f;
  storage::Batch batch;
  auto r = f.kv->put(PutRequest{"k", "v"}, batch);
  REQUIRE(r);
  CHECK(r->revision == 2);
  batch.put_u64(storage::meta::kAppliedIndex, 7);
  REQUIRE(f.storage->write(batch, true));
  f.restart();
  CHECK(f.get(range("k")).kvs.at(0).value == "v");
  CHECK(f.storage->get_u64(storage::meta::kAppliedIndex).value() == 7u);
  storage::Batch dropped;
  REQUIRE(f.kv->put(PutRequest{"k2", "v"}, dropped));
  f.restart();  // the batch was never written: as if the entry was not applied
  CHECK(f.get(range("k2")).kvs.empty());
  CHECK(f.kv->current_revision() == 2);
}

TEST_CASE("mvcc: hash_kv is etcd 3.4's HashKV, bit for bit, before and after compactions",
          "[mvcc]") {
  // The numbers are what Debian's etcd 3.4.23 answered to `etcdctl endpoint hashkv` after the
  // same requests.
  Fixture f;
  CHECK(f.kv->hash_kv(0) == 1084519789u);
  f.put("a", "1");
  f.put("b", "2");
  f.put("a", "3");
  f.kv->delete_range(DeleteRangeRequest{"b"}).value();
  TxnRequest t;  // two changes in one revision: sub-revisions 0 and 1
  t.success.push_back(RequestOp::make_put(PutRequest{"c", "4"}));
  t.success.push_back(RequestOp::make_put(PutRequest{"d", "5"}));
  REQUIRE(f.kv->txn(t));
  CHECK(f.kv->hash_kv(0) == 3853268819u);
  CHECK(f.kv->hash_kv(2) == 2587454935u);
  CHECK(f.kv->hash_kv(4) == 2069675932u);
  REQUIRE(f.kv->compact(4));
  REQUIRE(f.kv->wait_compacted(4, std::chrono::seconds(10)));
  CHECK(f.kv->hash_kv(0) == 1264284526u);
  CHECK(f.kv->hash_kv(5) == 1468967122u);
  f.kv->delete_range(DeleteRangeRequest{"", std::string(1, '\0')}).value();
  CHECK(f.kv->hash_kv(0) == 1997931101u);
  // No key is left at 7: every revision the compaction at 6 kept counts.
  REQUIRE(f.kv->compact(6));
  REQUIRE(f.kv->wait_compacted(6, std::chrono::seconds(10)));
  CHECK(f.kv->hash_kv(0) == 3983764921u);
}

TEST_CASE("mvcc: a store rebuilt from another member's state dump answers the same",
          "[mvcc][snapshot]") {
  Fixture a, b;
  a.put("x", "1");
  a.put("y", "2");
  a.kv->delete_range(DeleteRangeRequest{"x"}).value();
  REQUIRE(a.kv->compact(3));
  b.put("stale", "s");
  auto dump = a.storage->dump_state().value();
  b.kv.reset();
  REQUIRE(b.storage->load_state(dump));
  b.reopen_kv();
  CHECK(b.kv->current_revision() == a.kv->current_revision());
  CHECK(b.kv->compacted_revision() == 3);
  CHECK(b.kv->hash_kv(0) == a.kv->hash_kv(0));
  CHECK(b.keys(b.get(range(kAll, kAll))) == std::vector<std::string>{"y"});
}

TEST_CASE("mvcc: txn delete_range returns prev_kvs and a txn deleting nothing keeps the revision",
          "[mvcc]") {
  Fixture f;
  f.put("d/1", "a");
  f.put("d/2", "b");
  TxnRequest t;
  t.success.push_back(RequestOp::make_delete(DeleteRangeRequest{"d/", "d0", true}));
  auto r = f.kv->txn(t);
  REQUIRE(r);
  CHECK(r->revision == 4);
  const auto& del = r->responses.at(0).delete_range;
  CHECK(del.deleted == 2);
  REQUIRE(del.prev_kvs.size() == 2);
  CHECK(del.prev_kvs[1].value == "b");
  r = f.kv->txn(t);
  REQUIRE(r);
  CHECK(r->responses.at(0).delete_range.deleted == 0);
  CHECK(r->revision == 4);
  CHECK(f.kv->current_revision() == 4);
}

TEST_CASE("mvcc: readers running beside a writer see whole revisions, never going back",
          "[mvcc][threads]") {
  Fixture f;
  constexpr int kWrites = 300;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  auto reader = [&] {
    int64_t last = 0;
    while (!done) {
      auto r = f.kv->range(range(kAll, kAll));
      if (!r || r->revision < last) ++bad;
      if (r) {
        last = r->revision;
        // Each txn writes a and b together: a reader sees both at the same value or neither.
        if (r->kvs.size() == 2 && r->kvs[0].value != r->kvs[1].value) ++bad;
        if (r->kvs.size() == 1) ++bad;
      }
    }
  };
  std::thread r1(reader), r2(reader);
  for (int i = 0; i < kWrites; ++i) {
    TxnRequest t;
    t.success.push_back(RequestOp::make_put(PutRequest{"a", std::to_string(i)}));
    t.success.push_back(RequestOp::make_put(PutRequest{"b", std::to_string(i)}));
    REQUIRE(f.kv->txn(t));
  }
  done = true;
  r1.join();
  r2.join();
  CHECK(bad == 0);
  CHECK(f.kv->current_revision() == kWrites + 1);
}

namespace {

// Records in the kv column (every revision the disk still holds).
std::size_t revisions_on_disk(storage::Storage& storage) {
  std::size_t n = 0;
  REQUIRE(storage.scan(storage::Column::kv, "", "", [&](auto, auto) { return ++n, true; }));
  return n;
}

}  // namespace

TEST_CASE("mvcc: a compaction deletes the old revisions from disk in the background, and a "
          "store reopened before they were gone deletes them then",
          "[mvcc]") {
  Fixture f;
  for (int i = 0; i < 5000; ++i) f.put("k" + std::to_string(i % 10), std::to_string(i));
  const int64_t at = f.kv->current_revision();
  REQUIRE(revisions_on_disk(*f.storage) == 5000);
  const uint32_t hash_before = f.kv->hash_kv(0);

  SECTION("in the background") {
    REQUIRE(f.kv->compact(at));
    // The index forgot them at once: reads below `at` are refused, hashes cover what is left.
    auto r = range("k0", "");
    r.revision = at - 1;
    CHECK_FALSE(f.kv->range(r));
    REQUIRE(f.kv->wait_compacted(at, std::chrono::seconds(20)));
    CHECK(revisions_on_disk(*f.storage) == 10);  // each key's latest
  }
  SECTION("after a stop that left them on disk") {
    // What a stop right after the compaction's batch leaves: the compacted revision recorded,
    // every old revision still in the kv column.
    storage::Batch batch;
    batch.put_u64(storage::meta::kCompactedRevision, static_cast<uint64_t>(at));
    REQUIRE(f.storage->write(batch, true));
    f.restart();
    CHECK(f.kv->compacted_revision() == at);
    auto r = range("k", "l");
    r.revision = at - 1;
    CHECK_FALSE(f.kv->range(r));
    REQUIRE(f.kv->wait_compacted(at, std::chrono::seconds(20)));
    CHECK(revisions_on_disk(*f.storage) == 10);
    auto live = f.get(range("k", "l"));
    REQUIRE(live.kvs.size() == 10);
    CHECK(live.kvs[0].value == "4990");
  }
  // Either way the store answers as one compacted in one go.
  f.restart();
  CHECK(revisions_on_disk(*f.storage) == 10);
  CHECK(f.kv->hash_kv(0) != hash_before);
  Fixture other;
  for (int i = 0; i < 5000; ++i) other.put("k" + std::to_string(i % 10), std::to_string(i));
  REQUIRE(other.kv->compact(at));
  CHECK(f.kv->hash_kv(0) == other.kv->hash_kv(0));
}

namespace {

// The same writes on two stores: keys with older revisions, a deletion before the compaction
// and one after it.
void write_history(Fixture& f) {
  f.put("a", "1");                                        // 2
  f.put("a", "2");                                        // 3
  f.put("b", "1");                                        // 4
  REQUIRE(f.kv->delete_range(DeleteRangeRequest{"b", ""}));  // 5
  f.put("c", "1");                                        // 6
  f.put("a", "3");                                        // 7
  REQUIRE(f.kv->delete_range(DeleteRangeRequest{"c", ""}));  // 8
}

// What a watch from `start` (with prev_kv) replays, as text.
std::vector<std::string> replay(KvStore& kv, int64_t start) {
  std::vector<std::string> out;
  WatchRequest w;
  w.key = "";
  w.range_end = kAll;
  w.start_revision = start;
  w.prev_kv = true;
  auto id = kv.watch(w, [&](const WatchEvents& e) {
    for (const Event& ev : e.events) {
      out.push_back((ev.type == Event::Type::put ? "put " : "del ") + ev.kv.key + "@" +
                    std::to_string(ev.kv.mod_revision) +
                    (ev.prev_kv ? " prev@" + std::to_string(ev.prev_kv->mod_revision) : ""));
    }
  });
  kv.cancel_watch(id);
  return out;
}

}  // namespace

TEST_CASE("mvcc: a compaction whose walk of the index has not run yet answers as one carried "
          "out: reads, hashes and watches from the compacted revision",
          "[mvcc]") {
  Fixture walked;
  write_history(walked);
  REQUIRE(walked.kv->compact(5));
  REQUIRE(walked.kv->wait_compacted(5, std::chrono::seconds(20)));

  Fixture pending;
  write_history(pending);
  // The batch recording the compaction is not written: nothing is walked or deleted yet.
  storage::Batch batch;
  REQUIRE(pending.kv->compact(5, batch));
  CHECK_FALSE(pending.kv->wait_compacted(5, std::chrono::milliseconds(0)));

  for (int64_t at : {0, 5, 6, 7, 8}) {
    INFO("at revision " << at);
    CHECK(pending.kv->hash_kv(at) == walked.kv->hash_kv(at));
    if (at == 0) continue;
    auto r = range("", kAll);
    r.revision = at;
    auto p = pending.get(r);
    auto w = walked.get(r);
    CHECK(pending.keys(p) == walked.keys(w));
    CHECK(p.count == w.count);
  }
  // b's deletion at the compacted revision is gone with the compaction: not replayed.
  const std::vector<std::string> expected{"put c@6", "put a@7 prev@3", "del c@8 prev@6"};
  CHECK(replay(*walked.kv, 5) == expected);
  CHECK(replay(*pending.kv, 5) == expected);
  CHECK(replay(*pending.kv, 4).size() == 0);  // compacted: no events

  // Once written and walked, nothing changes but the disk.
  const uint32_t before = pending.kv->hash_kv(0);
  REQUIRE(pending.storage->write(batch, false));
  pending.kv->on_batch_written();
  REQUIRE(pending.kv->wait_compacted(5, std::chrono::seconds(20)));
  CHECK(pending.kv->hash_kv(0) == before);
  CHECK(revisions_on_disk(*pending.storage) == revisions_on_disk(*walked.storage));
  CHECK(replay(*pending.kv, 5) == expected);
}

TEST_CASE("mvcc: writes while a compaction walks a big index in steps end as if it walked it "
          "at once",
          "[mvcc]") {
  auto history = [](Fixture& f) {
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 3000; ++i) f.put("k" + std::to_string(i), std::to_string(round));
    }
  };
  auto later = [](Fixture& f) {
    for (int i = 0; i < 3000; i += 7) f.put("k" + std::to_string(i), "later");
    REQUIRE(f.kv->delete_range(DeleteRangeRequest{"k1", "k2"}));
  };
  Fixture stepped;
  history(stepped);
  const int64_t at = stepped.kv->current_revision() - 100;
  REQUIRE(stepped.kv->compact(at));
  later(stepped);  // while the walk runs (3 steps of kWalkKeys)
  REQUIRE(stepped.kv->wait_compacted(at, std::chrono::seconds(20)));

  Fixture at_once;
  history(at_once);
  REQUIRE(at_once.kv->compact(at));
  REQUIRE(at_once.kv->wait_compacted(at, std::chrono::seconds(20)));
  later(at_once);

  CHECK(stepped.kv->hash_kv(0) == at_once.kv->hash_kv(0));
  CHECK(revisions_on_disk(*stepped.storage) == revisions_on_disk(*at_once.storage));
  stepped.restart();
  CHECK(stepped.kv->hash_kv(0) == at_once.kv->hash_kv(0));
}

TEST_CASE("mvcc: the bytes the history holds grow with every revision and shrink with a "
          "compaction",
          "[mvcc]") {
  Fixture f;
  const int64_t empty = f.kv->state_bytes();
  f.put("key", std::string(1000, 'a'));
  f.put("key", std::string(2000, 'b'));
  const int64_t per_entry = KeyIndex::kEntryOverhead + 3;
  CHECK(f.kv->state_bytes() == empty + 2 * per_entry + 3000);
  REQUIRE(f.kv->delete_range(DeleteRangeRequest{"key", ""}));
  CHECK(f.kv->state_bytes() == empty + 3 * per_entry + 3000);  // a deletion holds its key
  f.put("other", "v");
  REQUIRE(f.kv->compact(f.kv->current_revision()));
  REQUIRE(f.kv->wait_compacted(f.kv->current_revision(), std::chrono::seconds(20)));
  CHECK(f.kv->state_bytes() == empty + KeyIndex::kEntryOverhead + 5 + 1);  // "other" alone
  f.restart();
  CHECK(f.kv->state_bytes() == empty + KeyIndex::kEntryOverhead + 5 + 1);
}
