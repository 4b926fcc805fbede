// puppet_translation_test.cpp: the puppet frontend without puppet, on catalogs shaped as puppet 7
// serialises them: each native mapping with its attributes (checked against the resource
// registry too), the fallback to `puppet apply` and its notes, relationships through classes
// and defined types, empty classes as noops, exported resources, errors; Puppet literals and
// shell quoting; langpuppet's merge of an mcl graph and a puppet graph.
#include "frontends/puppet/catalog_translation.h"
#include "frontends/puppet/langpuppet_merge.h"
#include "frontends/puppet/puppet_syntax.h"
#include "test/frontends/puppet/graph_queries.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include "agent/resources/registry.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

using mgmt::test::puppet::edges_of;
using mgmt::test::puppet::vertex;

namespace {

using mgmt::frontends::EdgeSpec;
using mgmt::frontends::GraphSpec;
using mgmt::frontends::ResourceSpec;
using mgmt::frontends::puppet::merge_langpuppet;
using mgmt::frontends::puppet::puppet_literal;
using mgmt::frontends::puppet::puppet_resource;
using mgmt::frontends::puppet::sh_quote;
using mgmt::frontends::puppet::translate_catalog;
using mgmt::frontends::puppet::Translated;
using nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A resource as puppet 7 serialises it; line 0: none (puppet gives none for classes).
json resource(const std::string& type, const std::string& title, json params = json::object(),
              int line = 0, const std::string& kind = "compilable_type") {
  json r = {{"type", type},
            {"title", title},
            {"tags", json::array({lower(type)})},
            {"exported", false},
            {"kind", kind}};
  if (line > 0) {
    r["file"] = "";
    r["line"] = line;
  }
  if (!params.empty()) r["parameters"] = std::move(params);
  return r;
}

json klass(const std::string& title, json params = json::object()) {
  return resource("Class", title, std::move(params), 0, "unknown");
}

json defined(const std::string& type, const std::string& title, json params, int line) {
  return resource(type, title, std::move(params), line, "defined_type");
}

// A catalog as puppet compiles it: Stage[main] holds Class[Settings] and Class[main]; each
// resource added is contained by Class[main] unless told otherwise.
class Catalog {
 public:
  Catalog() {
    resources_.push_back(resource("Stage", "main", {{"name", "main"}}));
    resources_.push_back(klass("Settings"));
    resources_.push_back(klass("main", {{"name", "main"}}));
    edges_.push_back({{"source", "Stage[main]"}, {"target", "Class[Settings]"}});
    edges_.push_back({{"source", "Stage[main]"}, {"target", "Class[main]"}});
  }
  Catalog& add(json r, const std::string& container = "Class[main]") {
    edges_.push_back({{"source", container},
                      {"target", r["type"].get<std::string>() + "[" +
                                     r["title"].get<std::string>() + "]"}});
    resources_.push_back(std::move(r));
    return *this;
  }
  // A class as `include` declares it: contained by Stage[main].
  Catalog& add_class(json c) { return add(std::move(c), "Stage[main]"); }
  json get() const {
    return {{"tags", {"settings", "class"}}, {"name", "host"},       {"version", 1},
            {"code_id", nullptr},            {"catalog_format", 2}, {"environment", "production"},
            {"resources", resources_},       {"edges", edges_},     {"classes", {"settings"}}};
  }

 private:
  json resources_ = json::array();
  json edges_ = json::array();
};

Translated translated(const json& catalog, const std::string& puppet_conf = "") {
  auto t = translate_catalog(catalog, {"site.pp", puppet_conf});
  INFO((t ? std::string() : t.error().message()));
  REQUIRE(t);
  return *t;
}

std::string error_of(const json& catalog) {
  auto t = translate_catalog(catalog, {"site.pp", ""});
  REQUIRE_FALSE(t);
  CHECK(t.error().code() == mgmt::Code::invalid_argument);
  return t.error().message();
}


// The engine would take it: every field exists with its type, and the kind configures it.
void check_native(const ResourceSpec& spec) {
  INFO(spec.kind << "[" << spec.name << "]: " << spec.params.dump());
  auto checked = mgmt::agent::resources::check_spec(spec);
  INFO((checked ? std::string() : checked.error().message()));
  REQUIRE(checked);
  const auto* kind = mgmt::agent::resources::find_kind(spec.kind);
  REQUIRE(kind != nullptr);
  REQUIRE(kind->make);
  auto configured = kind->make()->configure(spec);
  INFO((configured ? std::string() : configured.error().message()));
  CHECK(configured);
}

void check_all_native(const GraphSpec& g) {
  for (const auto& r : g.resources) check_native(r);
}

// The fallback's note.
std::string applied_by_puppet(const std::string& key, const std::string& why) {
  return key + " is applied by puppet itself (`puppet apply` of that resource): " + why;
}

mgmt::test::Completed sh(const std::string& cmd,
                         const std::map<std::string, std::string>& env = {}) {
  return mgmt::test::run_to_completion({"/bin/sh", "-c", cmd}, env);
}

}  // namespace

// ---- native mappings ----------------------------------------------------------------------

TEST_CASE("puppet: a file with content, an octal mode, owner and group is a native file",
          "[puppet][translate]") {
  auto t = translated(Catalog()
                          .add(resource("File", "/etc/motd",
                                        {{"content", "hello\n"},
                                         {"mode", "640"},
                                         {"owner", "root"},
                                         {"group", "adm"},
                                         {"backup", false},
                                         {"show_diff", false}},
                                        3))
                          .get());
  CHECK(t.notes.empty());
  REQUIRE(t.graph.resources.size() == 1);
  const auto& f = t.graph.resources[0];
  CHECK(f.kind == "file");
  CHECK(f.name == "/etc/motd");
  CHECK(f.params == json({{"state", "exists"},
                          {"content", "hello\n"},
                          {"mode", "0640"},
                          {"owner", "root"},
                          {"group", "adm"}}));
  CHECK(f.meta == json::object());
  CHECK(f.origin == "site.pp line 3");
  CHECK(t.graph.edges.empty());
  check_all_native(t.graph);
}

