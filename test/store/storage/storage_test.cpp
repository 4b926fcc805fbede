// storage_test.cpp: the member database: atomic batches, the data dir lock, refusing another
// cluster's or a foreign or damaged dir without touching it, failed syncs and full disks refusing
// writes, and byte flips giving a clear error. Real RocksDB in temp dirs; MemEnv where it is
// only about the API.
#include "store/storage/storage.h"
#include "test/store/mvcc/temp_store.h"
#include "test/store/storage/fault_env.h"

#include <catch2/catch.hpp>

#include <rocksdb/env.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

using namespace mgmt::store;
using namespace mgmt::store::storage;

namespace {

std::map<std::string, std::string> snapshot_dir(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    out[e.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

Options at(const std::string& dir) {
  Options o;
  o.dir = dir;
  return o;
}

// Synced batches 0..n-1, each a raft record and the applied index.
void write_synced_batches(Storage& s, int n) {
  for (int i = 0; i < n; ++i) {
    Batch b;
    b.put(Column::raft, encode_u64(static_cast<uint64_t>(i)), std::string(200, 'x'));
    b.put_u64(meta::kAppliedIndex, static_cast<uint64_t>(i));
    REQUIRE(s.write(b, true));
  }
}

}  // namespace

TEST_CASE("storage: batches are atomic across column families and survive reopen", "[storage]") {
  test::TempDir dir;
  {
    auto s = Storage::open(at(dir.path())).value();
    Batch b;
    b.put(Column::kv, "k1", "v1");
    b.put(Column::leases, "l", "x");
    b.put_u64(meta::kAppliedIndex, 42);
    REQUIRE(s->write(b, true));
    Batch d;
    d.del(Column::leases, "l");
    REQUIRE(s->write(d, true));
  }
  auto s = Storage::open(at(dir.path())).value();
  CHECK(s->get(Column::kv, "k1").value() == std::optional<std::string>("v1"));
  CHECK_FALSE(s->get(Column::leases, "l").value().has_value());
  CHECK(s->get_u64(meta::kAppliedIndex).value() == std::optional<uint64_t>(42));
  CHECK_FALSE(s->get(Column::raft, "k1").value().has_value());  // columns are separate
}

TEST_CASE("storage: scan visits a key range in order", "[storage]") {
  std::unique_ptr<rocksdb::Env> env(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  Options o = at("/mem/db");
  o.env = env.get();
  o.local_dir = false;
  auto s = Storage::open(o).value();
  Batch b;
  for (uint64_t i = 0; i < 10; ++i) b.put(Column::raft, encode_u64(i), std::to_string(i));
  REQUIRE(s->write(b, false));
  std::vector<std::string> seen;
  REQUIRE(s->scan(Column::raft, encode_u64(3), encode_u64(6), [&](auto, auto v) {
    seen.emplace_back(v);
    return true;
  }));
  CHECK(seen == std::vector<std::string>{"3", "4", "5"});
}

TEST_CASE("storage: a second opener of the same dir is refused with one line", "[storage]") {
  test::TempDir dir;
  auto first = Storage::open(at(dir.path()));
  REQUIRE(first);
  auto second = Storage::open(at(dir.path()));
  REQUIRE_FALSE(second);
  const std::string& m = second.error().message();
  CHECK(m.find(dir.path()) != std::string::npos);
  CHECK(m.find("another mgmt agent is running") != std::string::npos);
  CHECK(m.find('\n') == std::string::npos);
  CHECK(second.error().code() == mgmt::Code::unavailable);
  first->reset();
  CHECK(Storage::open(at(dir.path())));
}

TEST_CASE("storage: a dir of another cluster is refused and left untouched", "[storage]") {
  test::TempDir dir;
  Options o = at(dir.path());
  o.cluster_id = 111;
  { REQUIRE(Storage::open(o)); }
  auto before = snapshot_dir(dir.path());
  o.cluster_id = 222;
  auto other = Storage::open(o);
  REQUIRE_FALSE(other);
  CHECK(other.error().message().find("another cluster") != std::string::npos);
  CHECK(other.error().code() == mgmt::Code::failed_precondition);
  before.erase("mgmt.lock");
  auto after = snapshot_dir(dir.path());
  after.erase("mgmt.lock");
  CHECK(after.size() == before.size());
  o.cluster_id = 111;
  auto same = Storage::open(o);
  REQUIRE(same);
  CHECK((*same)->bind_cluster(111, 5));
  CHECK_FALSE((*same)->bind_cluster(111, 6));
  CHECK_FALSE((*same)->bind_cluster(112, 5));
}

TEST_CASE("storage: a dir holding other files is refused and left untouched", "[storage]") {
  test::TempDir dir;
  { std::ofstream(dir.path() + "/precious.txt") << "keep me"; }
  auto s = Storage::open(at(dir.path()));
  REQUIRE_FALSE(s);
  CHECK(s.error().message().find("holds files but no store database") != std::string::npos);
  std::ifstream in(dir.path() + "/precious.txt");
  std::string text;
  std::getline(in, text);
  CHECK(text == "keep me");
}

TEST_CASE("storage: a failed sync refuses the write and the ones after it", "[storage][fault]") {
  test::TempDir dir;
  test::FaultEnv env(rocksdb::Env::Default());
  Options o = at(dir.path());
  o.env = &env;
  auto s = Storage::open(o).value();
  Batch good;
  good.put(Column::raft, "a", "1");
  REQUIRE(s->write(good, true));
  env.fail_sync = true;
  Batch bad;
  bad.put(Column::raft, "b", "2");
  auto w = s->write(bad, true);
  REQUIRE_FALSE(w);
  CHECK(w.error().message().find("synced write failed") != std::string::npos);
  env.fail_sync = false;
  Batch after;
  after.put(Column::raft, "c", "3");
  // RocksDB stops accepting writes after a failed WAL sync: nothing more is acknowledged.
  CHECK_FALSE(s->write(after, true));
  s.reset();
  auto reopened = Storage::open(at(dir.path())).value();
  CHECK(reopened->get(Column::raft, "a").value() == std::optional<std::string>("1"));
}

TEST_CASE("storage: a full disk refuses the write", "[storage][fault]") {
  test::TempDir dir;
  test::FaultEnv env(rocksdb::Env::Default());
  Options o = at(dir.path());
  o.env = &env;
  auto s = Storage::open(o).value();
  env.no_space = true;
  Batch b;
  b.put(Column::kv, "k", std::string(4096, 'x'));
  CHECK_FALSE(s->write(b, true));
}

TEST_CASE("storage: flipped bytes give a clear error and the dir is left as it was",
          "[storage][corruption]") {
  test::TempDir dir;
  {
    auto s = Storage::open(at(dir.path())).value();
    for (int i = 0; i < 200; ++i) {
      Batch b;
      b.put(Column::kv, encode_u64(static_cast<uint64_t>(i)), std::string(100, 'v'));
      REQUIRE(s->write(b, false));
    }
    const bool flushed = GENERATE(false, true);
    if (flushed) REQUIRE(s->flush());
  }
  // Flip bytes in the middle of the largest data file (the WAL, or the kv SST after a flush).
  std::filesystem::path victim;
  uintmax_t biggest = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    auto name = e.path().filename().string();
    bool data = name.ends_with(".log") || name.ends_with(".sst");
    if (data && e.file_size() > biggest) {
      biggest = e.file_size();
      victim = e.path();
    }
  }
  REQUIRE(biggest > 1000);
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(biggest / 2));
    f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
  }
  auto before = snapshot_dir(dir.path());
  // The error shows at open or, for an SST block, at the first full read (KvStore::open scans).
  auto s = Storage::open(at(dir.path()));
  std::string message;
  if (!s) {
    message = s.error().message();
  } else {
    auto scanned = (*s)->scan(Column::kv, "", "", [](auto, auto) { return true; });
    REQUIRE_FALSE(scanned);
    message = scanned.error().message();
    s->reset();
  }
  INFO(message);
  CHECK(message.find("is damaged") != std::string::npos);
  CHECK(message.find(dir.path()) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  auto after = snapshot_dir(dir.path());
  CHECK(after.at(victim.filename().string()) == before.at(victim.filename().string()));
}

namespace {
// A store in `dir` holding one acknowledged (synced) key, closed again.
void store_one_key(const std::string& dir) {
  auto s = Storage::open(at(dir)).value();
  Batch b;
  b.put(Column::kv, "key", "acknowledged");
  REQUIRE(s->write(b, true));
}
}  // namespace

TEST_CASE("storage: a WAL destroyed from its first record is refused, not taken for a new store",
          "[storage][corruption]") {
  test::TempDir dir;
  store_one_key(dir.path());
  // Everything is still in the WAL (nothing flushed): overwrite it whole. RocksDB takes what is
  // left for a torn tail and opens empty; the store must not start afresh on it.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".log") {
      std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << std::string(100, '\x5a');
    }
  }
  auto before = snapshot_dir(dir.path());
  auto s = Storage::open(at(dir.path()));
  REQUIRE_FALSE(s);
  const std::string message = s.error().message();
  INFO(message);
  CHECK(s.error().code() == mgmt::Code::data_loss);
  CHECK(message.find(dir.path() + " has no format record") != std::string::npos);
  CHECK(message.find("restore it from a backup") != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(snapshot_dir(dir.path()) == before);
}

