// raft_log_store_test.cpp: the snapshots the Raft log store makes for followers far behind. A
// state that takes long to dump is dumped on a thread of its own while the core hears "not ready
// yet" (so the thread that runs Raft, which also serves the ports, is not held up); each
// snapshot is dumped at the index applied when it is asked for, and one whose index left the log
// meanwhile is made anew; a failed dump is tried again; a finished dump nobody asks for is let
// go; stopping the store stops a dump in progress. Real RocksDB in a temp dir.
#include "store/server/raft_log_store.h"
#include "test/store/mvcc/temp_store.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using namespace mgmt;
using namespace mgmt::store;
using namespace mgmt::store::server;
using namespace std::chrono_literals;

namespace {

// Lets a test hold the dumps until it releases them, and counts them.
struct DumpGate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  bool failing = false;
  int started = 0;
  bool saw_stop = false;

  void release() {
    std::lock_guard lock(mutex);
    open = true;
    cv.notify_all();
  }
  Result<std::string> dump(uint64_t index, const std::atomic<bool>& stop) {
    std::unique_lock lock(mutex);
    ++started;
    // Bounded: a test that never opens the gate fails here after 10 s instead of hanging.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!open && !stop && std::chrono::steady_clock::now() < deadline) {
      cv.wait_for(lock, 10ms);
    }
    if (stop) {
      saw_stop = true;
      return fail(Code::cancelled, "stopped");
    }
    if (failing) return fail(Code::internal, "the disk said no");
    return "state@" + std::to_string(index);
  }
};

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<storage::Storage> storage = test::open_storage(dir.path());
  DumpGate gate;
  std::atomic<uint64_t> applied{1};
  std::unique_ptr<RaftLogStore> log;

  // The dumps let go unclaimed, by index.
  std::mutex let_go_mutex;
  std::condition_variable let_go_cv;
  std::vector<uint64_t> let_go;

  explicit Fixture(std::chrono::milliseconds dump_wait,
                   std::chrono::milliseconds keep_unclaimed = 30s) {
    RaftLogStore::Hooks hooks;
    hooks.hold = [this] {
      const uint64_t index = applied;
      return RaftLogStore::HeldState{
          index, [this, index](const std::atomic<bool>& stop) { return gate.dump(index, stop); }};
    };
    hooks.conf_state = [] {
      raft::ConfState cs;
      cs.voters.insert(1);
      return cs;
    };
    hooks.install = [](const raft::Snapshot&) { return ok(); };
    hooks.dump_wait = dump_wait;
    hooks.keep_unclaimed = keep_unclaimed;
    hooks.let_go = [this](uint64_t index) {
      std::lock_guard lock(let_go_mutex);
      let_go.push_back(index);
      let_go_cv.notify_all();
    };
    log = RaftLogStore::open(*storage, std::move(hooks)).value();
    REQUIRE(log->bootstrap(raft::Entry{1, 1, raft::EntryType::normal, "first"}));
  }

  void append(uint64_t from, uint64_t to) {
    std::vector<raft::Entry> entries;
    for (uint64_t i = from; i <= to; ++i) entries.push_back(raft::Entry{1, i, {}, "e"});
    REQUIRE(log->save(std::nullopt, entries, raft::HardState{1, 1, to}));
  }

  int dumps_started() {
    std::lock_guard lock(gate.mutex);
    return gate.started;
  }

  // Asks as the core does on each heartbeat while the dump runs (each ask waits up to dump_wait
  // for it to finish), for at most 10 s: the snapshot, or why there is none.
  Result<raft::Snapshot> ask_until_dumped() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    auto s = log->snapshot();
    while (!s && s.error().message().find("is still being dumped") != std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      s = log->snapshot();
    }
    return s;
  }
};

// A snapshot of the state as it was applied at `index`.
void check_dumped_at(const Result<raft::Snapshot>& s, uint64_t index) {
  REQUIRE(s);
  CHECK(s->data == "state@" + std::to_string(index));
  CHECK(s->meta.index == index);
}

}  // namespace

