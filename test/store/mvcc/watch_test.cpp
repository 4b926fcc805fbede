// watch_test.cpp: the KvStore's watchers: history replay then live events, filters, prev_kv,
// cancel, compacted start and progress.
#include "store/mvcc/kv_store.h"
#include "test/store/mvcc/temp_store.h"

#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

using namespace mgmt::store;
using namespace mgmt::store::mvcc;

namespace {

struct Recorder {
  std::mutex mu;
  std::vector<WatchEvents> got;
  WatchSink sink() {
    return [this](const WatchEvents& e) {
      std::lock_guard lock(mu);
      got.push_back(e);
    };
  }
  std::vector<Event> events() {
    std::lock_guard lock(mu);
    std::vector<Event> out;
    for (const auto& g : got) out.insert(out.end(), g.events.begin(), g.events.end());
    return out;
  }
};

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<storage::Storage> storage = test::open_storage(dir.path());
  std::unique_ptr<KvStore> kv = std::move(KvStore::open(*storage, nullptr).value());
  void put(const std::string& k, const std::string& v) { REQUIRE(kv->put(PutRequest{k, v})); }
  void del(const std::string& k) { REQUIRE(kv->delete_range(DeleteRangeRequest{k})); }
};

WatchRequest watch_range(std::string key, std::string end, int64_t start) {
  WatchRequest w;
  w.key = std::move(key);
  w.range_end = std::move(end);
  w.start_revision = start;
  return w;
}

}  // namespace

TEST_CASE("watch: replays history from the start revision, then live events", "[mvcc][watch]") {
  Fixture f;
  f.put("a", "1");  // 2
  f.put("b", "1");  // 3
  f.put("a", "2");  // 4
  Recorder rec;
  auto w = watch_range("a", "", 3);
  w.prev_kv = true;
  f.kv->watch(w, rec.sink());
  auto ev = rec.events();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kv.mod_revision == 4);
  REQUIRE(ev[0].prev_kv);
  CHECK(ev[0].prev_kv->value == "1");
  f.del("a");  // 5
  ev = rec.events();
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].type == Event::Type::del);
  CHECK(ev[1].kv.key == "a");
  CHECK(ev[1].kv.mod_revision == 5);
  CHECK(ev[1].prev_kv->value == "2");
}

TEST_CASE("watch: start 0 sees only new events, a txn's events arrive together", "[mvcc][watch]") {
  Fixture f;
  f.put("p/old", "x");
  Recorder rec;
  f.kv->watch(watch_range("p/", "p0", 0), rec.sink());
  CHECK(rec.events().empty());
  TxnRequest t;
  t.success.push_back(RequestOp::make_put(PutRequest{"p/1", "a"}));
  t.success.push_back(RequestOp::make_put(PutRequest{"q", "a"}));
  t.success.push_back(RequestOp::make_put(PutRequest{"p/2", "b"}));
  REQUIRE(f.kv->txn(t));
  std::lock_guard lock(rec.mu);
  REQUIRE(rec.got.size() == 1);
  CHECK(rec.got[0].revision == 3);
  REQUIRE(rec.got[0].events.size() == 2);
  CHECK(rec.got[0].events[0].kv.key == "p/1");
  CHECK(rec.got[0].events[1].kv.key == "p/2");
  CHECK_FALSE(rec.got[0].events[0].prev_kv);  // not asked for
}

TEST_CASE("watch: no_put and no_delete filters", "[mvcc][watch]") {
  Fixture f;
  Recorder puts, dels;
  auto w = watch_range("k", "", 0);
  w.no_delete = true;
  f.kv->watch(w, puts.sink());
  w.no_delete = false;
  w.no_put = true;
  f.kv->watch(w, dels.sink());
  f.put("k", "1");
  f.del("k");
  REQUIRE(puts.events().size() == 1);
  CHECK(puts.events()[0].type == Event::Type::put);
  REQUIRE(dels.events().size() == 1);
  CHECK(dels.events()[0].type == Event::Type::del);
}

TEST_CASE("watch: cancel stops delivery", "[mvcc][watch]") {
  Fixture f;
  Recorder rec;
  auto id = f.kv->watch(watch_range("k", "", 0), rec.sink());
  f.put("k", "1");
  CHECK(f.kv->cancel_watch(id));
  CHECK_FALSE(f.kv->cancel_watch(id));
  f.put("k", "2");
  CHECK(rec.events().size() == 1);
  CHECK(f.kv->watcher_count() == 0);
}

