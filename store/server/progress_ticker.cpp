// progress_ticker.cpp: see progress_ticker.h.
#include "store/server/progress_ticker.h"

#include "common/thread_name.h"

#include <algorithm>

namespace mgmt::store::server {

ProgressTicker::ProgressTicker(std::chrono::milliseconds interval)
    : interval_(std::max(interval, std::chrono::milliseconds(1))),
      thread_([this] { loop(); }) {}

ProgressTicker::~ProgressTicker() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

ProgressTicker::JobId ProgressTicker::add(std::function<void()> job) {
  std::lock_guard lock(mutex_);
  const int64_t tenth = std::max<int64_t>(1, interval_.count() * 1000 / 10);  // microseconds
  const auto jitter =
      std::chrono::microseconds(std::uniform_int_distribution<int64_t>(0, tenth - 1)(random_));
  const Clock::duration period = interval_ + jitter;
  const JobId id = next_id_++;
  jobs_.emplace(id, Job{std::move(job), period, Clock::now() + period});
  wake_.notify_all();  // it may be due before the one the thread waits for
  return id;
}

void ProgressTicker::remove(JobId id) {
  std::unique_lock lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  it->second.removed = true;  // not started again, even if due while its run ends
  wake_.wait(lock, [&] { return running_ != id; });
  jobs_.erase(id);
}

void ProgressTicker::loop() {
  name_this_thread("watch-progress");
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    auto next = jobs_.end();
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if (it->second.removed) continue;
      if (next == jobs_.end() || it->second.due < next->second.due) next = it;
    }
    if (next == jobs_.end()) {
      wake_.wait(lock);
      continue;
    }
    const Clock::time_point now = Clock::now();
    if (next->second.due > now) {
      wake_.wait_until(lock, next->second.due);
      continue;  // woken early (a job added or removed, a stop): look again
    }
    Job& job = next->second;
    job.due += job.period;
    if (job.due <= now) job.due = now + job.period;  // late: once, not once per missed period
    running_ = next->first;
    lock.unlock();
    job.run();  // remove() waits for running_: the job stays in the map while it runs
    lock.lock();
    running_ = 0;
    wake_.notify_all();
  }
}

}  // namespace mgmt::store::server
