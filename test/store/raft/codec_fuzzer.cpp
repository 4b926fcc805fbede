// codec_fuzzer.cpp: a libFuzzer target for the bytes a member takes from outside: peer messages
// off the network and, from its disk, entries, hard states, conf states and conf changes
// (store/raft/codec.h). The first byte picks the decoder; the rest is its input. Each decoder
// must refuse bytes it cannot read (never crash, never allocate what the input only claims),
// and what it accepts must encode and decode again to the same value, so that a member sends
// on or stores again exactly what it read. The unit test (codec_test.cpp) mutates valid
// encodings; this explores further.
// Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh.
#include "store/raft/codec.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

namespace codec = mgmt::store::raft::codec;

template <typename Decode>
void round_trip(std::string_view bytes, Decode decode) {
  auto first = decode(bytes);
  if (!first) {
    if (first.error().message().empty()) {
      std::fprintf(stderr, "codec_fuzzer: a refusal without a reason\n");
      std::abort();
    }
    return;
  }
  auto again = decode(codec::encode(*first));
  if (!again || !(*again == *first)) {
    std::fprintf(stderr, "codec_fuzzer: a decoded value does not survive encoding again\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: round_trip(bytes, codec::decode_message); break;
    case 1: round_trip(bytes, codec::decode_entry); break;
    case 2: round_trip(bytes, codec::decode_hard_state); break;
    case 3: round_trip(bytes, codec::decode_conf_state); break;
    case 4: round_trip(bytes, codec::decode_conf_change); break;
  }
  return 0;
}