TEST_CASE("raft log store: a slow dump answers not ready, goes on aside, then is served",
          "[raft_log_store]") {
  Fixture f(20ms);
  auto first = f.log->snapshot();
  REQUIRE_FALSE(first);
  CHECK(first.error().code() == Code::unavailable);
  CHECK(first.error().message() == "snapshot: the state at index 1 is still being dumped");
  // Asking again does not start a second dump of the same state.
  CHECK_FALSE(f.log->snapshot());
  {
    std::lock_guard lock(f.gate.mutex);
    CHECK(f.gate.started == 1);
  }
  f.gate.release();
  auto s = f.ask_until_dumped();
  REQUIRE(s);
  CHECK(s->meta.index == 1);
  CHECK(s->meta.term == 1);
  CHECK(s->meta.conf_state.voters.count(1) == 1);
  CHECK(s->data == "state@1");
}

TEST_CASE("raft log store: each snapshot is dumped at the index applied when it is asked for",
          "[raft_log_store]") {
  Fixture f(5s);
  f.gate.release();
  f.append(2, 10);
  f.applied = 4;
  auto a = f.log->snapshot();  // the dump is fast: answered in the same call
  REQUIRE(a);
  CHECK(a->data == "state@4");
  CHECK(a->meta.index == 4);
  f.applied = 9;
  // The next follower's: made anew, nothing kept in between.
  check_dumped_at(f.log->snapshot(), 9);
  CHECK(f.dumps_started() == 2);
}

TEST_CASE("raft log store: a dump whose index left the log meanwhile is made anew",
          "[raft_log_store]") {
  Fixture f(1ms);
  f.append(2, 10);
  f.applied = 4;
  REQUIRE_FALSE(f.log->snapshot());  // dumping index 4, held at the gate
  REQUIRE(f.log->compact(6, raft::ConfState{}, ""));  // entry 4 leaves the log
  f.gate.release();
  auto stale = f.ask_until_dumped();
  REQUIRE_FALSE(stale);
  CHECK(stale.error().message() == "snapshot: the dumped index left the log");
  f.applied = 9;
  auto fresh = f.ask_until_dumped();
  REQUIRE(fresh);
  CHECK(fresh->data == "state@9");
}

TEST_CASE("raft log store: a failed dump is reported as not ready and tried again",
          "[raft_log_store]") {
  Fixture f(5s);
  {
    std::lock_guard lock(f.gate.mutex);
    f.gate.failing = true;
  }
  f.gate.release();
  auto a = f.log->snapshot();
  REQUIRE_FALSE(a);
  CHECK(a.error().code() == Code::unavailable);
  CHECK(a.error().message().find("the disk said no") != std::string::npos);
  {
    std::lock_guard lock(f.gate.mutex);
    f.gate.failing = false;
  }
  auto b = f.log->snapshot();
  REQUIRE(b);
  CHECK(b->data == "state@1");
  std::lock_guard lock(f.gate.mutex);
  CHECK(f.gate.started == 2);
}

TEST_CASE("raft log store: closing the store stops a dump in progress", "[raft_log_store]") {
  Fixture f(1ms);
  REQUIRE_FALSE(f.log->snapshot());
  const auto started = std::chrono::steady_clock::now();
  f.log.reset();  // joins the dump's thread, which must see the stop
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  std::lock_guard lock(f.gate.mutex);
  CHECK(f.gate.saw_stop);
}

TEST_CASE("raft log store: a finished dump nobody asks for is let go, and the next ask dumps anew",
          "[raft_log_store]") {
  Fixture f(1ms, 50ms);
  f.append(2, 10);
  f.applied = 4;
  REQUIRE_FALSE(f.log->snapshot());  // dumping index 4, held at the gate
  f.gate.release();                  // it finishes; nobody asks for it
  {
    std::unique_lock lock(f.let_go_mutex);
    REQUIRE(f.let_go_cv.wait_for(lock, 10s, [&f] { return !f.let_go.empty(); }));
    CHECK(f.let_go == std::vector<uint64_t>{4});
  }
  f.applied = 9;
  check_dumped_at(f.ask_until_dumped(), 9);
  CHECK(f.dumps_started() == 2);
}

TEST_CASE("raft log store: a dump asked for in time is served and not let go",
          "[raft_log_store]") {
  Fixture f(1ms, 30s);
  REQUIRE_FALSE(f.log->snapshot());
  f.gate.release();
  const auto asked = std::chrono::steady_clock::now();
  auto s = f.ask_until_dumped();
  REQUIRE(s);
  CHECK(s->data == "state@1");
  // Claiming it ended the dump's thread at once, not after keep_unclaimed.
  CHECK(std::chrono::steady_clock::now() - asked < 10s);
  std::lock_guard lock(f.let_go_mutex);
  CHECK(f.let_go.empty());
}