TEST_CASE("puppet: file ensure directory, link, a link path, absent and a local source",
          "[puppet][translate]") {
  auto t = translated(
      Catalog()
          .add(resource("File", "/srv/www", {{"ensure", "directory"}, {"mode", "0755"}}, 1))
          .add(resource("File", "/srv/data/",
                        {{"ensure", "directory"}, {"force", true}, {"source", "/srv/seed"}}, 2))
          .add(resource("File", "/etc/alt", {{"ensure", "link"}, {"target", "/etc/real"}}, 3))
          .add(resource("File", "/etc/alt2", {{"ensure", "/etc/real2"}}, 4))
          .add(resource("File", "/etc/gone", {{"ensure", "absent"}, {"content", "old"}}, 5))
          .add(resource("File", "/etc/copy", {{"source", "file:///srv/orig"}}, 6))
          .add(resource("File", "motd", {{"path", "/etc/issue"}, {"ensure", "present"}}, 7))
          .get());
  CHECK(t.notes.empty());
  REQUIRE(t.graph.resources.size() == 7);
  CHECK(vertex(t.graph, "file", "/srv/www/").params ==
        json({{"state", "exists"}, {"mode", "0755"}}));
  // A directory's source without recurse: puppet manages the directory, not its files.
  CHECK(vertex(t.graph, "file", "/srv/data/").params ==
        json({{"state", "exists"}, {"force", true}}));
  CHECK(vertex(t.graph, "file", "/etc/alt").params ==
        json({{"state", "exists"}, {"symlink", true}, {"source", "/etc/real"}}));
  CHECK(vertex(t.graph, "file", "/etc/alt2").params ==
        json({{"state", "exists"}, {"symlink", true}, {"source", "/etc/real2"}}));
  // ensure => absent with content left over (ensure => $x ? ...): puppet removes the file.
  CHECK(vertex(t.graph, "file", "/etc/gone").params == json({{"state", "absent"}}));
  CHECK(vertex(t.graph, "file", "/etc/copy").params ==
        json({{"state", "exists"}, {"source", "/srv/orig"}}));
  CHECK(vertex(t.graph, "file", "/etc/issue").params == json({{"state", "exists"}}));
  CHECK(vertex(t.graph, "file", "/etc/issue").origin == "site.pp line 7");
  check_all_native(t.graph);
}

TEST_CASE("puppet: an exec with its guards, path, environment and refreshonly",
          "[puppet][translate]") {
  auto t = translated(Catalog()
                          .add(resource("Exec", "reload app",
                                        {{"command", "service app reload"},
                                         {"onlyif", {"test -f /etc/app.conf", "pidof app"}},
                                         {"unless", {"test -f /run/a", "test -f /run/b"}},
                                         {"path", {"/usr/sbin", "/usr/bin", "/bin"}},
                                         {"environment", {"LANG=C", "OPTS=a=b"}},
                                         {"cwd", "/tmp"},
                                         {"creates", "/run/app.done"},
                                         {"timeout", "30"},
                                         {"refreshonly", true},
                                         {"logoutput", "on_failure"},
                                         {"returns", 0}},
                                        9))
                          .add(resource("Exec", "/bin/true", {{"onlyif", "test -d /tmp"}}, 10))
                          .get());
  CHECK(t.notes.empty());
  REQUIRE(t.graph.resources.size() == 2);
  const auto& e = vertex(t.graph, "exec", "reload app");
  CHECK(e.params == json({{"cmd", "service app reload"},
                          {"shell", "/bin/sh"},
                          {"env", {{"PATH", "/usr/sbin:/usr/bin:/bin"},
                                   {"LANG", "C"},
                                   {"OPTS", "a=b"}}},
                          {"cwd", "/tmp"},
                          {"creates", "/run/app.done"},
                          {"timeout", 30},
                          {"ifcmd", "(test -f /etc/app.conf\n) && (pidof app\n)"},
                          {"ifshell", "/bin/sh"},
                          {"nifcmd", "(test -f /run/a\n) || (test -f /run/b\n)"},
                          {"nifshell", "/bin/sh"},
                          {"refresh_only", true}}));
  CHECK(e.origin == "site.pp line 9");
  // No command: the title is the command.
  CHECK(vertex(t.graph, "exec", "/bin/true").params ==
        json({{"cmd", "/bin/true"},
              {"shell", "/bin/sh"},
              {"ifcmd", "test -d /tmp"},
              {"ifshell", "/bin/sh"}}));
  check_all_native(t.graph);
}

// Puppet runs an exec only if every onlyif command succeeds and every unless command fails.
TEST_CASE("puppet: exec onlyif and unless lists decide as puppet decides", "[puppet][translate]") {
  auto runs = [](json onlyif, json unless) {
    json params = {{"command", "false"}};
    if (!onlyif.is_null()) params["onlyif"] = std::move(onlyif);
    if (!unless.is_null()) params["unless"] = std::move(unless);
    auto t = translated(Catalog().add(resource("Exec", "guarded", params, 1)).get());
    REQUIRE(t.graph.resources.size() == 1);
    auto exec = mgmt::agent::resources::find_kind("exec")->make();
    REQUIRE(exec->configure(t.graph.resources[0]));
    auto in_state = exec->check_apply(false);  // runs the guards, never the command
    REQUIRE(in_state);
    return !*in_state;
  };
  CHECK(runs({"true", "true"}, nullptr));
  CHECK_FALSE(runs({"true", "false"}, nullptr));
  CHECK_FALSE(runs({"false", "true"}, nullptr));
  CHECK(runs(nullptr, {"false", "false"}));
  CHECK_FALSE(runs(nullptr, {"true", "false"}));
  CHECK_FALSE(runs(nullptr, {"false", "true"}));
  CHECK(runs({"true"}, {"false"}));
  CHECK_FALSE(runs({"true"}, {"true"}));
}

