// required_program.h: a test that needs a program from a Debian package fails at once when it
// is missing, naming the package to install, instead of failing later on a confusing error.
#pragma once

#include "test/support/process/real_etcd.h"

#include <catch2/catch.hpp>

#include <string>

namespace mgmt::test {

inline void require_program(const std::string& program, const std::string& package) {
  if (!have_program(program)) {
    FAIL(program << " (Debian package " << package << ") is needed: apt-get install " << package
                 << " (tools/setup.sh does)");
  }
}

}  // namespace mgmt::test
