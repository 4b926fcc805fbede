// timer_queue.h: one thread that runs callbacks at given times (retry delays, polling,
// the converged timeout). Callbacks run on the timer's thread and must be quick.
// Thread-safety: at() from any thread; the destructor drops pending callbacks and joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace mgmt::agent::engine {

class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;
  TimerQueue();
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  void at(Clock::time_point when, std::function<void()> callback);
  void after(std::chrono::milliseconds delay, std::function<void()> callback) {
    at(Clock::now() + delay, std::move(callback));
  }

 private:
  std::mutex mutex_;  // guards timers_, stopping_
  std::condition_variable wake_;
  std::multimap<Clock::time_point, std::function<void()>> timers_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mgmt::agent::engine
