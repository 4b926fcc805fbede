// read_batcher_test.cpp: linearizable reads share ReadIndex rounds: one round in flight, the
// reads that arrive meanwhile go in the next, and a round that is never answered is retried.
#include "store/server/read_batcher.h"

#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#include <vector>

using mgmt::store::server::ReadBatcher;
using Reads = std::vector<std::string>;

namespace {

// Adds `reads`, then issues the round that answers them: its context.
std::string issue(ReadBatcher& b, std::initializer_list<const char*> reads) {
  for (const char* read : reads) b.add(read);
  auto round = b.next_round();
  REQUIRE(round);
  return *round;
}

}  // namespace

TEST_CASE("read rounds: the reads waiting when a round is issued are answered by it", "[reads]") {
  ReadBatcher b("7", 10);
  CHECK_FALSE(b.next_round());  // nothing waits: no round
  const std::string round = issue(b, {"1", "2"});
  CHECK(round.rfind("7/", 0) == 0);  // unique across members: the member's prefix
  CHECK(b.in_flight());
  CHECK(b.waiting() == 0);
  CHECK(b.answered(round) == Reads{"1", "2"});
  CHECK_FALSE(b.in_flight());
  CHECK(b.answered(round).empty());  // answered once
}

TEST_CASE("read rounds: a read that arrives during a round waits for the next one",
          "[reads]") {
  // Linearizable: the round that answers a read must be issued after the read arrived.
  ReadBatcher b("7", 10);
  const std::string first = issue(b, {"1"});
  b.add("2");
  b.add("3");
  CHECK_FALSE(b.next_round());  // one round at a time
  CHECK(b.answered(first) == Reads{"1"});
  const std::string second = issue(b, {});
  CHECK(second != first);
  CHECK(b.answered("7/other").empty());  // not the round in flight
  CHECK(b.answered(second) == Reads{"2", "3"});
}

TEST_CASE("read rounds: a round never answered is given up and its reads go first",
          "[reads]") {
  ReadBatcher b("7", 3);
  const std::string lost = issue(b, {"1"});
  b.add("2");
  b.tick();
  b.tick();
  CHECK(b.in_flight());
  b.tick();  // the third tick: given up
  CHECK_FALSE(b.in_flight());
  CHECK(b.answered(lost).empty());  // a late answer to the round given up answers nothing
  CHECK(b.answered(issue(b, {})) == Reads{"1", "2"});
}

TEST_CASE("read rounds: a leader change retries the round in flight at once", "[reads]") {
  ReadBatcher b("7", 10);
  b.retry();  // nothing in flight: nothing happens
  CHECK(b.waiting() == 0);
  issue(b, {"1"});
  b.retry();
  CHECK_FALSE(b.in_flight());
  CHECK(b.waiting() == 1);
  CHECK(b.answered(issue(b, {})) == Reads{"1"});
}
