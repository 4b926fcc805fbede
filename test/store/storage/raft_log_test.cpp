// raft_log_test.cpp: the Raft log in RocksDB: append, truncate a conflicting suffix, the
// etcd Storage answers (first/last/term/entries with compacted and unavailable errors),
// compaction, snapshot install, restart, and a failed sync leaving the log unchanged.
#include "store/storage/raft_log.h"
#include "test/store/mvcc/temp_store.h"
#include "test/store/storage/fault_env.h"

#include <catch2/catch.hpp>

using namespace mgmt::store;
using namespace mgmt::store::storage;

namespace {

std::vector<StoredEntry> make(uint64_t from, uint64_t to, uint64_t term) {
  std::vector<StoredEntry> out;
  for (uint64_t i = from; i <= to; ++i) out.push_back({i, term, "e" + std::to_string(i)});
  return out;
}

std::unique_ptr<RaftLog> open_log(Storage& s) {
  auto log = RaftLog::open(s);
  if (!log) FAIL(log.error().message());
  return std::move(*log);
}

}  // namespace

TEST_CASE("raft log: a fresh log is empty at index 0", "[storage][raft_log]") {
  test::TempDir dir;
  auto s = test::open_storage(dir.path());
  auto log = open_log(*s);
  CHECK(log->first_index() == 1);
  CHECK(log->last_index() == 0);
  CHECK(log->term(0).value() == 0);
  CHECK(log->term(1).error().code() == mgmt::Code::unavailable);
  CHECK(log->hard_state() == StoredHardState{});
}

TEST_CASE("raft log: entries and hard state are saved together and survive restart",
          "[storage][raft_log]") {
  test::TempDir dir;
  {
    auto s = test::open_storage(dir.path());
    auto log = open_log(*s);
    REQUIRE(log->save(StoredHardState{2, 1, 3}, make(1, 5, 2)));
  }
  auto s = test::open_storage(dir.path());
  auto log = open_log(*s);
  CHECK(log->last_index() == 5);
  CHECK(log->hard_state() == StoredHardState{2, 1, 3});
  auto es = log->entries(2, 5, UINT64_MAX).value();
  REQUIRE(es.size() == 3);
  CHECK(es[0] == StoredEntry{2, 2, "e2"});
  CHECK(es[2] == StoredEntry{4, 2, "e4"});
  // max_bytes limits the batch but always returns one entry.
  CHECK(log->entries(1, 6, 0).value().size() == 1);
  CHECK(log->entries(1, 6, 4).value().size() == 2);
  CHECK(log->entries(1, 7, UINT64_MAX).error().code() == mgmt::Code::unavailable);
}

TEST_CASE("raft log: appending below the last index truncates the conflicting suffix",
          "[storage][raft_log]") {
  test::TempDir dir;
  auto s = test::open_storage(dir.path());
  auto log = open_log(*s);
  REQUIRE(log->save(std::nullopt, make(1, 6, 1)));
  REQUIRE(log->save(std::nullopt, make(4, 4, 2)));
  CHECK(log->last_index() == 4);
  CHECK(log->term(4).value() == 2);
  CHECK(log->term(3).value() == 1);
  CHECK(log->term(5).error().code() == mgmt::Code::unavailable);
  auto gap = log->save(std::nullopt, make(7, 7, 2));
  REQUIRE_FALSE(gap);
  CHECK(log->last_index() == 4);
  log.reset();
  log = open_log(*s);
  CHECK(log->last_index() == 4);
  CHECK(log->entries(4, 5, UINT64_MAX).value().at(0) == StoredEntry{4, 2, "e4"});
}

TEST_CASE("raft log: compaction drops old entries and keeps the compacted term",
          "[storage][raft_log]") {
  test::TempDir dir;
  auto s = test::open_storage(dir.path());
  auto log = open_log(*s);
  REQUIRE(log->save(std::nullopt, make(1, 3, 1)));
  REQUIRE(log->save(std::nullopt, make(4, 8, 2)));
  REQUIRE(log->compact(5, "conf"));
  CHECK(log->first_index() == 6);
  CHECK(log->last_index() == 8);
  CHECK(log->term(5).value() == 2);
  CHECK(log->term(4).error().code() == mgmt::Code::out_of_range);
  CHECK(log->entries(5, 7, UINT64_MAX).error().code() == mgmt::Code::out_of_range);
  CHECK_FALSE(log->compact(5, "conf"));
  CHECK_FALSE(log->compact(9, "conf"));
  log.reset();
  log = open_log(*s);
  CHECK(log->first_index() == 6);
  CHECK(log->snapshot_meta() == StoredSnapshotMeta{5, 2, "conf"});
  CHECK(log->entries(6, 9, UINT64_MAX).value().size() == 3);
}

TEST_CASE("raft log: installing a snapshot replaces the log", "[storage][raft_log]") {
  test::TempDir dir;
  auto s = test::open_storage(dir.path());
  auto log = open_log(*s);
  REQUIRE(log->save(StoredHardState{1, 1, 2}, make(1, 4, 1)));
  REQUIRE(log->apply_snapshot(StoredSnapshotMeta{10, 3, "cs"}));
  CHECK(log->first_index() == 11);
  CHECK(log->last_index() == 10);
  CHECK(log->term(10).value() == 3);
  CHECK(log->hard_state().commit == 10);
  CHECK_FALSE(log->apply_snapshot(StoredSnapshotMeta{9, 3, "cs"}));
  REQUIRE(log->save(std::nullopt, make(11, 12, 3)));
  log.reset();
  log = open_log(*s);
  CHECK(log->first_index() == 11);
  CHECK(log->last_index() == 12);
}

TEST_CASE("raft log: a failed sync is reported and leaves the log as it was",
          "[storage][raft_log][fault]") {
  test::TempDir dir;
  test::FaultEnv env(rocksdb::Env::Default());
  Options o;
  o.dir = dir.path();
  o.env = &env;
  auto s = Storage::open(o).value();
  auto log = open_log(*s);
  REQUIRE(log->save(StoredHardState{1, 0, 0}, make(1, 2, 1)));
  env.fail_sync = true;
  auto w = log->save(StoredHardState{2, 2, 0}, make(3, 3, 2));
  REQUIRE_FALSE(w);
  CHECK(log->last_index() == 2);
  CHECK(log->hard_state() == StoredHardState{1, 0, 0});
}