TEST_CASE("puppet: notify, package, service, user and group are native", "[puppet][translate]") {
  auto t = translated(
      Catalog()
          .add(resource("Notify", "hi", {{"message", "hello there"}}, 1))
          .add(resource("Notify", "just the title", {}, 2))
          .add(resource("Package", "vim", {{"ensure", "latest"}}, 3))
          .add(resource("Package", "nano", {{"ensure", "absent"}}, 4))
          .add(resource("Package", "editor", {{"name", "emacs"}, {"ensure", "purged"}}, 5))
          .add(resource("Package", "ed", {{"ensure", "installed"}, {"provider", "apt"}}, 6))
          .add(resource("Package", "curl", {}, 7))
          .add(resource("Service", "ssh", {{"ensure", "running"}, {"enable", true}}, 8))
          .add(resource("Service", "cron", {{"ensure", "stopped"}, {"enable", "false"}}, 9))
          .add(resource("User", "alice",
                        {{"ensure", "present"},
                         {"uid", 1001},
                         {"gid", "staff"},
                         {"home", "/home/alice"},
                         {"shell", "/bin/bash"}},
                        10))
          .add(resource("User", "bob", {{"ensure", "absent"}, {"gid", "100"}}, 11))
          .add(resource("Group", "staff", {{"ensure", "present"}, {"gid", 50}}, 12))
          .get());
  CHECK(t.notes.empty());
  REQUIRE(t.graph.resources.size() == 12);
  CHECK(vertex(t.graph, "msg", "hi").params == json({{"body", "hello there"}}));
  CHECK(vertex(t.graph, "msg", "just the title").params == json({{"body", "just the title"}}));
  CHECK(vertex(t.graph, "pkg", "vim").params == json({{"state", "newest"}}));
  CHECK(vertex(t.graph, "pkg", "nano").params == json({{"state", "uninstalled"}}));
  CHECK(vertex(t.graph, "pkg", "emacs").params == json({{"state", "uninstalled"}}));
  CHECK(vertex(t.graph, "pkg", "emacs").origin == "site.pp line 5");
  CHECK(vertex(t.graph, "pkg", "ed").params == json({{"state", "installed"}}));
  CHECK(vertex(t.graph, "pkg", "curl").params == json({{"state", "installed"}}));
  CHECK(vertex(t.graph, "svc", "ssh").params ==
        json({{"state", "running"}, {"startup", "enabled"}}));
  CHECK(vertex(t.graph, "svc", "cron").params ==
        json({{"state", "stopped"}, {"startup", "disabled"}}));
  CHECK(vertex(t.graph, "user", "alice").params == json({{"state", "exists"},
                                                         {"uid", 1001},
                                                         {"group", "staff"},
                                                         {"homedir", "/home/alice"},
                                                         {"shell", "/bin/bash"}}));
  CHECK(vertex(t.graph, "user", "bob").params == json({{"state", "absent"}, {"gid", 100}}));
  CHECK(vertex(t.graph, "group", "staff").params == json({{"state", "exists"}, {"gid", 50}}));
  check_all_native(t.graph);
}

TEST_CASE("puppet: a directory copied recursively from a source is a native tree copy",
          "[puppet][translate]") {
  auto t = translated(
      Catalog()
          .add(resource("File", "/srv/site",
                        {{"ensure", "directory"},
                         {"recurse", true},
                         {"purge", true},
                         {"source", "/opt/site-src"}},
                        1))
          .add(resource("File", "/srv/remote",
                        {{"ensure", "directory"}, {"recurse", "remote"}, {"source", "/opt/r"}}, 2))
          .add(resource("File", "/srv/owned",
                        {{"ensure", "directory"},
                         {"recurse", true},
                         {"source", "/opt/o"},
                         {"owner", "www-data"}},
                        3))
          .get());
  CHECK(vertex(t.graph, "file", "/srv/site/").params ==
        json({{"state", "exists"}, {"source", "/opt/site-src"}, {"recurse", true},
              {"purge", true}}));
  CHECK(vertex(t.graph, "file", "/srv/remote/").params ==
        json({{"state", "exists"}, {"source", "/opt/r"}, {"recurse", true}}));
  // Puppet would give the whole tree that owner; mgmt's file gives it to the directory only.
  CHECK(t.notes == std::vector<std::string>{applied_by_puppet(
                       "File[/srv/owned]", "recurse => true (natively only a directory copied "
                                           "from a source, without owner, group or mode)")});
  check_all_native(t.graph);
}

TEST_CASE("puppet: a mount mounted or absent is native, its options a map",
          "[puppet][translate]") {
  auto t = translated(
      Catalog()
          .add(resource("Mount", "/mnt/data",
                        {{"ensure", "mounted"},
                         {"device", "/dev/vdb1"},
                         {"fstype", "ext4"},
                         {"options", "defaults,noatime,commit=60"},
                         {"dump", 0},
                         {"pass", "2"},
                         {"atboot", true}},
                        1))
          .add(resource("Mount", "old", {{"name", "/mnt/old"}, {"ensure", "absent"}}, 2))
          .add(resource("Mount", "/mnt/later", {{"ensure", "unmounted"}}, 3))
          .add(resource("Mount", "/mnt/elsewhere",
                        {{"ensure", "mounted"}, {"target", "/etc/other.fstab"}}, 4))
          .get());
  CHECK(vertex(t.graph, "mount", "/mnt/data").params ==
        json({{"state", "exists"},
              {"device", "/dev/vdb1"},
              {"type", "ext4"},
              {"options", {{"noatime", ""}, {"commit", "60"}}},
              {"freq", 0},
              {"passno", 2}}));
  CHECK(vertex(t.graph, "mount", "/mnt/old").params == json({{"state", "absent"}}));
  // In fstab but not mounted, and another fstab, have no native form.
  CHECK(t.notes == std::vector<std::string>{
                       applied_by_puppet("Mount[/mnt/later]",
                                         "ensure => 'unmounted' (only mounted and absent have "
                                         "a native form)"),
                       applied_by_puppet("Mount[/mnt/elsewhere]",
                                         "target => '/etc/other.fstab'")});
  check_all_native(t.graph);
}

