// progress_ticker_test.cpp: the clock of the periodic watch progress notifications: each job
// runs every interval (never sooner), and a stream that ends (remove) is never ticked again,
// nor while removing it, even when the tick was running.
#include "store/server/progress_ticker.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using mgmt::store::server::ProgressTicker;
using namespace std::chrono_literals;

namespace {

// Counts a job's runs, and lets the test wait for a count.
struct Runs {
  std::mutex mutex;
  std::condition_variable changed;
  int count = 0;
  std::chrono::steady_clock::time_point last;

  void one() {
    std::lock_guard lock(mutex);
    ++count;
    last = std::chrono::steady_clock::now();
    changed.notify_all();
  }
  bool wait_for(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return count >= n; });
  }
};

}  // namespace

TEST_CASE("progress ticker: a job runs every interval, never sooner, until removed",
          "[unit]") {
  ProgressTicker ticker(50ms);
  Runs a;
  Runs b;
  const auto added = std::chrono::steady_clock::now();
  const auto id_a = ticker.add([&] { a.one(); });
  const auto id_b = ticker.add([&] { b.one(); });
  REQUIRE(a.wait_for(3, 10s));
  REQUIRE(b.wait_for(3, 10s));
  // Three periods of at least the interval each.
  CHECK(a.last - added >= 150ms);
  CHECK(b.last - added >= 150ms);

  ticker.remove(id_a);
  int a_after_remove = 0;
  {
    std::lock_guard lock(a.mutex);
    a_after_remove = a.count;
  }
  // b goes on ticking; a, removed, did not run in b's next three periods.
  int b_now = 0;
  {
    std::lock_guard lock(b.mutex);
    b_now = b.count;
  }
  REQUIRE(b.wait_for(b_now + 3, 10s));
  std::lock_guard lock(a.mutex);
  CHECK(a.count == a_after_remove);
  ticker.remove(id_b);
}

TEST_CASE("progress ticker: remove waits for the job's run under way, and it never runs again",
          "[unit]") {
  ProgressTicker ticker(20ms);
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
  bool release = false;
  int runs = 0;
  const auto id = ticker.add([&] {
    std::unique_lock lock(mutex);
    ++runs;
    entered = true;
    changed.notify_all();
    changed.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 10s, [&] { return entered; }));
  }
  std::atomic<bool> removed{false};
  std::thread remover([&] {
    ticker.remove(id);
    removed = true;
  });
  {
    // The run is held: remove must still be waiting for it.
    std::unique_lock lock(mutex);
    CHECK_FALSE(changed.wait_for(lock, 300ms, [&] { return removed.load(); }));
    release = true;
    changed.notify_all();
  }
  remover.join();
  CHECK(removed);
  // Another job, added after, ticks several times; the removed one did not run again.
  Runs other;
  const auto other_id = ticker.add([&] { other.one(); });
  REQUIRE(other.wait_for(3, 10s));
  ticker.remove(other_id);
  std::lock_guard lock(mutex);
  CHECK(runs == 1);
}
