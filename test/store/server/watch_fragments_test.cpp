// watch_fragments_test.cpp: the parts a watcher that asked for fragments is sent: every event
// once and in order, parts of two events or more under the limit, one event alone whatever its
// size, `fragment` on all but the last, and a small response left whole.
#include "store/server/watch_fragments.h"

#include <catch2/catch.hpp>

#include <string>

using etcdserverpb::WatchResponse;
using mgmt::store::server::watch_fragments;

namespace {

WatchResponse response_with(const std::vector<std::size_t>& value_sizes) {
  WatchResponse r;
  r.set_watch_id(7);
  r.mutable_header()->set_revision(42);
  for (std::size_t i = 0; i < value_sizes.size(); ++i) {
    auto* e = r.add_events();
    e->mutable_kv()->set_key("k" + std::to_string(i));
    e->mutable_kv()->set_value(std::string(value_sizes[i], 'v'));
  }
  return r;
}

}  // namespace

TEST_CASE("watch fragments: a large response goes in parts under the limit, in order",
          "[unit]") {
  constexpr std::size_t kLimit = 1000;
  const auto parts = watch_fragments(response_with({300, 300, 300, 300, 2000, 10, 10}), kLimit);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    INFO("part " << i);
    CHECK(p.watch_id() == 7);
    CHECK(p.header().revision() == 42);
    CHECK(p.fragment() == (i + 1 < parts.size()));
    REQUIRE(p.events_size() >= 1);
    if (p.events_size() > 1) CHECK(p.ByteSizeLong() < kLimit);
    for (const auto& e : p.events()) keys.push_back(e.kv().key());
  }
  CHECK(keys == std::vector<std::string>{"k0", "k1", "k2", "k3", "k4", "k5", "k6"});
  // etcd's greedy cut: three of 300 fit, the fourth would pass; the big one alone; the rest.
  REQUIRE(parts.size() == 4);
  CHECK(parts[0].events_size() == 3);
  CHECK(parts[1].events_size() == 1);
  CHECK(parts[2].events_size() == 1);
  CHECK(parts[3].events_size() == 2);
}

TEST_CASE("watch fragments: a small response, or one event, goes whole", "[unit]") {
  auto small = watch_fragments(response_with({10, 10}), 1000);
  REQUIRE(small.size() == 1);
  CHECK(small[0].events_size() == 2);
  CHECK_FALSE(small[0].fragment());
  auto one = watch_fragments(response_with({5000}), 1000);
  REQUIRE(one.size() == 1);
  CHECK_FALSE(one[0].fragment());
  auto none = watch_fragments(WatchResponse(), 1000);
  REQUIRE(none.size() == 1);
}