TEST_CASE("storage: a missing MANIFEST is reported as damage with the remedy, the dir untouched",
          "[storage][corruption]") {
  test::TempDir dir;
  store_one_key(dir.path());
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().filename().string().starts_with("MANIFEST-")) std::filesystem::remove(e.path());
  }
  auto before = snapshot_dir(dir.path());
  auto s = Storage::open(at(dir.path()));
  REQUIRE_FALSE(s);
  INFO(s.error().message());
  CHECK(s.error().code() == mgmt::Code::data_loss);
  CHECK(s.error().message().find(dir.path() + " is damaged") != std::string::npos);
  CHECK(s.error().message().find("restore it from a backup") != std::string::npos);
  CHECK(snapshot_dir(dir.path()) == before);
}

TEST_CASE("storage: the state's size counts its columns, not the Raft log nor the preallocated "
          "WAL, and compact_all frees what was deleted",
          "[storage]") {
  test::TempDir dir;
  auto s = Storage::open(at(dir.path())).value();
  int64_t on_disk = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    on_disk += static_cast<int64_t>(e.file_size());
  }
  const int64_t empty = s->state_bytes();
  INFO("empty: " << empty << " bytes, files: " << on_disk << " bytes");
  CHECK(empty < 1'000'000);
  CHECK(on_disk > 10'000'000);  // the WAL is preallocated (else this test says nothing)
  uint64_t x = 0x9e3779b97f4a7c15ULL;  // values that do not compress
  auto random_value = [&] {
    std::string value(100'000, '\0');
    for (char& c : value) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x);
    }
    return value;
  };
  for (int i = 0; i < 20; ++i) {
    Batch b;
    b.put(Column::kv, encode_u64(static_cast<uint64_t>(i)), random_value());
    REQUIRE(s->write(b, false));
  }
  CHECK(s->state_bytes() >= empty + 2'000'000);  // in the memtables
  REQUIRE(s->flush());
  const int64_t written = s->state_bytes();
  CHECK(written >= empty + 2'000'000);  // in SST files
  // The Raft log is not the state (etcd's WAL is not its db either).
  for (int i = 0; i < 20; ++i) {
    Batch b;
    b.put(Column::raft, encode_u64(static_cast<uint64_t>(i)), random_value());
    REQUIRE(s->write(b, false));
  }
  REQUIRE(s->flush());
  CHECK(s->state_bytes() < written + 100'000);
  // Deleted, the values still take their files' space until compact_all (etcd's defrag).
  Batch deletes;
  for (int i = 0; i < 20; ++i) deletes.del(Column::kv, encode_u64(static_cast<uint64_t>(i)));
  REQUIRE(s->write(deletes, false));
  REQUIRE(s->flush());
  CHECK(s->state_bytes() >= empty + 2'000'000);
  REQUIRE(s->compact_all());
  CHECK(s->state_bytes() < empty + 100'000);
}

TEST_CASE("storage: a state dump loads into another member, keeping that member's identity",
          "[storage][snapshot]") {
  test::TempDir a_dir, b_dir;
  auto a = Storage::open(at(a_dir.path())).value();
  REQUIRE(a->bind_cluster(9, 1));
  Batch b;
  b.put(Column::kv, "rev1", "kv1");
  b.put(Column::leases, "lease", "l");
  b.put_u64(meta::kAppliedIndex, 77);
  b.put(Column::raft, "not-in-the-dump", "x");
  REQUIRE(a->write(b, true));
  auto dump = a->dump_state().value();

  auto target = Storage::open(at(b_dir.path())).value();
  REQUIRE(target->bind_cluster(9, 2));
  Batch old;
  old.put(Column::kv, "stale", "gone");
  REQUIRE(target->write(old, true));

  SECTION("a damaged dump changes nothing") {
    std::string broken = dump;
    broken[broken.size() / 2] ^= 0x40;
    auto r = target->load_state(broken);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == mgmt::Code::data_loss);
    CHECK(target->get(Column::kv, "stale").value().has_value());
  }
  SECTION("a dump whose record lengths run past its end changes nothing, with a right CRC too") {
    // A key length of 2^32 - 1: the check must not wrap (it threw std::out_of_range before).
    for (uint32_t klen : {0xffffffffu, 0xfffffffdu, 0x7fffffffu}) {
      std::string crafted = "MGMTSTATE1";
      crafted.push_back(1);
      for (int shift = 24; shift >= 0; shift -= 8) {
        crafted.push_back(static_cast<char>((klen >> shift) & 0xff));
      }
      crafted += "key";
      const uint32_t crc = mgmt::store::storage::crc32(crafted);
      for (int shift = 24; shift >= 0; shift -= 8) {
        crafted.push_back(static_cast<char>((crc >> shift) & 0xff));
      }
      auto r = target->load_state(crafted);
      REQUIRE_FALSE(r);
      CHECK(r.error().message().find("truncated key") != std::string::npos);
    }
    CHECK(target->get(Column::kv, "stale").value().has_value());
  }
  SECTION("a good dump replaces the state machine") {
    REQUIRE(target->load_state(dump));
    CHECK_FALSE(target->get(Column::kv, "stale").value().has_value());
    CHECK(target->get(Column::kv, "rev1").value() == std::optional<std::string>("kv1"));
    CHECK(target->get(Column::leases, "lease").value().has_value());
    CHECK(target->get_u64(meta::kAppliedIndex).value() == std::optional<uint64_t>(77));
    CHECK(target->get_u64(meta::kMemberId).value() == std::optional<uint64_t>(2));
    CHECK_FALSE(target->get(Column::raft, "not-in-the-dump").value().has_value());
  }
}