TEST_CASE("watch: a compacted start revision reports the compact revision", "[mvcc][watch]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.put("k", std::to_string(i));  // 2..6
  REQUIRE(f.kv->compact(4));
  Recorder rec;
  f.kv->watch(watch_range("k", "", 3), rec.sink());
  {
    std::lock_guard lock(rec.mu);
    REQUIRE(rec.got.size() == 1);
    CHECK(rec.got[0].compact_revision == 4);
    CHECK(rec.got[0].revision == 0);  // no header revision, as etcd 3.4's
    CHECK(rec.got[0].events.empty());
  }
  CHECK(f.kv->watcher_count() == 0);
  Recorder ok;
  f.kv->watch(watch_range("k", "", 4), ok.sink());
  auto ev = ok.events();
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].kv.mod_revision == 4);
  // A negative start is compacted too, as with etcd, rather than waiting silently.
  Recorder negative;
  f.kv->watch(watch_range("k", "", -5), negative.sink());
  {
    std::lock_guard lock(negative.mu);
    REQUIRE(negative.got.size() == 1);
    CHECK(negative.got[0].compact_revision == 4);
  }
}

TEST_CASE("watch: a negative start on a store never compacted reports compact revision -1, as "
          "etcd 3.4", "[mvcc][watch]") {
  Fixture f;
  f.put("k", "1");
  Recorder rec;
  f.kv->watch(watch_range("k", "", -1), rec.sink());
  std::lock_guard lock(rec.mu);
  REQUIRE(rec.got.size() == 1);
  CHECK(rec.got[0].compact_revision == -1);
  CHECK(rec.got[0].events.empty());
}

TEST_CASE("watch: a future start revision waits for it", "[mvcc][watch]") {
  Fixture f;
  Recorder rec;
  f.kv->watch(watch_range("k", "", 4), rec.sink());
  f.put("k", "a");  // 2
  f.put("k", "b");  // 3
  f.put("k", "c");  // 4
  auto ev = rec.events();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kv.value == "c");
}

TEST_CASE("watch: progress sends the current revision with no events", "[mvcc][watch]") {
  Fixture f;
  Recorder rec;
  auto id = f.kv->watch(watch_range("k", "", 0), rec.sink());
  f.put("other", "x");
  f.kv->progress(id);
  std::lock_guard lock(rec.mu);
  REQUIRE(rec.got.size() == 1);
  CHECK(rec.got[0].revision == 2);
  CHECK(rec.got[0].events.empty());
}

TEST_CASE("watch: concurrent writers and watcher creation deliver each event exactly once",
          "[mvcc][watch]") {
  Fixture f;
  constexpr int kWrites = 400;
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) f.put("k" + std::to_string(i % 7), std::to_string(i));
  });
  std::vector<std::unique_ptr<Recorder>> recs;
  for (int i = 0; i < 20; ++i) {
    recs.push_back(std::make_unique<Recorder>());
    f.kv->watch(watch_range("k", "l", 2), recs.back()->sink());
  }
  writer.join();
  for (auto& rec : recs) {
    auto ev = rec->events();
    REQUIRE(ev.size() == static_cast<std::size_t>(kWrites));
    for (std::size_t i = 0; i < ev.size(); ++i) {
      CHECK(ev[i].kv.mod_revision == static_cast<int64_t>(i) + 2);
    }
  }
}

TEST_CASE("watch: history comes in responses of up to 1000 revisions at the current revision",
          "[mvcc][watch]") {
  Fixture f;
  for (int i = 0; i < 2500; ++i) f.put("k", std::to_string(i));  // revisions 2..2501
  Recorder rec;
  f.kv->watch(watch_range("k", "", 2), rec.sink());
  f.put("k", "live");  // 2502
  std::lock_guard lock(rec.mu);
  REQUIRE(rec.got.size() == 4);
  CHECK(rec.got[0].events.size() == 1000);
  CHECK(rec.got[1].events.size() == 1000);
  CHECK(rec.got[2].events.size() == 500);
  for (int i = 0; i < 3; ++i) CHECK(rec.got[static_cast<std::size_t>(i)].revision == 2501);
  CHECK(rec.got[2].events.back().kv.mod_revision == 2501);
  CHECK(rec.got[3].revision == 2502);
  REQUIRE(rec.got[3].events.size() == 1);
  CHECK(rec.got[3].events[0].kv.value == "live");
}

namespace {

// Where a recorder's replay stopped short (behind_from), or 0.
int64_t behind_from(Recorder& rec) {
  std::lock_guard lock(rec.mu);
  for (const auto& g : rec.got) {
    if (g.behind_from != 0) {
      CHECK(g.events.empty());
      CHECK(&g == &rec.got.back());  // nothing after it
      return g.behind_from;
    }
  }
  return 0;
}

}  // namespace

