// result_test.cpp: errors are one line and keep their code through context.
#include "common/result.h"

#include <catch2/catch.hpp>

TEST_CASE("result: an error message is always one line", "[result]") {
  mgmt::Error e(mgmt::Code::unavailable, "cannot reach\nthe store");
  CHECK(e.message() == "cannot reach the store");
  auto wrapped = e.with_context("deploy");
  CHECK(wrapped.message() == "deploy: cannot reach the store");
  CHECK(wrapped.code() == mgmt::Code::unavailable);
}

TEST_CASE("result: fail() builds an error result", "[result]") {
  auto f = []() -> mgmt::Result<int> { return mgmt::fail(mgmt::Code::not_found, "no key"); };
  auto r = f();
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == mgmt::Code::not_found);
  CHECK(std::string(mgmt::code_name(r.error().code())) == "not found");
}
