// resources_test.cpp: resources against the real file system and real processes.
#include "agent/resources/registry.h"
#include "common/log.h"
#include "test/agent/engine/engine_harness.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>

using mgmt::test::EngineHarness;
using mgmt::test::resource;
using mgmt::test::slurp;
using mgmt::test::TempDir;

namespace {

std::unique_ptr<mgmt::agent::resources::Resource> make(const mgmt::frontends::ResourceSpec& r) {
  auto res = mgmt::agent::resources::find_kind(r.kind)->make();
  res->set_id(r.kind + "[" + r.name + "]");
  REQUIRE(res->configure(r));
  return res;
}

}  // namespace

TEST_CASE("file: creates a file with content and mode, then reports it in state", "[file]") {
  TempDir dir;
  std::string path = dir.path() + "/f";
  auto f = make(resource("file", path, {{"content", "hello\n"}, {"mode", "0640"}}));
  auto first = f->check_apply(true);
  REQUIRE(first);
  CHECK_FALSE(*first);
  CHECK(slurp(path) == "hello\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  auto second = f->check_apply(true);
  REQUIRE(second);
  CHECK(*second);
}

TEST_CASE("file: state absent removes the file", "[file]") {
  TempDir dir;
  std::string path = dir.path() + "/gone";
  { std::ofstream(path) << "x"; }
  auto f = make(resource("file", path, {{"state", "absent"}}));
  auto r = f->check_apply(true);
  REQUIRE(r);
  CHECK_FALSE(*r);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("file: a bad mode or state names the field", "[file]") {
  auto res = mgmt::agent::resources::find_kind("file")->make();
  CHECK(res->configure(resource("file", "/tmp/x", {{"mode", "rw-r--r--"}})).error().message() ==
        "file[/tmp/x]: field \"mode\" must be octal like \"0644\", not \"rw-r--r--\"");
  CHECK(res->configure(resource("file", "/tmp/x", {{"state", "present"}})).error().message() ==
        "file[/tmp/x]: field \"state\" must be \"exists\" or \"absent\", not \"present\"");
  CHECK(res->configure(resource("file", "relative")).error().message() ==
        "file[relative]: path \"relative\" must be absolute");
}

TEST_CASE("file: drift is repaired as soon as it happens", "[file][engine]") {
  TempDir dir;
  std::string path = dir.path() + "/managed";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("file", path, {{"content", "managed\n"}})};
  REQUIRE(h.engine->swap(g));
  int seen = h.wait_converged(0);
  REQUIRE(seen > 0);
  std::filesystem::remove(path);  // someone deletes it
  while (slurp(path) != "managed\n") {
    seen = h.wait_converged(seen);
    REQUIRE(seen > 0);
  }
}

TEST_CASE("exec: creates and ifcmd decide whether the command runs", "[exec]") {
  TempDir dir;
  std::string out = dir.path() + "/out";
  auto skipped = make(resource("exec", "skip", {{"cmd", "echo ran > " + out},
                                                 {"creates", dir.path()}}));
  REQUIRE(*skipped->check_apply(true));
  CHECK_FALSE(std::filesystem::exists(out));
  auto guarded = make(resource("exec", "guard", {{"cmd", "echo ran > " + out},
                                                  {"ifcmd", "false"}}));
  REQUIRE(*guarded->check_apply(true));
  CHECK_FALSE(std::filesystem::exists(out));
  auto runs = make(resource("exec", "run", {{"cmd", "echo ran > " + out}, {"ifcmd", "true"}}));
  auto r = runs->check_apply(true);
  REQUIRE(r);
  CHECK_FALSE(*r);
  CHECK(slurp(out) == "ran\n");
  CHECK(*runs->check_apply(true));  // ran once; in state until a refresh
}

TEST_CASE("exec: a command over its timeout is killed and reported", "[exec]") {
  auto e = make(resource("exec", "slow", {{"cmd", "exec sleep 30"}, {"timeout", 1}}));
  auto r = e->check_apply(true);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "exec[slow]: cmd killed after its timeout of 1s");
}

TEST_CASE("registry: every kind's fields have types the checker understands", "[registry]") {
  using mgmt::agent::resources::value_fits;
  CHECK(value_fits(nlohmann::json::array({"a", "b"}), "[]str"));
  CHECK_FALSE(value_fits(nlohmann::json::array({"a", 1}), "[]str"));
  CHECK(value_fits({{"k", "v"}}, "map{str: str}"));
  CHECK(value_fits({{"somebool", true}, {"someint", 3}},
                   "struct{somebool bool; somestr str; someint int; somefloat float}"));
  for (const auto& kind : mgmt::agent::resources::kind_names()) {
    for (const auto& field : mgmt::agent::resources::find_kind(kind)->fields) {
      CAPTURE(kind, field.name, field.type);
      CHECK_FALSE(field.type.empty());
    }
  }
}

TEST_CASE("print: logs its message once, and again on a refresh", "[print]") {
  std::ostringstream captured;
  const auto redirected = mgmt::log::redirect(captured);
  auto p = make(resource("print", "p0", {{"msg", "hello"}}));
  REQUIRE_FALSE(*p->check_apply(true));
  REQUIRE(*p->check_apply(true));
  p->set_refresh(true);
  REQUIRE_FALSE(*p->check_apply(true));
  std::string out = captured.str();
  CHECK(out.find("engine: print[p0]: resource: Msg: hello\n") != std::string::npos);
  CHECK(out.find("Msg: hello") != out.rfind("Msg: hello"));
}

TEST_CASE("file: drift is seen for every one of many files (one inotify instance, not one each)",
          "[file][engine]") {
  TempDir dir;
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  constexpr int kFiles = 300;  // over the kernel's default of 128 inotify instances per user
  for (int i = 0; i < kFiles; ++i) {
    g.resources.push_back(resource("file", dir.path() + "/f" + std::to_string(i),
                                   {{"content", "content " + std::to_string(i) + "\n"}}));
  }
  REQUIRE(h.engine->swap(g));
  int seen = h.wait_converged(0);
  REQUIRE(seen > 0);
  std::string last = dir.path() + "/f" + std::to_string(kFiles - 1);
  { std::ofstream(last) << "drifted\n"; }
  while (slurp(last) != "content " + std::to_string(kFiles - 1) + "\n") {
    seen = h.wait_converged(seen);
    REQUIRE(seen > 0);
  }
}
