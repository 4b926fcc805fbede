// mutator.h: seeded, bounded input mutation for the parser fuzz tests: each call returns the seed
// text with a few random insertions, deletions and replacements from an alphabet of the
// characters that matter to the parser under test. Deterministic for a given seed value.
#pragma once

#include <cstdint>
#include <string>

namespace mgmt::test {

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : state_(seed | 1) {}

  std::string mutate(const std::string& text, const std::string& alphabet, int max_edits) {
    std::string out = text;
    int edits = 1 + static_cast<int>(next() % static_cast<uint64_t>(max_edits));
    for (int e = 0; e < edits; ++e) {
      std::size_t at = next() % (out.size() + 1);
      char c = alphabet[next() % alphabet.size()];
      switch (next() % 3) {
        case 0: out.insert(out.begin() + static_cast<long>(at), c); break;
        case 1: if (at < out.size()) out.erase(at, 1); break;
        default: if (at < out.size()) out[at] = c; break;
      }
    }
    return out;
  }

 private:
  uint64_t next() {  // xorshift64
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  uint64_t state_;
};

}  // namespace mgmt::test
