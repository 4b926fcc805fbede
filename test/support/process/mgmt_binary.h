// mgmt_binary.h: the mgmt binary a test runs as real agents, from MGMT_BINARY (ctest sets it to
// the build's mgmt); a test run without it fails at once, saying so.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace mgmt::test {

inline std::string mgmt_binary() {
  const char* binary = std::getenv("MGMT_BINARY");
  if (binary == nullptr || *binary == '\0') {
    FAIL("MGMT_BINARY is not set: run this test through ctest, which points it at the build's "
         "mgmt, or set it to an mgmt binary yourself");
  }
  return binary;
}

}  // namespace mgmt::test