TEST_CASE("storage: a torn last WAL record is dropped and every earlier batch is kept",
          "[storage][crash]") {
  test::TempDir dir;
  constexpr int kBatches = 20;
  {
    auto s = Storage::open(at(dir.path())).value();
    write_synced_batches(*s, kBatches);
  }
  std::filesystem::path wal;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().extension() == ".log" && e.file_size() > 0) wal = e.path();
  }
  REQUIRE_FALSE(wal.empty());
  // A crash in the middle of appending the last record: its tail never reached the disk.
  std::filesystem::resize_file(wal, std::filesystem::file_size(wal) - 50);
  auto s = Storage::open(at(dir.path()));
  if (!s) FAIL(s.error().message());
  auto applied = (*s)->get_u64(meta::kAppliedIndex).value();
  REQUIRE(applied.has_value());
  CHECK(*applied == kBatches - 2);  // the torn batch is gone as a whole
  CHECK((*s)->get(Column::raft, encode_u64(kBatches - 2)).value().has_value());
  CHECK_FALSE((*s)->get(Column::raft, encode_u64(kBatches - 1)).value().has_value());
}

TEST_CASE("storage: a batch whose write fails leaves none of its changes", "[storage][fault]") {
  test::TempDir dir;
  test::FaultEnv env(rocksdb::Env::Default());
  Options o = at(dir.path());
  o.env = &env;
  {
    auto s = Storage::open(o).value();
    Batch first;
    first.put(Column::kv, "k1", "v");
    first.put_u64(meta::kAppliedIndex, 1);
    REQUIRE(s->write(first, true));
    env.no_space = true;
    Batch second;
    second.put(Column::kv, "k2", "v");
    second.put_u64(meta::kAppliedIndex, 2);
    REQUIRE_FALSE(s->write(second, true));
  }
  env.no_space = false;
  auto s = Storage::open(at(dir.path())).value();
  CHECK(s->get_u64(meta::kAppliedIndex).value() == std::optional<uint64_t>(1));
  CHECK_FALSE(s->get(Column::kv, "k2").value().has_value());
}

