// reply_thread_test.cpp: the replies a Raft round hands over are sent in the order handed over,
// none is lost when the member stops (stop() sends them first), and one handed over after the
// stop is sent at once by the caller.
#include "store/server/reply_thread.h"

#include <catch2/catch.hpp>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

using mgmt::store::server::ReplyThread;

TEST_CASE("reply thread: batches run in the order posted, off the poster's thread",
          "[reply_thread]") {
  ReplyThread replies;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::mutex mutex;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  // The first batch blocks until every other one is queued behind it.
  replies.post([&] {
    released.wait();
    std::lock_guard lock(mutex);
    order.push_back(0);
    threads.push_back(std::this_thread::get_id());
  });
  for (int i = 1; i <= 50; ++i) {
    replies.post([&, i] {
      std::lock_guard lock(mutex);
      order.push_back(i);
      threads.push_back(std::this_thread::get_id());
    });
  }
  std::promise<void> last;
  replies.post([&] { last.set_value(); });
  release.set_value();
  last.get_future().wait();
  std::lock_guard lock(mutex);
  REQUIRE(order.size() == 51);
  for (int i = 0; i <= 50; ++i) CHECK(order[i] == i);
  for (auto id : threads) CHECK(id != std::this_thread::get_id());
}

TEST_CASE("reply thread: stop sends every reply posted before it, later ones run inline",
          "[reply_thread]") {
  ReplyThread replies;
  std::promise<void> release;
  auto released = release.get_future().share();
  int sent = 0;  // touched by the reply thread until stop() joins it
  replies.post([&] {
    released.wait();
    ++sent;
  });
  for (int i = 0; i < 20; ++i) replies.post([&] { ++sent; });
  std::thread stopper([&] { replies.stop(); });
  release.set_value();
  stopper.join();
  CHECK(sent == 21);

  std::thread::id ran_on;
  replies.post([&] { ran_on = std::this_thread::get_id(); });
  CHECK(ran_on == std::this_thread::get_id());
  replies.stop();  // again: harmless
}
