// metaparams_test.cpp: what each metaparameter promises a user: limit/burst space runs out,
// sema keeps resources sharing a semaphore from running at once (and lets a size-2 one run
// two), hidden resources never run but do not block what follows, realize makes a swap wait
// for a resource to converge once, and bad values are refused by name.
#include "agent/engine/metaparams.h"
#include "agent/engine/rate_limiter.h"
#include "agent/engine/semaphores.h"
#include "test/agent/engine/engine_harness.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using mgmt::agent::engine::parse_meta;
using mgmt::agent::engine::parse_sema;
using mgmt::agent::engine::RateLimiter;
using mgmt::agent::engine::Semaphores;
using mgmt::test::edge;
using mgmt::test::EngineHarness;
using mgmt::test::resource;
using mgmt::test::slurp;
using mgmt::test::TempDir;

namespace {

nlohmann::json sh(const std::string& cmd) { return {{"cmd", cmd}, {"shell", "/bin/sh"}}; }

std::vector<double> numbers(const std::string& text) {
  std::istringstream in(text);
  std::vector<double> out;
  for (double d; in >> d;) out.push_back(d);
  return out;
}

}  // namespace

TEST_CASE("metaparams: a token bucket allows `burst` runs at once, then `limit` per second",
          "[engine]") {
  RateLimiter limiter(4.0, 2.0);  // 4 per second, 2 at once
  const auto t0 = RateLimiter::clock::now();
  CHECK(limiter.wait(t0) == RateLimiter::clock::duration::zero());
  limiter.take(t0);
  CHECK(limiter.wait(t0) == RateLimiter::clock::duration::zero());
  limiter.take(t0);
  const auto wait = limiter.wait(t0);
  CHECK(wait > std::chrono::milliseconds(249));
  CHECK(wait < std::chrono::milliseconds(251));
  CHECK(limiter.wait(t0 + std::chrono::milliseconds(250)) == RateLimiter::clock::duration::zero());
  RateLimiter unlimited(std::numeric_limits<double>::infinity(), 0);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(unlimited.wait(t0) == RateLimiter::clock::duration::zero());
    unlimited.take(t0);
  }
}

TEST_CASE("metaparams: sema ids take an optional size after the last colon", "[engine]") {
  CHECK(*parse_sema("some_id") == std::pair<std::string, int64_t>{"some_id", 1});
  CHECK(*parse_sema("hello:42") == std::pair<std::string, int64_t>{"hello", 42});
  CHECK(*parse_sema("not:smart:4") == std::pair<std::string, int64_t>{"not:smart", 4});
  CHECK(*parse_sema(":13") == std::pair<std::string, int64_t>{"", 13});
  CHECK(*parse_sema("a:b") == std::pair<std::string, int64_t>{"a:b", 1});
  CHECK(!parse_sema("zero:0"));
  Semaphores s;
  const Semaphores::Wanted two = {{"x", 2}};
  CHECK(s.try_acquire(two));
  CHECK(s.try_acquire(two));
  CHECK(!s.try_acquire(two));
  CHECK(!s.try_acquire({{"a", 1}, {"x", 2}}));
  CHECK(s.held("a") == 0);  // all or nothing
  s.release(two);
  CHECK(s.try_acquire({{"a", 1}, {"x", 2}}));
}

TEST_CASE("metaparams: wrong names, types and values are refused naming the resource",
          "[engine]") {
  auto error = [](nlohmann::json meta) {
    auto r = parse_meta(resource("exec", "e", {}, std::move(meta)));
    return r ? std::string() : r.error().message();
  };
  CHECK(error({{"limit", 2.5}}) ==
        "exec[e]: metaparameter \"limit\" needs a \"burst\" of at least 1 (runs allowed at once)");
  CHECK(error({{"limit", 0}, {"burst", 1}}) ==
        "exec[e]: metaparameter \"limit\" must be above 0 (runs per second)");
  CHECK(error({{"retry", -2}}) == "exec[e]: metaparameter \"retry\" must be -1 (forever) or more");
  CHECK(error({{"sema", "one"}}) == "exec[e]: metaparameter \"sema\" must be a list of strings");
  CHECK(error({{"realize", 1}}) == "exec[e]: metaparameter \"realize\" must be a bool");
  CHECK(error({{"rety", 1}}).rfind("exec[e]: unknown metaparameter \"rety\"", 0) == 0);
  CHECK(error({{"limit", 2.5}, {"burst", 1}, {"sema", {"a", "b:2"}}}).empty());
}