namespace {

// What a member killed at this moment leaves on disk: the files as the kernel has them.
void copy_as_crashed(const std::string& from, const std::string& to) {
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    if (e.path().filename() == "mgmt.lock" || e.path().filename() == "LOCK") continue;
    std::filesystem::copy_file(e.path(), to + "/" + e.path().filename().string());
  }
}

std::filesystem::path live_wal(const std::string& dir) {
  std::filesystem::path wal;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log" && e.file_size() > 0) wal = e.path();
  }
  return wal;
}

// The offset just past the last non-zero byte (the end of what was written).
uintmax_t written_end(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto last = bytes.find_last_not_of('\0');
  return last == std::string::npos ? 0 : last + 1;
}

}  // namespace

TEST_CASE("storage: the WAL is preallocated, and a crash leaves every synced batch readable",
          "[storage][crash]") {
  test::TempDir dir;
  test::TempDir crashed;
  constexpr int kBatches = 20;
  auto s = Storage::open(at(dir.path())).value();
  write_synced_batches(*s, kBatches);
  const auto wal = live_wal(dir.path());
  REQUIRE_FALSE(wal.empty());
  // Preallocated with its size: a synced append does not change the file's size.
  const uintmax_t end = written_end(wal);
  CHECK(std::filesystem::file_size(wal) > end + 1024 * 1024);
  copy_as_crashed(dir.path(), crashed.path());
  const auto crashed_wal = std::filesystem::path(crashed.path()) / wal.filename();

  const std::string damage = GENERATE("none", "torn", "flipped");
  const bool torn = damage == "torn";
  if (torn) {
    // A power cut while the last record was written: its end never reached the disk, and the
    // preallocated space after it still reads as zeros.
    std::fstream f(crashed_wal, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(end - 50));
    f.write(std::string(50, '\0').data(), 50);
  }
  if (damage == "flipped") {
    // Damage in the middle, with records after it: an error, and the file is left as it was.
    {
      std::fstream f(crashed_wal, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(end / 2));
      f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
    }
    auto before = snapshot_dir(crashed.path());
    auto refused = Storage::open(at(crashed.path()));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("is damaged") != std::string::npos);
    CHECK(snapshot_dir(crashed.path()).at(wal.filename().string()) ==
          before.at(wal.filename().string()));
    return;
  }
  auto reopened = Storage::open(at(crashed.path()));
  if (!reopened) FAIL(reopened.error().message());
  auto applied = (*reopened)->get_u64(meta::kAppliedIndex).value();
  REQUIRE(applied.has_value());
  CHECK(*applied == (torn ? kBatches - 2 : kBatches - 1));
  CHECK((*reopened)->get(Column::raft, encode_u64(kBatches - 2)).value().has_value());
  CHECK((*reopened)->get(Column::raft, encode_u64(kBatches - 1)).value().has_value() == !torn);
}

