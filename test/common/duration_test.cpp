// duration_test.cpp: the durations the agent's flags take, as etcd's do (--auto-compaction-
// retention, --watch-progress-notify-interval), and the text they refuse.
#include "common/duration.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using mgmt::parse_duration;

TEST_CASE("duration: Go's forms give their milliseconds", "[unit]") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("90s") == 90s);
  CHECK(parse_duration("30m") == 30min);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("2.5h") == 150min);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("0s") == 0ms);
  CHECK(parse_duration("10m") == 600s);
}

TEST_CASE("duration: what is not a duration is refused", "[unit]") {
  for (const char* text : {"", "10", "ms", "1x", "1h30", "1.2.3s", ".s", "-1s", "1 h", "1e3s",
                           "99999999999999h"}) {
    INFO(text);
    CHECK_FALSE(parse_duration(text).has_value());
  }
}