TEST_CASE("metaparams: limit spaces a busy resource's runs out", "[engine]") {
  TempDir dir;
  const std::string log = dir.path() + "/log";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  // Its watch reports 10 events over about 0.2 s; at 4 runs per second (burst 1) the runs
  // are at least 0.25 s apart, where without a limit they would follow every event.
  auto params = sh("date +%s.%N >> " + log);
  params["watchcmd"] = "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.02; done";
  params["watchshell"] = "/bin/sh";
  g.resources = {resource("exec", "busy", params, {{"limit", 4.0}, {"burst", 1}})};
  REQUIRE(h.engine->swap(g));
  int seen = h.wait_converged(0);
  while (numbers(slurp(log)).size() < 2) {
    seen = h.wait_converged(seen);
    REQUIRE(seen > 0);
  }
  // The engine starts runs 0.25 s apart; the times are the child's, whose start lags by a
  // varying few tens of ms on a busy machine (0.23 s was seen under the full test run). Without
  // the limit, runs would follow the events 0.02 s apart.
  const auto times = numbers(slurp(log));
  for (std::size_t i = 1; i < times.size(); ++i) {
    INFO("run " << i << " followed the one before by " << times[i] - times[i - 1] << " s");
    CHECK(times[i] - times[i - 1] >= 0.15);
  }
}

TEST_CASE("metaparams: resources sharing a semaphore never run at once", "[engine]") {
  TempDir dir;
  const std::string lock = dir.path() + "/lock";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  // mkdir fails when the directory exists: two of these overlapping would fail.
  for (const char* name : {"a", "b", "c", "d"}) {
    g.resources.push_back(resource(
        "exec", name,
        sh("mkdir " + lock + " && sleep 0.05 && echo " + name + " >> " + dir.path() +
           "/ran && rmdir " + lock),
        {{"sema", {"disk"}}}));
  }
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  CHECK(h.engine->errors().empty());
  CHECK(slurp(dir.path() + "/ran").size() == 8);  // four names, one line each
}

TEST_CASE("metaparams: a semaphore of size 2 lets two resources run together", "[engine]") {
  TempDir dir;
  const std::string fifo = dir.path() + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  // Each end of a FIFO waits for the other: only two at once can finish.
  auto writer = sh("echo hi > " + fifo);
  writer["timeout"] = 10;
  auto reader = sh("cat " + fifo + " > " + dir.path() + "/got");
  reader["timeout"] = 10;
  g.resources = {resource("exec", "writer", writer, {{"sema", {"pair:2"}}}),
                 resource("exec", "reader", reader, {{"sema", {"pair:2"}}})};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  CHECK(h.engine->errors().empty());
  CHECK(slurp(dir.path() + "/got") == "hi\n");
}

TEST_CASE("metaparams: a hidden resource never runs and does not hold back what follows",
          "[engine]") {
  TempDir dir;
  const std::string log = dir.path() + "/log";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("exec", "hidden", sh("echo hidden >> " + log), {{"hidden", true}}),
                 resource("exec", "after", sh("echo after >> " + log))};
  g.edges = {edge("exec", "hidden", "exec", "after")};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  CHECK(slurp(log) == "after\n");
}

TEST_CASE("metaparams: realize makes a swap wait until the resource has converged once",
          "[engine]") {
  TempDir dir;
  const std::string log = dir.path() + "/log";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  // "brief" waits behind a slow resource; a swap right away removes both. With realize, the
  // swap lets it run first, so its brief existence is seen.
  g.resources = {resource("exec", "slow", sh("sleep 0.3")),
                 resource("exec", "brief", sh("echo brief >> " + log), {{"realize", true}})};
  g.edges = {edge("exec", "slow", "exec", "brief")};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.engine->swap(mgmt::frontends::GraphSpec{}));
  CHECK(slurp(log) == "brief\n");
  CHECK(h.engine->vertex_count() == 0);
}

TEST_CASE("metaparams: reverse puts a file back as it was when a graph no longer has it, "
          "even after a restart", "[engine]") {
  TempDir dir;
  const std::string made = dir.path() + "/made";
  const std::string edited = dir.path() + "/edited";
  { std::ofstream(edited) << "original\n"; }
  REQUIRE(::chmod(edited.c_str(), 0600) == 0);
  mgmt::frontends::GraphSpec g;
  g.resources = {
      resource("file", made, {{"content", "new\n"}}, {{"reverse", true}}),
      resource("file", edited, {{"content", "managed\n"}, {"mode", "0644"}},
               {{"reverse", true}})};
  const std::string state = dir.path() + "/state";
  {
    EngineHarness h(false, state);
    REQUIRE(h.engine->swap(g));
    const int seen = h.wait_converged(0);
    REQUIRE(seen > 0);
    // A second graph changes a field: the undo record still describes the first state.
    g.resources[1].params["content"] = "managed again\n";
    REQUIRE(h.engine->swap(g));
    REQUIRE(h.wait_converged(seen) > seen);
    h.engine->stop();  // stopping the agent undoes nothing
  }
  CHECK(slurp(made) == "new\n");
  CHECK(slurp(edited) == "managed again\n");
  {
    EngineHarness h;  // an engine without the state dir has nothing to undo
    REQUIRE(h.engine->swap(mgmt::frontends::GraphSpec{}));
  }
  CHECK(slurp(edited) == "managed again\n");
  EngineHarness restarted(false, state);  // the agent restarted on its data dir
  REQUIRE(restarted.engine->swap(mgmt::frontends::GraphSpec{}));
  CHECK_FALSE(std::filesystem::exists(made));
  CHECK(slurp(edited) == "original\n");
  struct stat st {};
  REQUIRE(::stat(edited.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}
