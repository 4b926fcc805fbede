// puppet_story_test.cpp: the puppet and langpuppet frontends end to end, with a real agent on
// loopback and Debian's puppet compiling the manifests: a directory with its modules/ converges
// in the order its relationships give (classes included); a resource mgmt has no native form
// for is applied by puppet itself; inline code ships; code that does not parse is refused
// before it ships, and code that fails on the agent keeps the last graph running; langpuppet
// runs the puppet side before the mcl side through a merged hand-over point, and its mcl side
// stays reactive; an agent compiles the manifest again every runinterval; a deploy that fails
// on the agent leaves the running one following its inputs.
#include "test/agent/deploy/story_helpers.h"

#include <sys/stat.h>

#include <filesystem>

using mgmt::test::free_port;
using mgmt::test::slurp;
using mgmt::test::TempDir;
using mgmt::test::mgmt_binary;
using namespace mgmt::test::stories;

namespace {

std::string written(const std::string& path) {
  return "engine: file[" + path + "]: contents written";
}

// Where `line` first appears in the agent's output (npos if not).
std::size_t at(Agent& a, const std::string& line) { return a.process->output().find(line); }

}  // namespace

TEST_CASE("deploy: a puppet directory with its modules converges in the order of its "
          "relationships",
          "[deploy][puppet][cluster]") {
  TempDir dir;
  TempDir code;  // what ships: site.pp and modules/
  int port = free_port();
  Agent a = lone_agent(port, "puppet");
  const std::string first = dir.path() + "/first";
  const std::string second = dir.path() + "/second";
  const std::string marker = dir.path() + "/marker";
  const std::string shared = dir.path() + "/shared";
  std::filesystem::create_directories(code.path() + "/modules/two/manifests");
  write(code.path() + "/modules/two/manifests/init.pp",
        "class two {\n"
        "  file { '" + second + "': content => \"two\\n\" }\n"
        "  exec { 'mark': command => 'echo ran > " + marker + "', path => ['/bin', '/usr/bin'],\n"
        "         creates => '" + marker + "' }\n"
        "  File['" + second + "'] -> Exec['mark']\n"
        "}\n");
  write(code.path() + "/site.pp",
        "class one {\n"
        "  file { '" + first + "': ensure => file, content => \"one\\n\", mode => '640' }\n"
        "}\n"
        "include one, two\n"
        "Class['one'] -> Class['two']\n"
        // A symbolic mode has no native form: puppet applies this file itself.
        "file { '" + shared + "': ensure => file, content => \"by puppet\\n\",\n"
        "       mode => 'u=rw,go=r', backup => false }\n"
        "notify { 'done': message => 'puppet story done' }\n"
        "Exec['mark'] -> Notify['done']\n");
  auto landed = deploy(url(port), "puppet " + code.path());
  CHECK(landed.exit_code == 0);
  REQUIRE(a.process->wait_for_output("engine: msg[done]: resource: Body: puppet story done",
                                     std::chrono::seconds(60)));
  CHECK(slurp(first) == "one\n");
  CHECK(slurp(second) == "two\n");
  CHECK(slurp(marker) == "ran\n");
  struct stat st {};
  REQUIRE(::stat(first.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  // Class['one'] -> Class['two'] holds for what each class contains.
  CHECK(at(a, written(first)) < at(a, written(second)));
  CHECK(a.process->wait_for_output("File[" + shared + "] is applied by puppet itself"));
  REQUIRE(a.process->wait_for_output("engine: converged", std::chrono::seconds(60)));
  CHECK(slurp(shared) == "by puppet\n");
  REQUIRE(::stat(shared.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
}

TEST_CASE("deploy: puppet code that does not parse is refused before it ships, and code that "
          "fails on the agent keeps the last graph",
          "[deploy][puppet][cluster]") {
  TempDir dir;
  int port = free_port();
  Agent a = lone_agent(port, "puppet");
  const std::string out = dir.path() + "/inline";
  // Inline code, as `puppet apply -e` takes it.
  auto inline_code = deploy(url(port), "puppet 'file { \"" + out + "\": content => \"inline\" }'");
  CHECK(inline_code.exit_code == 0);
  CHECK(inline_code.output.find("inline puppet code: no commit chain is checked") !=
        std::string::npos);
  REQUIRE(a.process->wait_for_output(written(out), std::chrono::seconds(60)));
  CHECK(slurp(out) == "inline");
  // A syntax error: one line naming the manifest, exit 1, nothing shipped.
  const std::string site = dir.path() + "/site.pp";
  write(site, "file { '/tmp/x': ensure => file\n");
  auto refused = deploy(url(port), "puppet " + site);
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("mgmt deploy puppet: " + site + ": Could not parse") !=
        std::string::npos);
  auto deploys = sh(mgmt_binary() + " get --seeds=" + url(port) + " -o json deploys");
  CHECK(deploys.output.find("\"id\": 2") == std::string::npos);
  // It parses, but fails as the agent compiles it: the agent says why and keeps deploy 1.
  write(site, "if $facts['kernel'] == 'Linux' { fail('not on this host') }\n");
  CHECK(deploy(url(port), "puppet " + site).exit_code == 0);
  CHECK(a.process->wait_for_output("deploy 2 not loaded: site.pp: Evaluation Error"));
  // (puppet names the node by the machine's certname, whatever --hostname says)
  const std::string said = a.process->output();
  const auto why = said.find("not on this host (line: 1, column: 34) on node ");
  CHECK(why != std::string::npos);
  CHECK(said.find("; still running deploy 1", why) != std::string::npos);
  CHECK(slurp(out) == "inline");
  // A bare word is taken for a mistyped path, not for code.
  auto typo = deploy(url(port), "puppet sitepp");
  CHECK(typo.exit_code == 1);
  CHECK(typo.output.find("cannot read sitepp: no such file or directory") != std::string::npos);
  auto spaced = deploy(url(port), "puppet 'my site.pp'");
  CHECK(spaced.exit_code == 1);
  CHECK(spaced.output.find("cannot read my site.pp: no such file or directory") !=
        std::string::npos);
}

TEST_CASE("deploy: langpuppet runs the puppet side before the mcl side through a merged "
          "hand-over point",
          "[deploy][puppet][cluster]") {
  TempDir dir;
  int port = free_port();
  Agent a = lone_agent(port, "langpuppet");
  const std::string from_puppet = dir.path() + "/from-puppet";
  const std::string from_mcl = dir.path() + "/from-mcl";
  const std::string site = dir.path() + "/site.pp";
  const std::string mcl = dir.path() + "/main.mcl";
  write(site,
        "class mgmt_handover {}\n"
        "include mgmt_handover\n"
        "file { '" + from_puppet + "': content => \"puppet first\\n\" }\n"
        "File['" + from_puppet + "'] -> Class['mgmt_handover']\n");
  const std::string source = dir.path() + "/source";
  write(source, "mcl second\n");
  write(mcl,
        "import \"os\"\n"
        "noop \"puppet_handover\" {}\n"
        "file \"" + from_mcl + "\" {\n\tcontent => os.readfile(\"" + source + "\"),\n}\n"
        "Noop[\"puppet_handover\"] -> File[\"" + from_mcl + "\"]\n");
  auto landed = deploy(url(port), "langpuppet --lp-lang " + mcl + " --lp-puppet " + site);
  CHECK(landed.exit_code == 0);
  REQUIRE(a.process->wait_for_output(written(from_mcl), std::chrono::seconds(60)));
  CHECK(at(a, written(from_puppet)) < at(a, written(from_mcl)));
  CHECK(slurp(from_puppet) == "puppet first\n");
  CHECK(slurp(from_mcl) == "mcl second\n");
  // The mcl side stays reactive: what it reads changes, it runs again, and the merged graph
  // keeps the puppet side (which still repairs its file).
  save(source, "mcl third\n");
  REQUIRE(a.process->wait_for_occurrences(written(from_mcl), 2));
  CHECK(slurp(from_mcl) == "mcl third\n");
  save(from_puppet, "tampered\n");
  REQUIRE(a.process->wait_for_occurrences(written(from_puppet), 2));
  CHECK(slurp(from_puppet) == "puppet first\n");
  // The merged point is one noop named after the hand-over.
  auto graph = sh(mgmt_binary() + " graph langpuppet --lp-lang " + mcl + " --lp-puppet " + site);
  CHECK(graph.exit_code == 0);
  CHECK(graph.output.find("Vertex: noop[handover]") != std::string::npos);
  CHECK(graph.output.find("Edge: noop[handover] -> file[" + from_mcl + "]") != std::string::npos);
  // Without both sides the command says which one is missing.
  auto half = deploy(url(port), "langpuppet --lp-lang " + mcl);
  CHECK(half.exit_code == 2);
  CHECK(half.output.find("missing --lp-puppet") != std::string::npos);
}

TEST_CASE("deploy: an agent compiles a puppet deploy again every runinterval of the puppet.conf "
          "shipped with it",
          "[deploy][puppet][cluster]") {
  TempDir dir;
  int port = free_port();
  Agent a = lone_agent(port, "refresh");
  const std::string source = dir.path() + "/source";
  const std::string out = dir.path() + "/out";
  const std::string site = dir.path() + "/site.pp";
  const std::string conf = dir.path() + "/puppet.conf";
  write(source, "first\n");
  // file() reads on the agent, as the catalog is compiled: a change shows at the next compile.
  write(site, "file { '" + out + "': content => file('" + source + "') }\n");
  write(conf, "[main]\nruninterval = 1\n");
  CHECK(deploy(url(port), "puppet " + site + " --puppet-conf " + conf).exit_code == 0);
  REQUIRE(a.process->wait_for_output("compiled again every 1 s (puppet's runinterval)",
                                     std::chrono::seconds(60)));
  REQUIRE(a.process->wait_for_output("engine: file[" + out + "]: contents written"));
  CHECK(slurp(out) == "first\n");
  save(source, "second\n");
  REQUIRE(a.process->wait_for_output("puppet: the catalog changed", std::chrono::seconds(60)));
  REQUIRE(a.process->wait_for_occurrences("engine: file[" + out + "]: contents written", 2));
  CHECK(slurp(out) == "second\n");
}

TEST_CASE("deploy: without puppet the deployer ships the manifest unchecked and says so, and an "
          "agent without it says which package it needs",
          "[deploy][puppet][cluster]") {
  TempDir dir;
  TempDir bare;  // a PATH with neither ruby nor puppet in it
  int port = free_port();
  mgmt::test::ChildProcess agent(
      {mgmt_binary(), "run", "--hostname", "bare", "--tmp-prefix", "--client-urls", url(port),
       "--server-urls", url(free_port())},
      {{"PATH", bare.path()}});
  REQUIRE(agent.wait_for_output("waiting for `mgmt deploy`"));
  const std::string site = dir.path() + "/site.pp";
  write(site, "notify { 'unseen': }\n");
  // --wait follows the hosts' status: the agent's failure to load this deploy ends it (before,
  // a host's status named only the deploy it had loaded, and --wait waited out its timeout).
  auto landed = sh("env PATH=" + bare.path() + " " + mgmt_binary() + " deploy --seeds=" +
                   url(port) + " --no-git --wait puppet " + site + " 2>&1");
  CHECK(landed.exit_code == 1);
  CHECK(landed.output.find("puppet is not installed here, so " + site + " was not checked "
                           "before shipping") != std::string::npos);
  CHECK(landed.output.find("deploy 1 landed") != std::string::npos);
  CHECK(landed.output.find("mgmt deploy --wait: host bare failed deploy 1: the puppet frontend "
                           "needs puppet on this host: apt-get install puppet") !=
        std::string::npos);
  CHECK(agent.wait_for_output("deploy 1 not loaded: the puppet frontend needs puppet on this "
                              "host: apt-get install puppet"));
  auto hosts = sh(mgmt_binary() + " get --seeds=" + url(port) + " hosts");
  CHECK(hosts.output.find("apt-get install puppet") != std::string::npos);
}

TEST_CASE("deploy: a deploy that fails on the agent leaves the running one following its inputs",
          "[deploy][puppet][cluster]") {
  TempDir dir;
  int port = free_port();
  Agent a = lone_agent(port, "steady");
  const std::string source = dir.path() + "/source";
  const std::string out = dir.path() + "/out";
  const std::string mcl = dir.path() + "/main.mcl";
  write(source, "one\n");
  write(mcl, "import \"os\"\nfile \"" + out + "\" {\n\tcontent => os.readfile(\"" + source +
                 "\"),\n}\n");
  CHECK(deploy(url(port), "--no-git lang " + mcl).exit_code == 0);
  REQUIRE(a.process->wait_for_output(written(out), std::chrono::seconds(60)));
  // It parses, so it ships, but it fails as the agent compiles it.
  const std::string site = dir.path() + "/site.pp";
  write(site, "fail('not today')\n");
  CHECK(deploy(url(port), "--no-git puppet " + site).exit_code == 0);
  REQUIRE(a.process->wait_for_output("deploy 2 not loaded: site.pp: Evaluation Error"));
  // Deploy 1 still runs, and still follows the file it reads (before, its stream stopped as
  // soon as deploy 2 began to load).
  save(source, "two\n");
  REQUIRE(a.process->wait_for_occurrences(written(out), 2));
  CHECK(slurp(out) == "two\n");
}
