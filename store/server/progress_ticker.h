// progress_ticker.h: the clock behind etcd's periodic watch progress notifications. Each Watch
// stream adds one job when it opens; the job runs every `interval` plus a jitter of up to a
// tenth of it, drawn once per job (as etcd's per-stream ticker: streams opened together, as
// when a client restarts, do not all tick together), first one period after it was added.
// One thread runs every job of the member, so a stream still costs no thread of its own.
// Invariants: jobs run one at a time, on the ticker's thread; after remove(id) returns, job id
// is not running and never runs again. A job that runs late (the thread was busy or the host
// slept) runs once, not once per period missed.
// Thread-safety: add and remove from any thread except the ticker's own (a job must not remove
// itself or another: remove waits for the running job).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace mgmt::store::server {

class ProgressTicker {
 public:
  // etcd's --experimental-watch-progress-notify-interval default.
  static constexpr std::chrono::milliseconds kDefaultInterval{10 * 60 * 1000};

  explicit ProgressTicker(std::chrono::milliseconds interval);
  ~ProgressTicker();  // stops the thread; jobs still added never run again
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;

  using JobId = uint64_t;
  JobId add(std::function<void()> job);
  void remove(JobId id);
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::function<void()> run;
    Clock::duration period;
    Clock::time_point due;
    bool removed = false;  // remove() waits for its run to end
  };
  void loop();

  const std::chrono::milliseconds interval_;
  std::mutex mutex_;  // guards what follows
  std::condition_variable wake_;
  std::map<JobId, Job> jobs_;
  JobId next_id_ = 1;
  JobId running_ = 0;  // the job running now (0: none)
  bool stopped_ = false;
  std::mt19937_64 random_{std::random_device{}()};
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace mgmt::store::server
