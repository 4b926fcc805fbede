// line_test.cpp: the line resource on real files: a line is added once (keeping the rest and
// the file's mode), removed with state absent, compared trimmed with `trim`, left alone in noop,
// and put back by the engine the moment someone deletes it.
#include "test/agent/engine/resource_maker.h"
#include "test/support/process/child_process.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>

using mgmt::test::EngineHarness;
using mgmt::test::make_resource;
using mgmt::test::resource;
using mgmt::test::slurp;
using mgmt::test::TempDir;

TEST_CASE("line: adds a missing line at the end once, keeping the rest and the mode",
          "[line]") {
  TempDir dir;
  const std::string path = dir.path() + "/hosts";
  { std::ofstream(path) << "127.0.0.1 localhost"; }  // no trailing newline
  REQUIRE(::chmod(path.c_str(), 0640) == 0);
  auto line = make_resource(resource("line", "db", {{"file", path},
                                                    {"content", "10.0.0.5 db"}}));
  auto first = line->check_apply(true);
  REQUIRE(first);
  CHECK_FALSE(*first);
  CHECK(slurp(path) == "127.0.0.1 localhost\n10.0.0.5 db\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  auto second = line->check_apply(true);
  REQUIRE(second);
  CHECK(*second);
  CHECK(slurp(path) == "127.0.0.1 localhost\n10.0.0.5 db\n");
}

TEST_CASE("line: state absent removes every copy, trim ignores surrounding blanks, noop "
          "changes nothing", "[line]") {
  TempDir dir;
  const std::string path = dir.path() + "/conf";
  { std::ofstream(path) << "a\n  PermitRootLogin yes \nb\nPermitRootLogin yes\n"; }
  auto noop = make_resource(resource("line", "root", {{"file", path},
                                                      {"content", "PermitRootLogin yes"},
                                                      {"state", "absent"}, {"trim", true}}));
  auto checked = noop->check_apply(false);
  REQUIRE(checked);
  CHECK_FALSE(*checked);
  CHECK(slurp(path) == "a\n  PermitRootLogin yes \nb\nPermitRootLogin yes\n");
  auto fixed = noop->check_apply(true);
  REQUIRE(fixed);
  CHECK(slurp(path) == "a\nb\n");
  auto missing_file = make_resource(resource("line", "new", {{"file", dir.path() + "/new"},
                                                             {"content", "x"}}));
  REQUIRE(missing_file->check_apply(true));
  CHECK(slurp(dir.path() + "/new") == "x\n");
}

TEST_CASE("line: a relative file or a bad state is refused naming the field", "[line]") {
  auto r = mgmt::agent::resources::find_kind("line")->make();
  auto bad = r->configure(resource("line", "l", {{"file", "etc/hosts"}, {"content", "x"}}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "line[l]: field \"file\" must be an absolute path, not \"etc/hosts\"");
  auto state = r->configure(resource("line", "l", {{"file", "/x"}, {"state", "gone"}}));
  REQUIRE_FALSE(state);
  CHECK(state.error().message() ==
        "line[l]: field \"state\" must be \"exists\" or \"absent\", not \"gone\"");
}

TEST_CASE("line: the engine puts a deleted line back as soon as it is deleted",
          "[line][engine]") {
  TempDir dir;
  const std::string path = dir.path() + "/motd";
  { std::ofstream(path) << "welcome\n"; }
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  g.resources = {resource("line", "managed", {{"file", path}, {"content", "managed by mgmt"}})};
  REQUIRE(h.engine->swap(g));
  int seen = h.wait_converged(0);
  REQUIRE(seen > 0);
  CHECK(slurp(path) == "welcome\nmanaged by mgmt\n");
  // Someone removes it, saving the file as editors do (a new file renamed over it; an
  // in-place rewrite could race with the repair and lose either write).
  { std::ofstream(path + ".new") << "welcome\n"; }
  REQUIRE(::rename((path + ".new").c_str(), path.c_str()) == 0);
  while (slurp(path) != "welcome\nmanaged by mgmt\n") {
    seen = h.wait_converged(seen);
    REQUIRE(seen > 0);
  }
}
