// autoedges_test.cpp: the dependencies the engine adds by itself, rule by rule, and that
// Meta autoedge false or an explicit edge the other way turns one off; then a graph that works
// only in autoedge order (an exec running a script that a file resource writes).
#include "agent/engine/autoedges.h"
#include "test/agent/engine/engine_harness.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include <algorithm>

using mgmt::agent::engine::autoedges;
using mgmt::test::EngineHarness;
using mgmt::test::resource;
using mgmt::test::slurp;
using mgmt::test::TempDir;

namespace {

using Edges = std::vector<std::string>;  // "from -> to", sorted

Edges edges_of(const std::vector<mgmt::frontends::ResourceSpec>& specs,
               std::map<std::string, bool> enabled = {},
               std::vector<std::pair<std::string, std::string>> given = {}) {
  std::map<std::string, const mgmt::frontends::ResourceSpec*> wanted;
  for (const auto& s : specs) wanted[s.kind + "[" + s.name + "]"] = &s;
  Edges out;
  for (const auto& [from, to] : autoedges(wanted, enabled, given)) {
    out.push_back(from + " -> " + to);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("autoedges: each rule links the resource to what it needs first", "[engine]") {
  const std::vector<mgmt::frontends::ResourceSpec> specs = {
      resource("file", "/srv/"),
      resource("file", "/srv/app/", {{"owner", "app"}, {"group", "staff"}}),
      resource("file", "/srv/app/run.sh"),
      resource("file", "/etc/systemd/system/app.service"),
      resource("user", "app", {{"group", "staff"}, {"groups", {"adm"}}}),
      resource("group", "staff"),
      resource("group", "adm"),
      resource("exec", "start", {{"cmd", "/srv/app/run.sh --now"}, {"cwd", "/srv/"}}),
      resource("svc", "app"),
      resource("pkg", "app"),
      resource("line", "motd", {{"file", "/srv/app/run.sh"}})};
  const Edges want = {
      "file[/etc/systemd/system/app.service] -> svc[app]",
      "file[/srv/] -> exec[start]",
      "file[/srv/] -> file[/srv/app/]",
      "file[/srv/app/] -> file[/srv/app/run.sh]",
      "file[/srv/app/run.sh] -> exec[start]",
      "file[/srv/app/run.sh] -> line[motd]",
      "group[adm] -> user[app]",
      "group[staff] -> file[/srv/app/]",
      "group[staff] -> user[app]",
      "pkg[app] -> svc[app]",
      "user[app] -> file[/srv/app/]"};
  CHECK(edges_of(specs) == want);
}

TEST_CASE("autoedges: Meta autoedge false and an explicit edge the other way turn one off",
          "[engine]") {
  const std::vector<mgmt::frontends::ResourceSpec> specs = {resource("file", "/d/"),
                                                            resource("file", "/d/f")};
  CHECK(edges_of(specs) == Edges{"file[/d/] -> file[/d/f]"});
  CHECK(edges_of(specs, {{"file[/d/f]", false}}).empty());
  CHECK(edges_of(specs, {}, {{"file[/d/f]", "file[/d/]"}}).empty());
}

TEST_CASE("autoedges: an exec runs after the file resource that writes its script",
          "[engine]") {
  TempDir dir;
  const std::string script = dir.path() + "/bin/hello.sh";
  EngineHarness h;
  mgmt::frontends::GraphSpec g;
  // Listed exec first; nothing but autoedges orders these.
  g.resources = {
      resource("exec", "hello", {{"cmd", script}}),
      resource("file", script,
               {{"content", "#!/bin/sh\necho hello > " + dir.path() + "/out\n"},
                {"mode", "0755"}}),
      resource("file", dir.path() + "/bin/", {{"state", "exists"}})};
  REQUIRE(h.engine->swap(g));
  REQUIRE(h.wait_converged(0) > 0);
  CHECK(h.engine->errors().empty());
  CHECK(slurp(dir.path() + "/out") == "hello\n");
}
