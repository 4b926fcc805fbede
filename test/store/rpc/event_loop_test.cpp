// event_loop_test.cpp: the I/O thread's batches (store/rpc/event_loop.h). What a job the loop
// posted to itself asks soon() runs when that job ends, in the order asked, with what those ask
// in turn, ahead of jobs queued before (so an answer and its flush take no extra trip through
// the loop's queue, which polls the sockets each time); soon() from another thread is post().
// Every wait is a future with a timeout; jobs only record, the test thread checks.
#include "store/rpc/event_loop.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

using mgmt::rpc::EventLoop;

namespace {

constexpr auto kWait = std::chrono::seconds(10);

// Runs `job` on the loop's thread, as a job the loop posted to itself, and waits for the loop
// to have run everything queued behind it.
void run_on_loop(EventLoop& loop, std::function<void(std::vector<std::string>&)> job,
                 std::vector<std::string>& order) {
  std::promise<void> done;
  loop.post([&] {
    loop.post([&, job] {
      job(order);
      // Queued behind everything the job queued: it runs last.
      loop.post([&] { done.set_value(); });
    });
  });
  REQUIRE(done.get_future().wait_for(kWait) == std::future_status::ready);
}

}  // namespace

TEST_CASE("event loop: what a batch asks soon() runs when it ends, in order, before older jobs",
          "[event_loop]") {
  EventLoop loop;
  loop.start();
  std::vector<std::string> order;
  run_on_loop(
      loop,
      [&loop](std::vector<std::string>& seen) {
        loop.post([&seen] { seen.push_back("posted"); });
        loop.soon([&seen, &loop] {
          seen.push_back("answer");
          loop.soon([&seen] { seen.push_back("flush"); });
        });
        loop.soon([&seen] { seen.push_back("second answer"); });
        seen.push_back("job");
      },
      order);
  // The job ends first; its soon() jobs follow in order, then what they asked (the flush),
  // all before the job it had posted to the queue.
  CHECK(order == std::vector<std::string>{"job", "answer", "second answer", "flush", "posted"});
  loop.stop();
}

TEST_CASE("event loop: soon() from another thread runs on the loop, after what was posted before",
          "[event_loop]") {
  EventLoop loop;
  loop.start();
  std::vector<std::string> order;
  std::thread::id ran_on;
  std::promise<void> done;
  std::promise<void> gate;
  auto open = gate.get_future().share();
  // The loop waits on the gate, so both jobs below queue before either runs.
  loop.post([open] { open.wait_for(kWait); });
  loop.post([&] { order.push_back("posted"); });
  loop.soon([&] {
    order.push_back("soon");
    ran_on = std::this_thread::get_id();
    done.set_value();
  });
  gate.set_value();
  REQUIRE(done.get_future().wait_for(kWait) == std::future_status::ready);
  CHECK(order == std::vector<std::string>{"posted", "soon"});
  CHECK(ran_on != std::this_thread::get_id());
  loop.stop();
}
