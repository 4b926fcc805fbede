// engine_test.cpp: the scheduler's promises: dependency order, parallel branches, notify,
// retry, swaps that keep unchanged resources running, cycle errors, convergence.
#include "test/agent/engine/engine_harness.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using mgmt::test::edge;
using mgmt::test::EngineHarness;
using mgmt::test::resource;
using mgmt::test::slurp;
using mgmt::test::TempDir;

namespace {

nlohmann::json append(const std::string& log, const std::string& word) {
  return {{"cmd", "echo " + word + " >> " + log}, {"shell", "/bin/sh"}};
}

}  // namespace

TEST_CASE("engine: a resource runs only after the resources before it", "[engine]") {
  TempDir dir;
  std::string log = dir.path() + "/log";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  // Declared in reverse, so order can only come from the edges.
  g.resources = {resource("exec", "c", append(log, "c")), resource("exec", "b", append(log, "b")),
                 resource("exec", "a", append(log, "a"))};
  g.edges = {edge("exec", "a", "exec", "b"), edge("exec", "b", "exec", "c")};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  CHECK(slurp(log) == "a\nb\nc\n");
  CHECK(h.engine->errors().empty());
}

TEST_CASE("engine: independent resources are checked in parallel", "[engine]") {
  TempDir dir;
  std::string fifo = dir.path() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  // Opening a FIFO blocks until the other end opens it: each command can finish only while
  // the other one runs. Run one after the other, the first would time out.
  g.resources = {
      resource("exec", "writer", {{"cmd", "echo hi > " + fifo}, {"shell", "/bin/sh"},
                                  {"timeout", 10}}),
      resource("exec", "reader", {{"cmd", "cat " + fifo + " > " + dir.path() + "/got"},
                                  {"shell", "/bin/sh"}, {"timeout", 10}})};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  CHECK(h.engine->errors().empty());
  CHECK(slurp(dir.path() + "/got") == "hi\n");
}

TEST_CASE("engine: a change sends a refresh along a notify edge", "[engine]") {
  TempDir dir;
  std::string file = dir.path() + "/f";
  std::string log = dir.path() + "/log";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("file", file, {{"content", "one\n"}}),
                 resource("exec", "on-change", append(log, "refreshed"))};
  g.edges = {edge("file", file, "exec", "on-change", true)};
  REQUIRE(h.engine->swap(g));
  int seen = h.wait_converged(0);
  REQUIRE(seen > 0);
  CHECK(slurp(log) == "refreshed\n");  // first run
  // Someone changes the managed file: inotify sees it, the file is repaired, and the exec
  // behind the notify edge runs again.
  { std::ofstream(file) << "tampered\n"; }
  while (slurp(log) != "refreshed\nrefreshed\n") {
    seen = h.wait_converged(seen);
    REQUIRE(seen > 0);
  }
  CHECK(slurp(file) == "one\n");
}

TEST_CASE("engine: a failing resource is retried as its metaparams say", "[engine]") {
  TempDir dir;
  std::string marker = dir.path() + "/marker";
  std::string log = dir.path() + "/log";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("exec", "flaky",
                          {{"cmd", "echo try >> " + log + "; test -e " + marker +
                                       " || { touch " + marker + "; exit 1; }"},
                           {"shell", "/bin/sh"}},
                          {{"retry", 2}, {"delay", 10}})};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  while (slurp(log) != "try\ntry\n") REQUIRE(h.wait_converged(h.converged()) > 0);
  CHECK(h.engine->errors().empty());
}

TEST_CASE("engine: a resource that fails without retries reports its error and blocks what "
          "follows",
          "[engine]") {
  TempDir dir;
  std::string log = dir.path() + "/log";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("exec", "broken", {{"cmd", "exit 3"}, {"shell", "/bin/sh"}}),
                 resource("exec", "after", append(log, "after"))};
  g.edges = {edge("exec", "broken", "exec", "after")};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  auto errors = h.engine->errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "exec[broken]: cmd exited with status 3");
  CHECK(slurp(log).empty());
}

TEST_CASE("engine: a swap keeps unchanged resources running and replaces changed ones",
          "[engine]") {
  TempDir dir;
  std::string log = dir.path() + "/log";
  EngineHarness h;
  mgmt::frontends::GraphSpec first;
  first.resources = {resource("exec", "kept", append(log, "kept")),
                     resource("exec", "changed", append(log, "old")),
                     resource("exec", "removed", append(log, "removed"))};
  REQUIRE(h.engine->swap(first));
  int seen = h.wait_converged(0);
  REQUIRE(seen > 0);
  mgmt::frontends::GraphSpec second;
  second.resources = {resource("exec", "kept", append(log, "kept")),
                      resource("exec", "changed", append(log, "new")),
                      resource("exec", "added", append(log, "added"))};
  REQUIRE(h.engine->swap(second));
  REQUIRE(h.wait_converged(seen) > 0);
  std::string out = slurp(log);
  // `kept` ran once: the same instance kept its state; a new one would have run again.
  CHECK(std::count(out.begin(), out.end(), '\n') == 5);
  CHECK(out.find("kept\n") == out.rfind("kept\n"));
  CHECK(out.find("new\n") != std::string::npos);
  CHECK(out.find("added\n") != std::string::npos);
  CHECK(h.engine->vertex_count() == 3);
}

TEST_CASE("engine: a cycle is refused, named, and the running graph stays", "[engine]") {
  EngineHarness h;
  mgmt::frontends::GraphSpec ok_graph;
  ok_graph.resources = {resource("noop", "n")};
  REQUIRE(h.engine->swap(ok_graph));
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("noop", "a"), resource("noop", "b"), resource("noop", "c")};
  g.edges = {edge("noop", "a", "noop", "b"), edge("noop", "b", "noop", "c"),
             edge("noop", "c", "noop", "a")};
  auto swapped = h.engine->swap(g);
  REQUIRE_FALSE(swapped);
  CHECK(swapped.error().message() ==
        "the graph has a cycle: noop[a] -> noop[b] -> noop[c] -> noop[a]");
  CHECK(h.engine->vertex_count() == 1);
}

TEST_CASE("engine: a wrong field is refused before anything changes", "[engine]") {
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("file", "/tmp/x", {{"mdoe", "0644"}})};
  auto swapped = h.engine->swap(g);
  REQUIRE_FALSE(swapped);
  CHECK(swapped.error().message() ==
        "file[/tmp/x]: field \"mdoe\" does not exist; did you mean \"mode\"?");
  g.resources = {resource("file", "/tmp/x", {{"mode", 644}})};
  CHECK(h.engine->swap(g).error().message() ==
        "file[/tmp/x]: field \"mode\" must be str, got int");
}

TEST_CASE("engine: noop checks everything and changes nothing", "[engine]") {
  TempDir dir;
  std::string file = dir.path() + "/f";
  EngineHarness h(/*noop=*/true);
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("file", file, {{"content", "x"}})};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  struct stat st {};
  CHECK(::stat(file.c_str(), &st) != 0);
}
