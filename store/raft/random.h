// random.h: the core's only source of randomness, a seeded SplitMix64 generator. Output depends
// on the seed alone (no std distributions, whose results differ between standard libraries), so
// a seed replays identically on any toolchain.
#pragma once

#include <cstdint>

namespace mgmt::store::raft {

class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n) for n > 0, by rejection (no modulo bias).
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x = next();
    while (x >= limit) x = next();
    return x % n;
  }

  // True with probability per_million / 1'000'000.
  bool chance(uint64_t per_million) { return below(1'000'000) < per_million; }

 private:
  uint64_t state_;
};

}  // namespace mgmt::store::raft
