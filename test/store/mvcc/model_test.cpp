// model_test.cpp: the KvStore against a simple model (LevelDB's ModelDB): a full copy of the
// keyspace at every revision. Random puts, deletes, txns, compactions and restarts (seeded,
// bounded); after each step every read at every retained revision must agree with the model,
// and a watcher from the start must have seen every change exactly once, in order.
#include "store/mvcc/errors.h"
#include "store/mvcc/kv_store.h"
#include "test/store/mvcc/temp_store.h"

#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <random>

using namespace mgmt::store;
using namespace mgmt::store::mvcc;

namespace {

using State = std::map<std::string, KeyValue>;

struct Model {
  std::map<int64_t, State> at{{1, State{}}};  // revision -> keyspace
  int64_t compacted = 0;
  int64_t current() const { return at.rbegin()->first; }
  int64_t changes = 0;  // events expected by a watcher from revision 2

  // Applies the puts and deletes of one request; bumps the revision only if something changed.
  void write(const std::vector<std::pair<std::string, std::optional<std::string>>>& ops) {
    State next = at.rbegin()->second;
    int64_t rev = current() + 1;
    int64_t n = 0;
    for (const auto& [key, value] : ops) {
      if (value) {
        auto it = next.find(key);
        KeyValue kv{key, rev, rev, 1, *value, 0};
        if (it != next.end()) {
          kv.create_revision = it->second.create_revision;
          kv.version = it->second.version + 1;
        }
        next[key] = kv;
        ++n;
      } else if (next.erase(key)) {
        ++n;
      }
    }
    if (n > 0) {
      at[rev] = std::move(next);
      changes += n;
    }
  }
};

struct Recorder {
  std::mutex mu;
  std::vector<Event> events;
  int64_t last_revision = 0;
  bool in_order = true;
};

// The model's keyspace at revision rev: the newest recorded state at or before it.
const State& state_at(const Model& m, int64_t rev) {
  auto it = m.at.upper_bound(rev);
  REQUIRE(it != m.at.begin());
  return std::prev(it)->second;
}

void check_reads(KvStore& kv, const Model& m) {
  for (int64_t rev = std::max<int64_t>(1, m.compacted - 2); rev <= m.current(); ++rev) {
    RangeRequest r;
    r.key = std::string(1, '\0');
    r.range_end = std::string(1, '\0');
    r.revision = rev;
    auto got = kv.range(r);
    INFO("revision " << rev);
    if (rev < m.compacted) {
      REQUIRE_FALSE(got);
      CHECK(got.error().message() == kErrCompacted);
      continue;
    }
    REQUIRE(got);
    std::vector<KeyValue> want;
    for (const auto& [k, v] : state_at(m, rev)) want.push_back(v);
    REQUIRE(got->kvs == want);
  }
  CHECK(kv.current_revision() == m.current());
}

}  // namespace

TEST_CASE("mvcc model: random operations agree with a map of revisions", "[mvcc][model]") {
  const uint64_t seed = GENERATE(1, 2, 3, 4);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return rng() % n; };
  const std::vector<std::string> keys = {"a", "a/b", "b", "c", "c/1", "c/2", "d"};
  auto key = [&] { return keys[pick(keys.size())]; };

  test::TempDir dir;
  auto storage = test::open_storage(dir.path());
  auto kv = std::move(KvStore::open(*storage, nullptr).value());
  Model m;
  Recorder rec;
  auto sink = [&rec](const WatchEvents& e) {
    std::lock_guard lock(rec.mu);
    if (e.revision <= rec.last_revision) rec.in_order = false;
    rec.last_revision = e.revision;
    rec.events.insert(rec.events.end(), e.events.begin(), e.events.end());
  };
  WatchRequest w;
  w.key = std::string(1, '\0');
  w.range_end = std::string(1, '\0');
  w.start_revision = 2;
  kv->watch(w, sink);

  for (int step = 0; step < 300; ++step) {
    uint64_t op = pick(100);
    if (op < 45) {
      std::string k = key(), v = std::to_string(pick(1000));
      REQUIRE(kv->put(PutRequest{k, v}));
      m.write({{k, v}});
    } else if (op < 60) {
      std::string k = key();
      bool ranged = pick(2) == 0;
      DeleteRangeRequest d{k, ranged ? k + "\xff" : ""};
      REQUIRE(kv->delete_range(d));
      std::vector<std::pair<std::string, std::optional<std::string>>> ops;
      for (const auto& [mk, mv] : m.at.rbegin()->second) {
        if (mk == k || (ranged && mk >= k && mk < k + "\xff")) ops.emplace_back(mk, std::nullopt);
      }
      m.write(ops);
    } else if (op < 85) {
      // CAS: if version(k) == guess then put k and delete other, else put other.
      std::string k = key(), other = key();
      if (other == k) other = k + "/x";
      int64_t guess = static_cast<int64_t>(pick(3));
      TxnRequest t;
      Compare c;
      c.key = k;
      c.target = Compare::Target::version;
      c.version = guess;
      t.compare.push_back(c);
      std::string v = std::to_string(pick(1000));
      t.success.push_back(RequestOp::make_put(PutRequest{k, v}));
      t.success.push_back(RequestOp::make_delete(DeleteRangeRequest{other}));
      t.failure.push_back(RequestOp::make_put(PutRequest{other, v}));
      auto r = kv->txn(t);
      REQUIRE(r);
      const State& s = m.at.rbegin()->second;
      auto it = s.find(k);
      bool ok = (it == s.end() ? 0 : it->second.version) == guess;
      CHECK(r->succeeded == ok);
      if (ok) {
        m.write({{k, v}, {other, std::nullopt}});
      } else {
        m.write({{other, v}});
      }
    } else if (op < 92) {
      int64_t target = m.compacted + 1 + static_cast<int64_t>(pick(4));
      auto r = kv->compact(target);
      if (target > m.current()) {
        REQUIRE_FALSE(r);
        CHECK(r.error().message() == kErrFutureRev);
      } else {
        REQUIRE(r);
        m.compacted = target;
        State kept = state_at(m, target);
        for (auto it = m.at.begin(); it != m.at.end() && it->first < target;) it = m.at.erase(it);
        m.at.emplace(target, std::move(kept));
      }
    } else if (op < 95) {
      kv.reset();
      storage.reset();
      storage = test::open_storage(dir.path());
      kv = std::move(KvStore::open(*storage, nullptr).value());
      // Watchers do not survive a restart; resume from the next revision.
      kv->watch([&] {
        WatchRequest again = w;
        again.start_revision = m.current() + 1;
        return again;
      }(), sink);
    } else {
      check_reads(*kv, m);
    }
  }
  check_reads(*kv, m);
  std::lock_guard lock(rec.mu);
  CHECK(rec.in_order);
  CHECK(static_cast<int64_t>(rec.events.size()) == m.changes);
}
