// log_test.cpp: log lines read `HH:MM:SS component: message`, and levels filter.
#include "common/log.h"

#include <catch2/catch.hpp>

#include <sstream>

TEST_CASE("log: a line is time, component and message", "[log]") {
  std::ostringstream out;
  const auto redirected = mgmt::log::redirect(out);
  mgmt::log::init(mgmt::log::Level::info);
  mgmt::log::get("engine")->info("print[print0]: resource: Msg: hello");
  CHECK_THAT(out.str(),
             Catch::Matches("[0-2][0-9]:[0-5][0-9]:[0-6][0-9] engine: print\\[print0\\]: "
                            "resource: Msg: hello\n"));
}

TEST_CASE("log: debug lines appear only with --verbose", "[log]") {
  std::ostringstream out;
  const auto redirected = mgmt::log::redirect(out);
  mgmt::log::init(mgmt::log::Level::info);
  mgmt::log::get("store")->debug("hidden");
  CHECK(out.str().empty());
  mgmt::log::init(mgmt::log::Level::verbose);
  mgmt::log::get("store")->debug("shown");
  CHECK(out.str().find("store: shown") != std::string::npos);
  mgmt::log::init(mgmt::log::Level::quiet);
  mgmt::log::get("store")->info("hidden too");
  CHECK(out.str().find("hidden too") == std::string::npos);
  mgmt::log::init(mgmt::log::Level::info);
}
