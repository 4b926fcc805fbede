// thread_pool.h: a fixed number of worker threads running posted tasks in order of posting.
// The engine runs check_apply here, so blocking work never runs on a watcher's thread and at
// most `size` resources are being checked at once.
// Thread-safety: post() from any thread; the destructor finishes queued tasks, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mgmt::agent::engine {

class ThreadPool {
 public:
  explicit ThreadPool(std::size_t size);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void post(std::function<void()> task);

 private:
  std::mutex mutex_;  // guards tasks_, stopping_
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace mgmt::agent::engine
