// send_recv_test.cpp: send/recv: what an exec printed becomes a file's content (output, and
// stdout and stderr apart), after the exec ran and again when it runs again.
#include "test/agent/engine/engine_harness.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

using mgmt::test::EngineHarness;
using mgmt::test::resource;
using mgmt::test::slurp;
using mgmt::test::TempDir;

TEST_CASE("send/recv: an exec's output, stdout and stderr become files' contents",
          "[engine]") {
  TempDir dir;
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("exec", "report",
                          {{"cmd", "echo to out; echo to err 1>&2"}, {"shell", "/bin/sh"}}),
                 resource("file", dir.path() + "/all", {{"state", "exists"}}),
                 resource("file", dir.path() + "/out", {{"state", "exists"}}),
                 resource("file", dir.path() + "/err", {{"state", "exists"}})};
  auto edge = [&](const std::string& send, const std::string& file) {
    mgmt::frontends::EdgeSpec e{"exec", "report", "file", dir.path() + "/" + file, false, send,
                                "content"};
    return e;
  };
  g.edges = {edge("output", "all"), edge("stdout", "out"), edge("stderr", "err")};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  CHECK(h.engine->errors().empty());
  CHECK(slurp(dir.path() + "/out") == "to out\n");
  CHECK(slurp(dir.path() + "/err") == "to err\n");
  const std::string all = slurp(dir.path() + "/all");
  CHECK(all.find("to out\n") != std::string::npos);
  CHECK(all.find("to err\n") != std::string::npos);
}
