// timer_queue.cpp: see timer_queue.h.
#include "agent/engine/timer_queue.h"

namespace mgmt::agent::engine {

TimerQueue::TimerQueue() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (timers_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto first = timers_.begin();
      if (first->first > Clock::now()) {
        wake_.wait_until(lock, first->first);
        continue;
      }
      auto callback = std::move(first->second);
      timers_.erase(first);
      lock.unlock();
      callback();
      lock.lock();
    }
  });
}

TimerQueue::~TimerQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    timers_.clear();
  }
  wake_.notify_all();
  thread_.join();
}

void TimerQueue::at(Clock::time_point when, std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    timers_.emplace(when, std::move(callback));
  }
  wake_.notify_all();
}

}  // namespace mgmt::agent::engine