TEST_CASE("puppet: noop => true is the noop metaparameter", "[puppet][translate]") {
  auto t = translated(Catalog()
                          .add(resource("Notify", "quiet", {{"noop", true}}, 1))
                          .add(resource("Notify", "loud", {{"noop", false}}, 2))
                          .add(resource("Tidy", "/tmp/x", {{"noop", true}}, 3))
                          .get());
  CHECK(vertex(t.graph, "msg", "quiet").meta == json({{"noop", true}}));
  CHECK(vertex(t.graph, "msg", "quiet").params == json({{"body", "quiet"}}));
  CHECK(vertex(t.graph, "msg", "loud").meta == json::object());
  CHECK(vertex(t.graph, "exec", "Tidy[/tmp/x]").meta == json({{"noop", true}}));
}

// ---- fallbacks -----------------------------------------------------------------------------

TEST_CASE("puppet: a resource mgmt has no kind for is applied by puppet, with a note",
          "[puppet][translate][fallback]") {
  auto t = translated(Catalog()
                          .add(resource("Tidy", "/var/tmp/it's old",
                                        {{"age", "1w"},
                                         {"recurse", true},
                                         {"before", {"File[/etc/motd]"}}},
                                        4))
                          .add(resource("File", "/etc/motd", {{"content", "x"}}, 5))
                          .get(),
                      "/etc/my puppet.conf");
  REQUIRE(t.notes.size() == 1);
  CHECK(t.notes[0] ==
        applied_by_puppet("Tidy[/var/tmp/it's old]", "mgmt has no Tidy resource"));
  REQUIRE(t.graph.resources.size() == 2);
  const auto& e = vertex(t.graph, "exec", "Tidy[/var/tmp/it's old]");
  const std::string apply =
      "puppet apply --detailed-exitcodes --color=false --config '/etc/my puppet.conf' -e "
      R"('tidy { '\''/var/tmp/it\'\''s old'\'': age => '\''1w'\'', recurse => true }')";
  CHECK(e.params == json({{"cmd", apply + "; rc=$?; [ $rc -eq 0 ] || [ $rc -eq 2 ]"},
                          {"shell", "/bin/sh"},
                          {"ifcmd", "out=$(" + apply + " --noop --summarize 2>&1); rc=$?; "
                                    "if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then exit 0; fi; "
                                    "printf '%s\\n' \"$out\" | grep -q "
                                    "'^ *Out of sync: *[1-9]'"},
                          {"ifshell", "/bin/sh"}}));
  CHECK(e.origin == "site.pp line 4");
  // The relationship holds for the fallback as for any resource.
  CHECK(edges_of(t.graph) ==
        std::multiset<std::string>{"exec[Tidy[/var/tmp/it's old]] -> file[/etc/motd]"});
  check_all_native(t.graph);
}

TEST_CASE("puppet: attributes without a native form make a fallback that names them",
          "[puppet][translate][fallback]") {
  auto t = translated(
      Catalog()
          .add(resource("File", "/usr/local/bin/x", {{"ensure", "file"}, {"mode", "u+x"}}, 1))
          .add(resource("Package", "nginx", {{"ensure", "1.18.0-6"}}, 2))
          .add(resource("Exec", "umasked", {{"command", "/bin/true"}, {"umask", "077"}}, 3))
          .add(resource("File", "/srv/tree", {{"ensure", "directory"}, {"recurse", true}}, 4))
          .add(resource("File", "/etc/mod", {{"source", "puppet:///modules/m/f"}}, 5))
          .add(resource("User", "carol", {{"ensure", "present"}, {"managehome", true}}, 6))
          .add(resource("Service", "web", {{"ensure", "running"}, {"provider", "init"}}, 7))
          .add(resource("File", "/etc/only-mode", {{"mode", "0600"}}, 8))
          .get());
  CHECK(t.notes == std::vector<std::string>{
                       applied_by_puppet("File[/usr/local/bin/x]",
                                         "mode => 'u+x' (only octal modes have a native form)"),
                       applied_by_puppet("Package[nginx]", "ensure => '1.18.0-6' (a version)"),
                       applied_by_puppet("Exec[umasked]", "umask => '077' has no native form"),
                       applied_by_puppet("File[/srv/tree]",
                                         "recurse => true (natively only a directory copied "
                                         "from a source, without owner, group or mode)"),
                       applied_by_puppet("File[/etc/mod]", "source => 'puppet:///modules/m/f'"),
                       applied_by_puppet("User[carol]", "managehome => true"),
                       applied_by_puppet("Service[web]", "provider => 'init'"),
                       applied_by_puppet("File[/etc/only-mode]",
                                         "no ensure, content or source: puppet then manages "
                                         "only a file that exists")});
  REQUIRE(t.graph.resources.size() == 8);
  for (const auto& r : t.graph.resources) {
    CHECK(r.kind == "exec");
    CHECK(r.params["cmd"].get<std::string>().rfind("puppet apply ", 0) == 0);
    CHECK(r.params["ifcmd"].get<std::string>().find(" --noop ") != std::string::npos);
  }
  CHECK(vertex(t.graph, "exec", "File[/usr/local/bin/x]").params["cmd"] ==
        "puppet apply --detailed-exitcodes --color=false -e "
        R"('file { '\''/usr/local/bin/x'\'': ensure => '\''file'\'', mode => '\''u+x'\'' }')"
        "; rc=$?; [ $rc -eq 0 ] || [ $rc -eq 2 ]");
  CHECK(vertex(t.graph, "exec", "Package[nginx]").origin == "site.pp line 2");
  check_all_native(t.graph);
}

