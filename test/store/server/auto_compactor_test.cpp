// auto_compactor_test.cpp: etcd's automatic compaction flags as parsed, and the compactor's
// choice: only a leader compacts, periodic mode to the revision of at least one period ago.
#include "store/server/auto_compactor.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

using mgmt::store::server::AutoCompaction;
using mgmt::store::server::AutoCompactor;
using mgmt::store::server::parse_auto_compaction;
using namespace std::chrono_literals;

TEST_CASE("auto compaction: etcd's retention forms are understood, and bad ones named",
          "[compaction]") {
  auto period = [](const std::string& retention) {
    auto r = parse_auto_compaction("periodic", retention);
    REQUIRE(r);
    return r->period;
  };
  CHECK(period("0") == 0ms);
  CHECK_FALSE(parse_auto_compaction("periodic", "0")->enabled());
  CHECK(period("1") == 1h);  // a bare number is hours, as etcd's
  CHECK(period("30m") == 30min);
  CHECK(period("1h30m") == 90min);
  CHECK(period("10s") == 10s);
  auto revisions = parse_auto_compaction("revision", "1000");
  REQUIRE(revisions);
  CHECK(revisions->revisions == 1000);
  CHECK(revisions->enabled());

  auto bad = parse_auto_compaction("periodic", "1 hour");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "--auto-compaction-retention \"1 hour\" is not a number of hours or a duration (like "
        "30m or 1h); 0 turns automatic compaction off");
  CHECK_FALSE(parse_auto_compaction("revision", "1h"));
  auto mode = parse_auto_compaction("weekly", "1");
  REQUIRE_FALSE(mode);
  CHECK(mode.error().message() == "--auto-compaction-mode \"weekly\" is neither periodic nor "
                                  "revision");
}

TEST_CASE("auto compaction: a leader compacts to the revision of at least one period ago, and a "
          "follower never does",
          "[compaction]") {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::chrono::steady_clock::time_point, int64_t>> sampled;
  std::vector<std::pair<std::chrono::steady_clock::time_point, int64_t>> compacted;
  std::atomic<bool> leader{false};
  std::atomic<int64_t> revision{10};
  AutoCompactor::Hooks hooks;
  hooks.revision = [&] {
    const int64_t r = revision.fetch_add(5);
    std::lock_guard lock(mutex);
    sampled.emplace_back(std::chrono::steady_clock::now(), r);
    changed.notify_all();
    return r;
  };
  hooks.leader = [&] { return leader.load(); };
  hooks.compact = [&](int64_t target) -> mgmt::Result<void> {
    std::lock_guard lock(mutex);
    compacted.emplace_back(std::chrono::steady_clock::now(), target);
    changed.notify_all();
    return mgmt::ok();
  };
  AutoCompaction settings;
  settings.period = 1000ms;  // sampled every 100 ms
  AutoCompactor compactor(settings, hooks);
  compactor.start();
  {
    // Two periods as a follower: samples, no compaction.
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 20s, [&] {
      return sampled.size() >= 2 && sampled.back().first - sampled.front().first >= 2000ms;
    }));
    CHECK(compacted.empty());
  }
  leader = true;
  {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 20s, [&] { return !compacted.empty(); }));
    const auto [at, target] = compacted.front();
    // The target was sampled at least a period before the compaction, and is the newest such.
    bool found = false;
    for (std::size_t i = 0; i < sampled.size(); ++i) {
      if (sampled[i].second != target) continue;
      found = true;
      CHECK(at - sampled[i].first >= 990ms);  // (clocks read a few µs apart)
      if (i + 1 < sampled.size() && sampled[i + 1].first < at) {
        CHECK(at - sampled[i + 1].first < 1010ms);
      }
    }
    CHECK(found);
  }
  compactor.stop();
}