TEST_CASE("storage: an unsynced batch reaches the disk with the next synced one, or when the "
          "store closes", "[storage][crash]") {
  test::TempDir dir;
  auto s = Storage::open(at(dir.path())).value();
  auto put = [&](const std::string& key, bool sync) {
    Batch b;
    b.put(Column::kv, key, "v");
    REQUIRE(s->write(b, sync));
  };
  auto survives_a_crash = [&](const std::string& key) {
    test::TempDir crashed;
    copy_as_crashed(dir.path(), crashed.path());
    auto reopened = Storage::open(at(crashed.path()));
    if (!reopened) FAIL(reopened.error().message());
    return (*reopened)->get(Column::kv, key).value().has_value();
  };
  // Written unsynced (an apply batch): it waits in the WAL buffer, so a crash loses it, as a
  // power cut would; the Raft log that made it reproduces it.
  put("applied", false);
  CHECK_FALSE(survives_a_crash("applied"));
  // The next synced write (the log's) carries it to the disk with its own.
  put("logged", true);
  CHECK(survives_a_crash("applied"));
  CHECK(survives_a_crash("logged"));
  // A clean close writes what waits.
  put("at-stop", false);
  s.reset();
  auto reopened = Storage::open(at(dir.path())).value();
  CHECK(reopened->get(Column::kv, "at-stop").value().has_value());
}

TEST_CASE("storage: a held state point dumps the state as it was, while writes go on",
          "[storage][snapshot]") {
  test::TempDir dir;
  auto s = Storage::open(at(dir.path())).value();
  Batch before;
  for (int i = 0; i < 3000; ++i) before.put(Column::kv, "key" + std::to_string(i), "old");
  before.put_u64(meta::kAppliedIndex, 10);
  REQUIRE(s->write(before, true));
  const std::string then = s->dump_state().value();
  auto point = s->hold_state();

  Batch after;
  after.put(Column::kv, "key7", "new");
  after.put(Column::kv, "later", "x");
  after.put_u64(meta::kAppliedIndex, 11);
  REQUIRE(s->write(after, false));

  CHECK(s->dump_state(*point).value() == then);
  std::string from_thread;  // as a snapshot's dump runs, on a thread of its own
  std::thread([&] { from_thread = s->dump_state(*point).value(); }).join();
  CHECK(from_thread == then);
  CHECK(s->dump_state().value() != then);

  std::atomic<bool> stop{true};
  auto stopped = s->dump_state(*point, &stop);
  REQUIRE_FALSE(stopped);
  CHECK(stopped.error().code() == mgmt::Code::cancelled);
}
