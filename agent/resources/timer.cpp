// timer.cpp: the timer resource: fires every `interval` seconds. A firing makes it "out of
// state" once, so resources it notifies get a refresh (the reference's use: periodic work).
#include "agent/resources/kinds.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace mgmt::agent::resources {
namespace {

class TimerWatch final : public Watch {
 public:
  TimerWatch(std::chrono::seconds interval, std::function<void()> fire) {
    thread_ = std::thread([this, interval, fire = std::move(fire)] {
      std::unique_lock lock(mutex_);
      while (!wake_.wait_for(lock, interval, [this] { return stop_; })) {
        lock.unlock();
        fire();
        lock.lock();
      }
    });
  }
  ~TimerWatch() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;  // guards stop_
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

class Timer final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    interval_ = spec.params.value("interval", int64_t{0});
    if (interval_ <= 0) {
      return fail(Code::invalid_argument,
                  "timer[" + spec.name + "]: field \"interval\" must be a positive number of "
                                         "seconds");
    }
    return ok();
  }
  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    return std::make_unique<TimerWatch>(std::chrono::seconds(interval_), [this, on_event] {
      fired_ = true;
      on_event();
    });
  }
  Result<bool> check_apply(bool apply) override {
    if (!fired_) return true;
    if (apply) fired_ = false;
    return false;
  }

 private:
  int64_t interval_ = 0;
  std::atomic<bool> fired_{false};
};

}  // namespace

std::unique_ptr<Resource> make_timer() { return std::make_unique<Timer>(); }

}  // namespace mgmt::agent::resources
