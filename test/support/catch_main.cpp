// catch_main.cpp: the one Catch2 main all test executables share. Logging goes to stderr at
// info level unless MGMT_TEST_LOG=debug asks for more.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "common/log.h"

#include <cstdlib>
#include <string>

int main(int argc, char* argv[]) {
  const char* env = std::getenv("MGMT_TEST_LOG");
  mgmt::log::init(env && std::string(env) == "debug" ? mgmt::log::Level::debug
                                                     : mgmt::log::Level::info);
  return Catch::Session().run(argc, argv);
}
