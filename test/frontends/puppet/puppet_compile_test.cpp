// puppet_compile_test.cpp: the puppet frontend with the installed puppet (Debian's `puppet`):
// a manifest compiled and translated end to end (a file, an exec, notifies, a class from the
// modules/ beside it, relationships through classes, an empty class as a hand-over noop,
// puppet's warnings, runinterval from a puppet.conf) and its fallback applied by puppet for
// real; the errors a user sees (a syntax error, fail(), an unknown resource type); and
// `puppet parser validate` on good and bad code. About nine puppet runs of 1 to 2 s each.
#include "frontends/puppet/catalog_compiler.h"
#include "frontends/puppet/puppet_graph.h"
#include "test/frontends/puppet/graph_queries.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include "agent/resources/registry.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

using mgmt::test::puppet::edges_of;
using mgmt::test::puppet::vertex;

namespace {

namespace fs = std::filesystem;
using mgmt::frontends::GraphSpec;
using mgmt::frontends::ResourceSpec;
using mgmt::frontends::puppet::compile_puppet_graph;
using mgmt::frontends::puppet::PuppetCode;
using mgmt::frontends::puppet::validate_syntax;
using mgmt::test::slurp;
using mgmt::test::TempDir;
using nlohmann::json;

// Writes `text` to `relative` under `dir` (making its directories); returns the file's path.
std::string write_in(const TempDir& dir, const std::string& relative, const std::string& text) {
  const fs::path p = fs::path(dir.path()) / relative;
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  return p.string();
}


// The error of a compile that must fail: one line, invalid_argument.
std::string compile_error(const PuppetCode& code) {
  auto g = compile_puppet_graph(code);
  REQUIRE_FALSE(g);
  CHECK(g.error().code() == mgmt::Code::invalid_argument);
  CHECK(g.error().message().find('\n') == std::string::npos);
  return g.error().message();
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("puppet compile: a manifest with a module, classes and relationships as a graph",
          "[puppet][compile]") {
  TempDir dir;
  const std::string d = dir.path();
  write_in(dir, "modules/greeter/manifests/init.pp",
                "class greeter {\n  notify { 'from a module': }\n}\n");
  // Puppet's state (reports, caches) stays in the temporary directory, for the fallback too.
  const std::string conf =
      write_in(dir, "puppet.conf", "[main]\nruninterval = 10m\nvardir = " + d +
                                       "/var\nlogdir = " + d + "/var/log\nrundir = " + d +
                                       "/var/run\n");
  const std::string manifest = write_in(dir, "site.pp", R"(class mgmt_ready {}
class app {
  file { ')" + d + R"(/app.conf': content => "port=80\n", mode => '640' }
  exec { 'reload-app':
    command     => '/bin/true',
    refreshonly => true,
    subscribe   => File[')" + d + R"(/app.conf'],
  }
}
include mgmt_ready
include app
include greeter
Class['mgmt_ready'] -> Class['app']
notify { 'hello': message => "kernel ${facts['kernel']}", require => Class['app'] }
file { ')" + d + R"(/by-puppet': content => "by puppet\n", mode => 'u=rw,go=r' }
warning('check the port')
)");
  PuppetCode code;
  code.manifest = manifest;
  code.puppet_conf = conf;  // modules: the modules/ beside the manifest; name: site.pp
  auto compiled = compile_puppet_graph(code);
  INFO((compiled ? std::string() : compiled.error().message()));
  REQUIRE(compiled);
  const GraphSpec& g = compiled->graph;
  CHECK(compiled->runinterval == 600);

  REQUIRE(g.resources.size() == 6);
  const auto& conf_file = vertex(g, "file", d + "/app.conf");
  CHECK(conf_file.params ==
        json({{"state", "exists"}, {"content", "port=80\n"}, {"mode", "0640"}}));
  CHECK(conf_file.origin == "site.pp line 3");
  const auto& reload = vertex(g, "exec", "reload-app");
  CHECK(reload.params ==
        json({{"cmd", "/bin/true"}, {"shell", "/bin/sh"}, {"refresh_only", true}}));
  CHECK(reload.origin == "site.pp line 4");
  CHECK(vertex(g, "msg", "hello").params == json({{"body", "kernel Linux"}}));
  CHECK(vertex(g, "msg", "hello").origin == "site.pp line 14");
  CHECK(vertex(g, "msg", "from a module").params == json({{"body", "from a module"}}));
  // A module's resource names the module's own file.
  CHECK(vertex(g, "msg", "from a module").origin ==
        d + "/modules/greeter/manifests/init.pp line 2");
  CHECK(vertex(g, "noop", "mgmt_ready").params == json::object());
  const std::string fallback_name = "File[" + d + "/by-puppet]";
  const auto& fallback = vertex(g, "exec", fallback_name);
  CHECK(edges_of(g) == std::multiset<std::string>{
                           "file[" + d + "/app.conf] ~> exec[reload-app]",
                           "noop[mgmt_ready] -> file[" + d + "/app.conf]",
                           "noop[mgmt_ready] -> exec[reload-app]",
                           "file[" + d + "/app.conf] -> msg[hello]",
                           "exec[reload-app] -> msg[hello]",
                       });
  // Puppet's warnings, then the resource puppet applies itself (facter may warn too here).
  std::vector<std::string> ours;
  bool warned = false;
  for (const auto& note : compiled->notes) {
    if (note == "puppet: Scope(Class[main]): check the port") warned = true;
    if (!starts_with(note, "puppet: ")) ours.push_back(note);
  }
  CHECK(warned);
  CHECK(ours == std::vector<std::string>{
                    fallback_name +
                    " is applied by puppet itself (`puppet apply` of that resource): mode => "
                    "'u=rw,go=r' (only octal modes have a native form)"});

  // The fallback, as the engine runs it: puppet applies it once, then finds nothing to do.
  const fs::path applied = fs::path(dir.path()) / "by-puppet";
  REQUIRE_FALSE(fs::exists(applied));
  const auto* exec_kind = mgmt::agent::resources::find_kind("exec");
  REQUIRE(exec_kind != nullptr);
  REQUIRE(mgmt::agent::resources::check_spec(fallback));
  auto first = exec_kind->make();
  REQUIRE(first->configure(fallback));
  auto changed = first->check_apply(true);
  INFO((changed ? std::string() : changed.error().message()));
  REQUIRE(changed);
  CHECK_FALSE(*changed);  // it was not in its state: puppet applied it
  CHECK(slurp(applied.string()) == "by puppet\n");
  CHECK((fs::status(applied).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
         fs::perms::others_read));
  auto again = exec_kind->make();
  REQUIRE(again->configure(fallback));
  auto in_state = again->check_apply(false);
  REQUIRE(in_state);
  CHECK(*in_state);  // puppet --noop finds nothing to change
}

TEST_CASE("puppet compile: a type from the deploy's own modules is applied by puppet with them",
          "[puppet][compile]") {
  TempDir dir;
  const std::string d = dir.path();
  // A custom type with its provider, as stdlib's file_line or inifile's ini_setting come.
  write_in(dir, "modules/marker/lib/puppet/type/mgmt_marker.rb",
                "Puppet::Type.newtype(:mgmt_marker) do\n  ensurable\n"
                "  newparam(:path, namevar: true)\nend\n");
  write_in(dir, "modules/marker/lib/puppet/provider/mgmt_marker/touch.rb",
                "Puppet::Type.type(:mgmt_marker).provide(:touch) do\n"
                "  def exists?; File.exist?(resource[:path]); end\n"
                "  def create; File.write(resource[:path], \"marked\\n\"); end\n"
                "  def destroy; File.delete(resource[:path]); end\nend\n");
  // Puppet's state (reports, caches) stays in the temporary directory.
  PuppetCode code;
  code.puppet_conf =
      write_in(dir, "puppet.conf", "[main]\nvardir = " + d + "/var\nlogdir = " + d +
                                       "/var/log\nrundir = " + d + "/var/run\n");
  code.manifest =
      write_in(dir, "site.pp", "mgmt_marker { '" + d + "/marked': ensure => present }\n");
  auto compiled = compile_puppet_graph(code);
  INFO((compiled ? std::string() : compiled.error().message()));
  REQUIRE(compiled);
  const auto& fallback = vertex(compiled->graph, "exec", "Mgmt_marker[" + d + "/marked]");
  const auto* exec_kind = mgmt::agent::resources::find_kind("exec");
  REQUIRE(exec_kind != nullptr);
  auto exec = exec_kind->make();
  REQUIRE(exec->configure(fallback));
  auto applied = exec->check_apply(true);
  INFO((applied ? std::string() : applied.error().message()));
  REQUIRE(applied);
  CHECK_FALSE(*applied);
  CHECK(slurp(dir.path() + "/marked") == "marked\n");
}

TEST_CASE("puppet compile: a hiera.yaml beside the manifest gives lookup() the deploy's data",
          "[puppet][compile]") {
  TempDir dir;
  write_in(dir, "hiera.yaml",
                "---\nversion: 5\ndefaults:\n  datadir: data\n  data_hash: yaml_data\n"
                "hierarchy:\n  - name: common\n    path: common.yaml\n");
  write_in(dir, "data/common.yaml", "---\ngreeting: 'hello from the data'\n");
  PuppetCode code;
  code.manifest = write_in(dir, "site.pp", "notify { 'greet': message => lookup('greeting') }\n");
  auto compiled = compile_puppet_graph(code);
  INFO((compiled ? std::string() : compiled.error().message()));
  REQUIRE(compiled);
  CHECK(vertex(compiled->graph, "msg", "greet").params == json({{"body", "hello from the data"}}));
}

TEST_CASE("puppet compile: a file served from a module is copied from that module's files",
          "[puppet][compile]") {
  TempDir dir;
  const std::string d = dir.path();
  write_in(dir, "modules/web/files/index.html", "served\n");
  write_in(dir, "modules/web/manifests/init.pp",
                "class web {\n  file { '" + d + "/out.html': source => "
                "'puppet:///modules/web/index.html' }\n}\n");
  PuppetCode code;
  code.manifest = write_in(dir, "site.pp", "include web\n");
  auto compiled = compile_puppet_graph(code);
  INFO((compiled ? std::string() : compiled.error().message()));
  REQUIRE(compiled);
  CHECK(compiled->notes.empty());  // native: no `puppet apply` of it
  CHECK(vertex(compiled->graph, "file", d + "/out.html").params ==
        json({{"state", "exists"}, {"source", d + "/modules/web/files/index.html"}}));
}

TEST_CASE("puppet compile: a syntax error names the manifest and the line", "[puppet][compile]") {
  TempDir dir;
  PuppetCode code;
  code.manifest = write_in(dir, "broken.pp", "notify { 'a': }\nnotify { 'b' message => 'x' }\n");
  const std::string why = compile_error(code);
  CHECK(starts_with(why, "broken.pp: Could not parse for environment production: Syntax error "
                         "at 'message' (line: 2, column: 14)"));
  CHECK(why.find(dir.path()) == std::string::npos);
}

TEST_CASE("puppet compile: fail() in the manifest is an error carrying its text",
          "[puppet][compile]") {
  TempDir dir;
  PuppetCode code;
  code.manifest = write_in(dir, "site.pp", "notify { 'a': }\nfail('no deploys on a friday')\n");
  code.name = "deploy/site.pp";
  const std::string why = compile_error(code);
  CHECK(starts_with(why, "deploy/site.pp: "));
  CHECK(why.find("no deploys on a friday (line: 2, column: 1)") != std::string::npos);
}

TEST_CASE("puppet compile: an unknown resource type is an error", "[puppet][compile]") {
  TempDir dir;
  PuppetCode code;
  code.manifest = write_in(dir, "site.pp", "frobnicate { 'x': size => 3 }\n");
  const std::string why = compile_error(code);
  CHECK(starts_with(why, "site.pp: "));
  CHECK(why.find("Unknown resource type: 'frobnicate' (line: 1, column: 1)") !=
        std::string::npos);
}

TEST_CASE("puppet compile: validate_syntax passes good code and names the user's file",
          "[puppet][validate]") {
  TempDir dir;
  const std::string good = write_in(dir, "good.pp",
                                    "class c { file { '/tmp/x': content => 'y' } }\n"
                                    "notify { 'n': require => Class['c'] }\n");
  auto ok = validate_syntax(good, "good.pp");
  INFO((ok ? std::string() : ok.error().message()));
  REQUIRE(ok);
  CHECK(*ok);  // puppet is installed: it did check

  const std::string bad = write_in(dir, "copy-of-site.pp",
                                   "notify { 'a': }\nnotify { 'b' message => 'x' }\n");
  auto refused = validate_syntax(bad, "site.pp");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == mgmt::Code::invalid_argument);
  CHECK(refused.error().message() ==
        "site.pp: Could not parse for environment production: Syntax error at 'message' "
        "(file: site.pp, line: 2, column: 14)");
}