// The fallback's commands under /bin/sh, with a stand-in for puppet that records its
// arguments: the resource reaches puppet intact, and the exit codes mean what they should.
TEST_CASE("puppet: the fallback's commands run puppet apply as the shell reads them",
          "[puppet][translate][fallback]") {
  auto t = translated(
      Catalog().add(resource("Tidy", "/var/tmp/it's \\old", {{"age", "1w"}}, 1)).get(),
      "/etc/my puppet.conf");
  const auto& e = vertex(t.graph, "exec", "Tidy[/var/tmp/it's \\old]");
  mgmt::test::TempDir dir;
  const auto args_file = std::filesystem::path(dir.path()) / "args";
  {
    std::ofstream fake(dir.path() + "/puppet");
    fake << "#!/bin/sh\n"
            "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$FAKE_ARGS\"\n"
            "printf 'Notice: Applied catalog\\nResources:\\n      Out of sync: %s\\n"
            "            Total: 8\\nTime:\\n' \"$FAKE_OUT_OF_SYNC\"\n"
            "exit \"$FAKE_RC\"\n";
  }
  std::filesystem::permissions(dir.path() + "/puppet", std::filesystem::perms::owner_all);
  auto run = [&](const std::string& cmd, const std::string& out_of_sync, int rc) {
    return sh(cmd, {{"PATH", dir.path() + ":/usr/bin:/bin"},
                    {"FAKE_ARGS", args_file.string()},
                    {"FAKE_OUT_OF_SYNC", out_of_sync},
                    {"FAKE_RC", std::to_string(rc)}})
        .exit_code;
  };
  auto args = [&] {
    std::ifstream in(args_file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  };
  const std::string ifcmd = e.params["ifcmd"];
  const std::string cmd = e.params["cmd"];
  // puppet apply --noop exits 0 whether or not something would change: the summary decides.
  CHECK(run(ifcmd, "1", 0) == 0);
  CHECK(run(ifcmd, "12", 0) == 0);
  CHECK(run(ifcmd, "0", 0) != 0);
  // A check that fails lets the apply run, which fails and says why (not a silent skip).
  CHECK(run(ifcmd, "0", 1) == 0);
  CHECK(run(ifcmd, "0", 4) == 0);
  CHECK(args() == std::vector<std::string>{"apply", "--detailed-exitcodes", "--color=false",
                                           "--config", "/etc/my puppet.conf", "-e",
                                           R"(tidy { '/var/tmp/it\'s \\old': age => '1w' })",
                                           "--noop", "--summarize"});
  CHECK(run(cmd, "0", 0) == 0);  // nothing changed
  CHECK(run(cmd, "1", 2) == 0);  // changed
  CHECK(run(cmd, "1", 4) != 0);  // failed
  CHECK(run(cmd, "1", 6) != 0);  // changed and failed
  CHECK(args() == std::vector<std::string>{"apply", "--detailed-exitcodes", "--color=false",
                                           "--config", "/etc/my puppet.conf", "-e",
                                           R"(tidy { '/var/tmp/it\'s \\old': age => '1w' })"});
}

// ---- relationships and containers ----------------------------------------------------------

TEST_CASE("puppet: relationships with a class hold for every resource it contains",
          "[puppet][translate][edges]") {
  Catalog c;
  c.add_class(klass("Web", {{"before", {"Class[Db]"}}}))
      .add(resource("File", "/etc/web.conf", {{"content", "port=80"}}, 3), "Class[Web]")
      .add(resource("Exec", "web-reload", {{"command", "/bin/true"}}, 4), "Class[Web]")
      .add_class(klass("Db"))
      .add(resource("Service", "postgresql", {{"ensure", "running"}}, 8), "Class[Db]")
      .add(resource("Notify", "after web", {{"require", "Class[Web]"}}, 10))
      .add(resource("Package", "web-tools", {{"subscribe", {"Class[Web]"}}}, 11));
  auto t = translated(c.get());
  CHECK(t.notes.empty());
  CHECK(t.graph.resources.size() == 5);  // classes are not vertices
  CHECK(edges_of(t.graph) == std::multiset<std::string>{
                                 "file[/etc/web.conf] -> svc[postgresql]",
                                 "exec[web-reload] -> svc[postgresql]",
                                 "file[/etc/web.conf] -> msg[after web]",
                                 "exec[web-reload] -> msg[after web]",
                                 "file[/etc/web.conf] ~> pkg[web-tools]",
                                 "exec[web-reload] ~> pkg[web-tools]",
                             });
  check_all_native(t.graph);
}

TEST_CASE("puppet: notify and subscribe give notify edges, require and before plain ones",
          "[puppet][translate][edges]") {
  auto t = translated(
      Catalog()
          .add(resource("File", "/etc/a", {{"content", "a"}, {"notify", {"Exec[rebuild]"}}}, 1))
          .add(resource("File", "/etc/b", {{"content", "b"}, {"before", "Exec[rebuild]"}}, 2))
          .add(resource("Exec", "rebuild",
                        {{"command", "/bin/true"},
                         {"refreshonly", true},
                         {"require", {"File[/etc/c]"}},
                         {"subscribe", {"File[/etc/d]"}}},
                        3))
          .add(resource("File", "/etc/c", {{"content", "c"}}, 4))
          .add(resource("File", "/etc/d", {{"content", "d"}, {"before", {"Exec[rebuild]"}}}, 5))
          .get());
  CHECK(edges_of(t.graph) == std::multiset<std::string>{
                                 "file[/etc/a] ~> exec[rebuild]",
                                 "file[/etc/b] -> exec[rebuild]",
                                 "file[/etc/c] -> exec[rebuild]",
                                 // before and subscribe between the same two: one notify edge
                                 "file[/etc/d] ~> exec[rebuild]",
                             });
}

TEST_CASE("puppet: relationships reach through defined types and nested classes",
          "[puppet][translate][edges]") {
  Catalog c;
  c.add(defined("Site", "blog", {{"domain", "blog.example"}}, 7))
      .add(defined("Vhost", "blog.example", {{"port", 80}}, 2), "Site[blog]")
      .add(resource("File", "/etc/nginx/blog.conf", {{"content", "server"}}, 3),
           "Vhost[blog.example]")
      .add(resource("Notify", "blog ready", {}, 4), "Site[blog]")
      .add(resource("Service", "nginx", {{"ensure", "running"}, {"subscribe", "Site[blog]"}}, 9))
      .add_class(klass("Outer", {{"require", {"Package[nginx]"}}}))
      .add_class(klass("Inner"))
      .add(resource("Package", "nginx", {{"ensure", "present"}}, 12));
  // Class[Inner] is contained by Class[Outer] (contain inner): nested containers.
  json catalog = c.get();
  catalog["edges"].push_back({{"source", "Class[Outer]"}, {"target", "Class[Inner]"}});
  catalog["resources"].push_back(resource("File", "/etc/inner", {{"content", "i"}}, 14));
  catalog["edges"].push_back({{"source", "Class[Inner]"}, {"target", "File[/etc/inner]"}});
  auto t = translated(catalog);
  CHECK(t.graph.resources.size() == 5);
  CHECK(edges_of(t.graph) == std::multiset<std::string>{
                                 "file[/etc/nginx/blog.conf] ~> svc[nginx]",
                                 "msg[blog ready] ~> svc[nginx]",
                                 "pkg[nginx] -> file[/etc/inner]",
                             });
}

TEST_CASE("puppet: an empty class in a relationship is a noop named in lower case",
          "[puppet][translate][edges]") {
  Catalog c;
  c.add_class(klass("Mgmt_ready"))
      .add_class(klass("App", {{"require", {"Class[Mgmt_ready]"}}}))
      .add(resource("File", "/etc/app", {{"content", "a"}}, 3), "Class[App]")
      .add(resource("Exec", "app-init", {{"command", "/bin/true"}}, 4), "Class[App]")
      .add_class(klass("Mgmt_done", {{"subscribe", "Class[App]"}}))
      .add_class(klass("Unused"))  // empty and in no relationship: no vertex
      .add(defined("Marker", "m", {{"before", "Notify[n]"}}, 6))
      .add(resource("Notify", "n", {}, 7));
  auto t = translated(c.get());
  REQUIRE(t.graph.resources.size() == 6);
  const auto& ready = vertex(t.graph, "noop", "mgmt_ready");
  CHECK(ready.params == json::object());
  CHECK(ready.origin == "site.pp");
  vertex(t.graph, "noop", "mgmt_done");
  vertex(t.graph, "noop", "Marker[m]");  // an empty defined type keeps its reference
  CHECK(edges_of(t.graph) == std::multiset<std::string>{
                                 "noop[mgmt_ready] -> file[/etc/app]",
                                 "noop[mgmt_ready] -> exec[app-init]",
                                 "file[/etc/app] ~> noop[mgmt_done]",
                                 "exec[app-init] ~> noop[mgmt_done]",
                                 "noop[Marker[m]] -> msg[n]",
                             });
  check_all_native(t.graph);
}

TEST_CASE("puppet: a relationship may name a resource by its name attribute",
          "[puppet][translate][edges]") {
  auto t = translated(
      Catalog()
          .add(resource("Package", "editor", {{"name", "emacs"}, {"ensure", "present"}}, 1))
          .add(resource("Notify", "after", {{"require", {"Package[emacs]"}}}, 2))
          .get());
  CHECK(edges_of(t.graph) == std::multiset<std::string>{"pkg[emacs] -> msg[after]"});
}

TEST_CASE("puppet: exported resources are not applied here", "[puppet][translate]") {
  json exported = resource("File", "/etc/exported", {{"content", "e"}, {"before", "Notify[n]"}}, 2);
  exported["exported"] = true;
  json exported_in_class = resource("Host", "db.example", {{"ip", "10.0.0.2"}}, 4);
  exported_in_class["exported"] = true;
  Catalog c;
  c.add(std::move(exported))
      .add(resource("Notify", "n", {}, 3))
      .add_class(klass("Hosts", {{"before", "Notify[n]"}}))
      .add(std::move(exported_in_class), "Class[Hosts]")
      .add(resource("File", "/etc/hosts.d", {{"ensure", "directory"}}, 5), "Class[Hosts]");
  auto t = translated(c.get());
  CHECK(t.notes.empty());
  REQUIRE(t.graph.resources.size() == 2);
  vertex(t.graph, "msg", "n");
  vertex(t.graph, "file", "/etc/hosts.d/");
  CHECK(edges_of(t.graph) == std::multiset<std::string>{"file[/etc/hosts.d/] -> msg[n]"});
}

// ---- errors --------------------------------------------------------------------------------

TEST_CASE("puppet: a relationship with a resource the catalog lacks names it",
          "[puppet][translate][errors]") {
  CHECK(error_of(Catalog()
                     .add(resource("Notify", "hi", {{"require", {"File[/etc/nope]"}}}, 1))
                     .get()) ==
        "site.pp: Notify[hi] has require => File['/etc/nope'], which this catalog does not "
        "have; declare it or drop the relationship");
  CHECK(error_of(Catalog()
                     .add_class(klass("Web", {{"before", "Class[Db]"}}))
                     .get()) ==
        "site.pp: Class[Web] has before => Class['Db'], which this catalog does not have; "
        "declare it or drop the relationship");
}

TEST_CASE("puppet: two resources managing one thing, and catalogs that are not one",
          "[puppet][translate][errors]") {
  CHECK(error_of(Catalog()
                     .add(resource("Package", "vim", {}, 1))
                     .add(resource("Package", "editor", {{"name", "vim"}}, 2))
                     .get()) ==
        "site.pp: Package[editor] and another resource both manage pkg[vim]; keep one of them");
  CHECK(error_of(json::array()) == "site.pp: puppet's catalog has no resource list");
  CHECK(error_of(json({{"resources", {{{"type", "File"}}}}})) ==
        "site.pp: puppet's catalog has a resource without a type or title");
}

// ---- Puppet and shell syntax ---------------------------------------------------------------

TEST_CASE("puppet: values as Puppet literals", "[puppet][syntax]") {
  CHECK(puppet_literal("plain") == "'plain'");
  CHECK(puppet_literal(R"(it's a \ path)") == R"('it\'s a \\ path')");
  CHECK(puppet_literal(nullptr) == "undef");
  CHECK(puppet_literal(true) == "true");
  CHECK(puppet_literal(42) == "42");
  CHECK(puppet_literal(json::array({1, "a", false, nullptr})) == "[1, 'a', false, undef]");
  CHECK(puppet_literal(json::array()) == "[]");
  CHECK(puppet_literal(json({{"key's", {"x"}}, {"n", {{"m", 2}}}})) ==
        R"({'key\'s' => ['x'], 'n' => {'m' => 2}})");
  CHECK(puppet_literal(json::object()) == "{}");
}

TEST_CASE("puppet: a catalog resource written back as Puppet code", "[puppet][syntax]") {
  CHECK(puppet_resource({{"type", "Ssh_authorized_key"},
                         {"title", "alice@laptop"},
                         {"parameters",
                          {{"user", "alice"},
                           {"key", "AAAA"},
                           {"require", {"User[alice]"}},
                           {"before", "File[/x]"},
                           {"notify", "Exec[y]"},
                           {"subscribe", "Exec[z]"},
                           {"options", {"no-pty"}}}}}) ==
        "ssh_authorized_key { 'alice@laptop': key => 'AAAA', options => ['no-pty'], "
        "user => 'alice' }");
  CHECK(puppet_resource({{"type", "Tidy"}, {"title", "/tmp/it's"}}) == R"(tidy { '/tmp/it\'s': })");
}

TEST_CASE("puppet: words quoted for the shell come back as they were", "[puppet][syntax]") {
  CHECK(sh_quote("plain") == "'plain'");
  CHECK(sh_quote("it's") == R"('it'\''s')");
  CHECK(sh_quote("") == "''");
  for (const std::string word : {"it's", "$HOME `id` \"x\" \\n *", "", "''", "a\nb"}) {
    auto out = sh("printf '%s' " + sh_quote(word));
    CHECK(out.exit_code == 0);
    CHECK(out.output == word);
  }
}

// ---- langpuppet ----------------------------------------------------------------------------

namespace {

ResourceSpec spec(const std::string& kind, const std::string& name, const std::string& origin,
                  json params = json::object()) {
  return ResourceSpec{kind, name, std::move(params), json::object(), origin};
}

EdgeSpec edge(const std::string& from_kind, const std::string& from_name,
              const std::string& to_kind, const std::string& to_name, bool notify = false) {
  EdgeSpec e;
  e.from_kind = from_kind;
  e.from_name = from_name;
  e.to_kind = to_kind;
  e.to_name = to_name;
  e.notify = notify;
  return e;
}

}  // namespace

TEST_CASE("langpuppet: puppet_x and mgmt_x become one noop x with the edges of both",
          "[puppet][langpuppet]") {
  GraphSpec lang;
  lang.name = "site";
  lang.resources = {spec("file", "/etc/app.conf", "main.mcl @ 3:1", {{"content", "x"}}),
                    spec("noop", "puppet_db", "main.mcl @ 7:1"),
                    spec("noop", "puppet_after", "main.mcl @ 8:1"),
                    spec("print", "done", "main.mcl @ 9:1")};
  lang.edges = {edge("file", "/etc/app.conf", "noop", "puppet_db"),
                edge("noop", "puppet_after", "print", "done", true)};
  GraphSpec puppet;
  puppet.resources = {spec("noop", "mgmt_db", "site.pp"),
                      spec("svc", "postgresql", "site.pp line 4", {{"state", "running"}}),
                      spec("noop", "mgmt_after", "site.pp")};
  puppet.edges = {edge("noop", "mgmt_db", "svc", "postgresql", true),
                  edge("svc", "postgresql", "noop", "mgmt_after")};
  std::vector<std::string> notes;
  auto merged = merge_langpuppet(lang, puppet, &notes);
  INFO((merged ? std::string() : merged.error().message()));
  REQUIRE(merged);
  CHECK(notes.empty());
  CHECK(merged->name == "site");
  CHECK(merged->resources ==
        std::vector<ResourceSpec>{
            spec("file", "/etc/app.conf", "main.mcl @ 3:1", {{"content", "x"}}),
            spec("noop", "db", "main.mcl @ 7:1"), spec("noop", "after", "main.mcl @ 8:1"),
            spec("print", "done", "main.mcl @ 9:1"),
            spec("svc", "postgresql", "site.pp line 4", {{"state", "running"}})});
  CHECK(edges_of(*merged) == std::multiset<std::string>{
                                 "file[/etc/app.conf] -> noop[db]",
                                 "noop[after] ~> print[done]",
                                 "noop[db] ~> svc[postgresql]",
                                 "svc[postgresql] -> noop[after]",
                             });
}

TEST_CASE("langpuppet: a point ordered by both sides keeps one edge, notifying if either does",
          "[puppet][langpuppet]") {
  GraphSpec lang;
  lang.resources = {spec("noop", "puppet_a", "main.mcl @ 1:1"),
                    spec("noop", "puppet_b", "main.mcl @ 2:1")};
  lang.edges = {edge("noop", "puppet_a", "noop", "puppet_b")};
  GraphSpec puppet;
  puppet.resources = {spec("noop", "mgmt_a", "site.pp"), spec("noop", "mgmt_b", "site.pp")};
  puppet.edges = {edge("noop", "mgmt_a", "noop", "mgmt_b", true)};
  auto merged = merge_langpuppet(lang, puppet, nullptr);
  REQUIRE(merged);
  CHECK(merged->resources.size() == 2);
  CHECK(edges_of(*merged) == std::multiset<std::string>{"noop[a] ~> noop[b]"});
}

TEST_CASE("langpuppet: a hand-over point without its other half is kept and noted",
          "[puppet][langpuppet]") {
  GraphSpec lang;
  lang.resources = {spec("noop", "puppet_web", "main.mcl @ 1:1"),
                    spec("noop", "puppet_", "main.mcl @ 2:1"),  // no name after the prefix
                    spec("file", "/etc/a", "main.mcl @ 3:1")};
  lang.edges = {edge("noop", "puppet_web", "file", "/etc/a")};
  GraphSpec puppet;
  puppet.resources = {spec("noop", "mgmt_cache", "site.pp"), spec("msg", "m", "site.pp line 2")};
  puppet.edges = {edge("noop", "mgmt_cache", "msg", "m")};
  std::vector<std::string> notes;
  auto merged = merge_langpuppet(lang, puppet, &notes);
  REQUIRE(merged);
  CHECK(notes == std::vector<std::string>{
                     "noop[puppet_web] has no `class mgmt_web {}` on the puppet side: nothing "
                     "is merged there",
                     "class mgmt_cache has no noop \"puppet_cache\" on the mcl side: nothing is "
                     "merged there"});
  REQUIRE(merged->resources.size() == 5);
  vertex(*merged, "noop", "puppet_web");
  vertex(*merged, "noop", "puppet_");
  vertex(*merged, "noop", "mgmt_cache");
  CHECK(edges_of(*merged) == std::multiset<std::string>{"noop[puppet_web] -> file[/etc/a]",
                                                        "noop[mgmt_cache] -> msg[m]"});
}

TEST_CASE("langpuppet: one resource on both sides is refused, naming both origins",
          "[puppet][langpuppet]") {
  GraphSpec lang;
  lang.resources = {spec("file", "/etc/motd", "main.mcl @ 3:1")};
  GraphSpec puppet;
  puppet.resources = {spec("file", "/etc/motd", "site.pp line 2")};
  auto merged = merge_langpuppet(lang, puppet, nullptr);
  REQUIRE_FALSE(merged);
  CHECK(merged.error().code() == mgmt::Code::invalid_argument);
  CHECK(merged.error().message() ==
        "file[/etc/motd] is declared twice (mcl main.mcl @ 3:1, and puppet site.pp line 2); "
        "keep one of them (a hand-over point's merged noop takes the name after its prefix)");
}

TEST_CASE("langpuppet: a noop named like a merged hand-over point is refused, not merged",
          "[puppet][langpuppet]") {
  GraphSpec lang;
  lang.resources = {spec("noop", "ready", "main.mcl @ 1:1"),
                    spec("noop", "puppet_ready", "main.mcl @ 2:1")};
  GraphSpec puppet;
  puppet.resources = {spec("noop", "mgmt_ready", "site.pp")};
  auto merged = merge_langpuppet(lang, puppet, nullptr);
  REQUIRE_FALSE(merged);
  CHECK(merged.error().message() ==
        "noop[ready] is declared twice (mcl main.mcl @ 1:1, and mcl main.mcl @ 2:1); keep one of "
        "them (a hand-over point's merged noop takes the name after its prefix)");
}

TEST_CASE("langpuppet: a translated catalog's empty class mgmt_x meets the mcl noop",
          "[puppet][langpuppet][translate]") {
  Catalog c;
  c.add_class(klass("Mgmt_db", {{"before", "Class[Db]"}}))
      .add_class(klass("Db"))
      .add(resource("Service", "postgresql", {{"ensure", "running"}}, 5), "Class[Db]");
  auto t = translated(c.get());
  GraphSpec lang;
  lang.resources = {spec("pkg", "postgresql", "main.mcl @ 1:1", {{"state", "installed"}}),
                    spec("noop", "puppet_db", "main.mcl @ 2:1")};
  lang.edges = {edge("pkg", "postgresql", "noop", "puppet_db")};
  std::vector<std::string> notes;
  auto merged = merge_langpuppet(lang, t.graph, &notes);
  REQUIRE(merged);
  CHECK(notes.empty());
  CHECK(merged->resources.size() == 3);
  CHECK(edges_of(*merged) == std::multiset<std::string>{"pkg[postgresql] -> noop[db]",
                                                        "noop[db] -> svc[postgresql]"});
}

// The catalog comes from whatever puppet the agent has: no field's type is taken on trust (the
// catalog fuzzer found `"exported": 1` throwing out of the translation).
TEST_CASE("puppet: catalog fields of an unexpected type are read, not trusted",
          "[puppet][translate]") {
  const json catalog = {
      {"resources",
       json::array({{{"type", "File"}, {"title", "/etc/a"}, {"kind", 5}, {"exported", 1},
                     {"file", 7}, {"line", 3}, {"parameters", {{"content", "a"}}}},
                    {{"type", "Notify"}, {"title", "n"}, {"parameters", "not a map"}},
                    {{"type", "Exec"}, {"title", "e"}, {"kind", "compilable_type"},
                     {"parameters", {{"command", "/bin/true"}, {"timeout", 1e300}}}}})},
      {"edges", json::array({"Class[main]", 5, {{"source", 1}, {"target", "File[/etc/a]"}}})}};
  auto t = translated(catalog);
  REQUIRE(t.graph.resources.size() == 3);
  // "exported" other than true: applied here; "file" not text: the manifest's name.
  CHECK(vertex(t.graph, "file", "/etc/a").origin == "site.pp line 3");
  CHECK(vertex(t.graph, "msg", "n").params == json({{"body", "n"}}));
  // A timeout no integer holds has no native form: puppet applies that exec itself.
  CHECK(vertex(t.graph, "exec", "Exec[e]").params["cmd"].get<std::string>().rfind(
            "puppet apply ", 0) == 0);
  CHECK(t.graph.edges.empty());
}

// Found by the catalog fuzzer: a container listed twice made two noops of one name.
TEST_CASE("puppet: a catalog that names one resource twice is refused", "[puppet][translate]") {
  Catalog c;
  c.add_class(klass("Web", {{"before", {"Notify[n]"}}}))
      .add_class(klass("Web", {{"before", {"Notify[n]"}}}))
      .add(resource("Notify", "n", {}, 3));
  CHECK(error_of(c.get()) == "site.pp: puppet's catalog names Class[Web] twice; check the "
                             "puppet package");
}
