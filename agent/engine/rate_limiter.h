// rate_limiter.h: a token bucket (the reference's Meta limit/burst, after golang.org/x/time/rate):
// `burst` tokens at most, refilled at `limit` per second; each check_apply run takes one.
// An infinite limit never delays. Thread-safety: none (the engine's mutex guards it).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>

namespace mgmt::agent::engine {

class RateLimiter {
 public:
  using clock = std::chrono::steady_clock;

  RateLimiter(double limit, double burst)
      : limit_(limit), burst_(burst), tokens_(burst), last_(clock::now()) {}

  // How long until a token is available (zero: now).
  clock::duration wait(clock::time_point now) {
    if (std::isinf(limit_)) return clock::duration::zero();
    refill(now);
    if (tokens_ >= 1) return clock::duration::zero();
    const double seconds = (1 - tokens_) / limit_;
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds)) +
           std::chrono::microseconds(1);
  }

  // Takes a token; call only when wait() returned zero.
  void take(clock::time_point now) {
    if (std::isinf(limit_)) return;
    refill(now);
    tokens_ -= 1;
  }

 private:
  void refill(clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * limit_);
    last_ = now;
  }

  double limit_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace mgmt::agent::engine
