// history_book_test.cpp: history(value, ms) over a program's runs, with the clock given:
// the value a while ago, the oldest one before the program has run that long, and the moment
// the answer will change (so the runner wakes then).
#include "frontends/lang/history_book.h"

#include <catch2/catch.hpp>

using mgmt::frontends::lang::HistoryBook;
using mgmt::frontends::lang::Value;
using std::chrono::milliseconds;

namespace {

std::string text(const Value& v) { return v.as_str(); }

}  // namespace

TEST_CASE("history: before the program has run that long, the oldest value, then the value "
          "of that long ago",
          "[lang][history]") {
  HistoryBook book;
  const auto t0 = HistoryBook::Clock::time_point{} + std::chrono::hours(1);
  std::optional<HistoryBook::Clock::time_point> due;
  CHECK(text(book.remember("s", Value::of(std::string("a")), milliseconds(1000), t0, &due)) == "a");
  CHECK_FALSE(due);
  // At t0+300 the value becomes b: a second ago it was still a, and b is due at t0+1300.
  CHECK(text(book.remember("s", Value::of(std::string("b")), milliseconds(1000),
                           t0 + milliseconds(300), &due)) == "a");
  REQUIRE(due);
  CHECK(*due == t0 + milliseconds(1300));
  due.reset();
  CHECK(text(book.remember("s", Value::of(std::string("c")), milliseconds(1000),
                           t0 + milliseconds(800), &due)) == "a");
  CHECK(*due == t0 + milliseconds(1300));  // b comes first, then c
  due.reset();
  CHECK(text(book.remember("s", Value::of(std::string("c")), milliseconds(1000),
                           t0 + milliseconds(1300), &due)) == "b");
  CHECK(*due == t0 + milliseconds(1800));
  due.reset();
  CHECK(text(book.remember("s", Value::of(std::string("c")), milliseconds(1000),
                           t0 + milliseconds(1800), &due)) == "c");
  CHECK_FALSE(due);  // nothing else to come
}

TEST_CASE("history: sites are remembered apart, and an unchanged value is not a change",
          "[lang][history]") {
  HistoryBook book;
  const auto t0 = HistoryBook::Clock::time_point{} + std::chrono::hours(1);
  std::optional<HistoryBook::Clock::time_point> due;
  book.remember("x", Value::of(int64_t{1}), milliseconds(100), t0, &due);
  book.remember("y", Value::of(int64_t{7}), milliseconds(100), t0, &due);
  book.remember("x", Value::of(int64_t{1}), milliseconds(100), t0 + milliseconds(50), &due);
  CHECK_FALSE(due);
  CHECK(book.remember("x", Value::of(int64_t{2}), milliseconds(100), t0 + milliseconds(150),
                      &due)
            .as_int() == 1);
  CHECK(book.remember("y", Value::of(int64_t{7}), milliseconds(100), t0 + milliseconds(150),
                      &due)
            .as_int() == 7);
  // Zero ms ago: the value now.
  CHECK(book.remember("z", Value::of(int64_t{3}), milliseconds(0), t0, &due).as_int() == 3);
}
