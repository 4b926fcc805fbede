// stop_signal.cpp: signals to stop requests; see stop_signal.h.
#include "agent/run/stop_signal.h"

#include <pthread.h>
#include <signal.h>

namespace mgmt::agent::run {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);  // our own: wakes the signal thread when the agent stops
  return set;
}

}  // namespace

StopSignal::StopSignal() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal_thread_ = std::thread([this] {
    sigset_t wait_set = stop_signals();
    for (;;) {
      int signal_number = 0;
      if (sigwait(&wait_set, &signal_number) != 0) continue;
      if (signal_number == SIGUSR2) return;
      request_stop(signal_number == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    }
  });
}

StopSignal::~StopSignal() {
  pthread_kill(signal_thread_.native_handle(), SIGUSR2);
  signal_thread_.join();
}

void StopSignal::request_stop(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (reason_) return;
    reason_ = reason;
  }
  changed_.notify_all();
}

std::string StopSignal::wait(std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (deadline) {
    if (!changed_.wait_until(lock, *deadline, [this] { return reason_.has_value(); })) {
      reason_ = "--max-runtime reached";
    }
  } else {
    changed_.wait(lock, [this] { return reason_.has_value(); });
  }
  return *reason_;
}

bool StopSignal::stop_within(std::chrono::milliseconds pause) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, pause, [this] { return reason_.has_value(); });
}

bool StopSignal::stop_requested() {
  std::lock_guard lock(mutex_);
  return reason_.has_value();
}

}  // namespace mgmt::agent::run
