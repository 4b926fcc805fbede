// stop_signal.h: why and when the agent stops. One object the daemon waits on; SIGINT/SIGTERM
// (through a signal thread), the converged timeout and --max-runtime all end the wait with a
// reason. The first reason wins; later ones are ignored.
// Thread-safety: request_stop() may be called from any thread; wait() from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace mgmt::agent::run {

class StopSignal {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread (and so in every thread started after it)
  // and starts a thread that turns them into stop requests. Call before starting any thread.
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  void request_stop(const std::string& reason);
  bool stop_requested();

  // Waits until a stop is requested, or until `deadline` passes (then the reason is
  // "--max-runtime reached"). Returns the reason.
  std::string wait(std::optional<std::chrono::steady_clock::time_point> deadline);
  // Waits up to `pause` for a stop request (a pause between tries); true if one came. Unlike
  // wait(), the pause running out requests nothing.
  bool stop_within(std::chrono::milliseconds pause);

 private:
  std::mutex mutex_;  // guards reason_
  std::condition_variable changed_;
  std::optional<std::string> reason_;
  std::thread signal_thread_;
};

}  // namespace mgmt::agent::run
