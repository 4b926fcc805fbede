// grpc_wire_fuzzer.cpp: a libFuzzer target for the gRPC framing a client's bytes go through first
// (store/rpc/grpc_wire.h): MessageDecoder, fed a request body whole and in pieces cut where the
// input says, yields the same messages and the same error either way; what it yields is exactly
// the framed prefix of what it was fed (never more bytes, no message over the limit); and
// percent_decode(percent_encode(x)) == x, the encoding being printable ASCII without a bare '%'.
// Input: two bytes of message limit, four bytes of seed for the cuts, then the body (which is
// also the text for the percent-encoding). A broken rule aborts, naming it, so that libFuzzer
// keeps the input. Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh.
#include "store/rpc/grpc_wire.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool ok, const char* rule) {
  if (ok) return;
  std::fprintf(stderr, "grpc_wire_fuzzer: broken: %s\n", rule);
  std::abort();
}

struct Decoded {
  std::vector<std::string> messages;
  bool failed = false;
  int code = 0;
  std::string error;
  bool partial = false;
};

// Feeds `body` in pieces whose lengths come from `seed` (mostly a few bytes, so that the cuts
// fall inside the prefixes; sometimes none; sometimes kilobytes); seed 0 feeds it whole.
Decoded decode(std::size_t max_bytes, std::string_view body, uint32_t seed) {
  mgmt::rpc::MessageDecoder decoder(max_bytes);
  Decoded out;
  if (seed == 0) {
    decoder.feed(body, out.messages);
  } else {
    uint32_t x = seed;
    std::size_t at = 0;
    while (at < body.size()) {
      x = x * 1664525u + 1013904223u;
      const uint32_t pick = x >> 16;
      const uint32_t kind = pick & 3;
      std::size_t n = kind == 0 ? 0 : kind == 3 ? (pick >> 2) % 4096 : (pick >> 2) % 8;
      n = std::min(n, body.size() - at);
      decoder.feed(body.substr(at, n), out.messages);
      at += n;
    }
    decoder.feed(std::string_view(), out.messages);
  }
  out.failed = decoder.failed();
  out.code = decoder.error_code();
  out.error = decoder.error();
  out.partial = decoder.partial();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  const std::size_t max_bytes = (std::size_t{data[0]} << 8) | data[1];
  const uint32_t seed = (uint32_t{data[2]} << 24) | (uint32_t{data[3]} << 16) |
                        (uint32_t{data[4]} << 8) | data[5];
  const std::string_view body(reinterpret_cast<const char*>(data) + 6, size - 6);

  const Decoded whole = decode(max_bytes, body, 0);
  const Decoded cut = decode(max_bytes, body, seed | 1);
  check(whole.messages == cut.messages, "the same messages, whole or in pieces");
  check(whole.failed == cut.failed && whole.code == cut.code && whole.error == cut.error,
        "the same error, whole or in pieces");
  check(whole.partial == cut.partial, "the same message left partial, whole or in pieces");
  check(!whole.failed || (whole.code != 0 && !whole.error.empty()), "a failure says why");
  check(!whole.failed || !whole.partial, "a failed decoder keeps nothing");

  std::string framed;
  for (const auto& message : whole.messages) {
    check(message.size() <= max_bytes, "no message over the limit");
    framed += mgmt::rpc::frame_message(message);
  }
  check(framed.size() <= body.size(), "never more bytes than fed");
  check(body.substr(0, framed.size()) == framed, "the messages are what was fed, framed");
  if (!whole.failed) {
    // What is left is less than one message: a prefix, or a message not yet whole.
    const std::size_t rest = body.size() - framed.size();
    check(whole.partial == (rest > 0), "partial() means bytes are left over");
    if (rest >= 5) {
      const auto* p = reinterpret_cast<const unsigned char*>(body.data() + framed.size());
      const std::size_t length = (std::size_t{p[1]} << 24) | (std::size_t{p[2]} << 16) |
                                 (std::size_t{p[3]} << 8) | std::size_t{p[4]};
      check(p[0] == 0 && length <= max_bytes && rest < 5 + length, "only a message cut short");
    }
  }

  const std::string encoded = mgmt::rpc::percent_encode(body);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const auto c = static_cast<unsigned char>(encoded[i]);
    check(c >= 0x20 && c <= 0x7e, "the encoding is printable ASCII");
    if (c == '%') {
      check(i + 2 < encoded.size(), "every '%' starts an escape");
      i += 2;
    }
  }
  check(mgmt::rpc::percent_decode(encoded) == body, "percent_decode(percent_encode(x)) == x");
  const std::string decoded = mgmt::rpc::percent_decode(body);  // any text, as a peer may send
  check(decoded.size() <= body.size(), "decoding never grows the text");
  return 0;
}
