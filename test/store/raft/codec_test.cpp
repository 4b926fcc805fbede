// codec_test.cpp: the byte encoding of Raft values round-trips, and decoding arbitrary bytes
// (truncated, mutated, huge counts) gives a data_loss error, never a crash or a huge allocation.
#include "store/raft/codec.h"
#include "test/support/fuzz/mutator.h"

#include <catch.hpp>

using namespace mgmt::store::raft;

namespace {

Message sample_message() {
  Message m{.type = MessageType::append, .to = 2, .from = 1, .term = 7, .log_term = 6,
            .index = 41, .commit = 40, .reject = true, .reject_hint = 39, .context = "ctx"};
  m.entries.push_back(Entry{7, 42, EntryType::normal, "data"});
  m.entries.push_back(Entry{7, 43, EntryType::conf_change,
                            codec::encode(ConfChange{ConfChangeType::add_learner, 4, "peer"})});
  m.snapshot = Snapshot{SnapshotMeta{30, 5, ConfState{{1, 2, 3}, {4}}}, std::string(100, 'x')};
  return m;
}

}  // namespace

TEST_CASE("raft codec: every value round-trips", "[unit]") {
  const Message m = sample_message();
  auto back = codec::decode_message(codec::encode(m));
  REQUIRE(back);
  CHECK(*back == m);
  const ConfChange cc{ConfChangeType::remove_node, 9, "x"};
  CHECK(*codec::decode_conf_change(codec::encode(cc)) == cc);
  const ConfState cs{{1, 2}, {3}};
  CHECK(*codec::decode_conf_state(codec::encode(cs)) == cs);
  const HardState hs{5, 2, 99};
  CHECK(*codec::decode_hard_state(codec::encode(hs)) == hs);
  const Entry e{3, 4, EntryType::normal, std::string("\0\x01", 2)};
  CHECK(*codec::decode_entry(codec::encode(e)) == e);
}

TEST_CASE("raft codec: truncated and mutated input is refused cleanly (fuzz)", "[unit]") {
  const std::string good = codec::encode(sample_message());
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = codec::decode_message(good.substr(0, n));
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == mgmt::Code::data_loss);
  }
  std::string alphabet;
  for (int c = 0; c < 256; ++c) alphabet.push_back(static_cast<char>(c));
  for (uint64_t seed = 1; seed <= 20000; ++seed) {
    mgmt::test::Mutator mut(seed);
    const std::string input = mut.mutate(good, alphabet, 8);
    auto r = codec::decode_message(input);  // must not crash; either outcome is fine
    if (r) CHECK(codec::decode_message(codec::encode(*r)).has_value());
    (void)codec::decode_conf_change(input);
    (void)codec::decode_conf_state(input);
  }
  // A count field claiming 2^60 entries is refused without allocating.
  std::string huge = "\x01\x03";
  for (int i = 0; i < 5; ++i) huge += '\x00';
  huge += std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x0f", 9);
  CHECK_FALSE(codec::decode_message(huge));
}