TEST_CASE("watch: a history longer than one replay stops between revisions with behind_from, "
          "and watching again from there gets the rest, each event once",
          "[mvcc][watch]") {
  Fixture f;
  for (int i = 0; i < 9999; ++i) f.put("k" + std::to_string(i % 10), std::to_string(i));
  // Revision 10001 deletes three keys: events 10000 to 10002 of the replay, one revision.
  REQUIRE(f.kv->delete_range(DeleteRangeRequest{"k0", "k3"}));
  for (int i = 0; i < 2000; ++i) f.put("k" + std::to_string(i % 10), "after");  // 10002..12001

  Recorder first;
  const WatcherId id = f.kv->watch(watch_range("k", "l", 2), first.sink());
  const auto part = first.events();
  REQUIRE(part.size() == 10002);  // the whole of revision 10001, not a part of it
  CHECK(part.back().kv.mod_revision == 10001);
  CHECK(part.back().type == Event::Type::del);
  REQUIRE(behind_from(first) == 10002);
  f.put("k1", "live");  // 12002: not for a watcher whose replay stopped short
  CHECK(first.events().size() == 10002);
  CHECK(f.kv->cancel_watch(id));

  Recorder rest;
  f.kv->watch(watch_range("k", "l", behind_from(first)), rest.sink());
  CHECK(behind_from(rest) == 0);
  f.put("k2", "live");  // 12003
  auto all = part;
  for (auto& e : rest.events()) all.push_back(e);
  REQUIRE(all.size() == 9999 + 3 + 2000 + 2);
  int64_t rev = 1;
  for (const auto& e : all) {
    CHECK(e.kv.mod_revision >= rev);
    rev = e.kv.mod_revision;
  }
  CHECK(all.back().kv.value == "live");
  CHECK(all.back().kv.mod_revision == 12003);
}

TEST_CASE("watch: a replay stops once it holds 8 MiB of values, between revisions",
          "[mvcc][watch]") {
  Fixture f;
  const std::string mib(1 << 20, 'x');
  for (int i = 0; i < 12; ++i) f.put("big", mib + std::to_string(i));  // revisions 2..13
  int64_t from = 2;
  std::vector<Event> all;
  std::size_t parts = 0;
  while (from != 0) {
    Recorder rec;
    const WatcherId id = f.kv->watch(watch_range("big", "", from), rec.sink());
    auto events = rec.events();
    CHECK(events.size() < 12);
    all.insert(all.end(), events.begin(), events.end());
    from = behind_from(rec);
    if (from != 0) CHECK(from == all.back().kv.mod_revision + 1);
    f.kv->cancel_watch(id);
    ++parts;
  }
  CHECK(parts >= 2);
  REQUIRE(all.size() == 12);
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].kv.mod_revision == static_cast<int64_t>(i) + 2);
  }
}

TEST_CASE("watch: a txn that changes a key twice gives each event the key as it was before the "
          "txn as prev_kv, and a creation none, live and replayed, as etcd", "[mvcc][watch]") {
  Fixture f;
  f.put("k", "old");  // 2
  auto w = watch_range("k", "", 0);
  w.prev_kv = true;
  Recorder live;
  f.kv->watch(w, live.sink());
  // Revision 3: put k, delete k, put k again.
  TxnRequest t;
  t.success.push_back(RequestOp::make_put(PutRequest{"k", "mid"}));
  TxnRequest inner;
  inner.success.push_back(RequestOp::make_delete(DeleteRangeRequest{"k"}));
  t.success.push_back(RequestOp::make_txn(inner));
  TxnRequest last;
  last.success.push_back(RequestOp::make_put(PutRequest{"k", "new"}));
  t.success.push_back(RequestOp::make_txn(last));
  REQUIRE(f.kv->txn(t));

  Recorder replayed;
  w.start_revision = 3;
  f.kv->watch(w, replayed.sink());
  for (Recorder* rec : {&live, &replayed}) {
    auto ev = rec->events();
    REQUIRE(ev.size() == 3);
    // etcd reads prev_kv at the revision before the event's: "old", for the put and the
    // delete alike (not "mid", which the txn's own put left).
    CHECK(ev[0].type == Event::Type::put);
    REQUIRE(ev[0].prev_kv);
    CHECK(ev[0].prev_kv->value == "old");
    CHECK(ev[1].type == Event::Type::del);
    REQUIRE(ev[1].prev_kv);
    CHECK(ev[1].prev_kv->value == "old");
    // The last put creates the key again (version 1): a creation has no prev_kv.
    CHECK(ev[2].kv.version == 1);
    CHECK_FALSE(ev[2].prev_kv);
  }
}
