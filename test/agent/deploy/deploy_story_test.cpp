// deploy_story_test.cpp: the user story this project starts from, with real `mgmt` processes
// on loopback. Agents run; code is deployed from outside; every agent converges on it; a second
// deploy of changed code from the same uncommitted work tree lands, and so does a redeploy of
// the same commit; a non-fast-forward deploy is refused in one line; --force lands it. Also:
// concurrent deployers never both win, an agent on Debian's etcd behaves the same, an agent
// killed and restarted comes back on the newest deploy, and an agent whose store is killed and
// restarted watches again by itself, and agents started at once with the same code all run it.
#include "test/agent/deploy/story_helpers.h"
#include "test/support/process/real_etcd.h"

#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <iterator>
#include <set>

using mgmt::test::ChildProcess;
using mgmt::test::Completed;
using mgmt::test::free_port;
using mgmt::test::run_to_completion;
using mgmt::test::TempDir;
using mgmt::test::mgmt_binary;
using namespace mgmt::test::stories;

namespace {

// A YAML graph whose print resource says `message`.
std::string graph_saying(const std::string& message) {
  return "graph: story\nresources:\n  print:\n  - name: p\n    msg: \"" + message + "\"\n";
}

std::string say(const std::string& message) {
  return "engine: print[p]: resource: Msg: " + message;
}

}  // namespace

TEST_CASE("deploy: three agents converge on each deploy, and the git chain is kept without "
          "surprises",
          "[deploy][cluster]") {
  TempDir dir;
  // Three agents, each hosting a member of the store: h1 starts the cluster, h2 and h3 join it
  // through --seeds and are promoted to voters (--ideal-cluster-size 3).
  auto member = [](const std::string& seed) {
    std::vector<std::string> args = {"--tmp-prefix", "--ideal-cluster-size", "3",
                                      "--client-urls", url(free_port()),
                                      "--server-urls", url(free_port())};
    if (!seed.empty()) {
      args.push_back("--seeds");
      args.push_back(seed);
    }
    return args;
  };
  auto first_args = member("");
  std::string seeds = first_args[4];
  Agent a(first_args, "h1");
  REQUIRE(a.process->wait_for_output("waiting for `mgmt deploy`"));
  Agent b(member(seeds), "h2");
  REQUIRE(b.process->wait_for_output("waiting for `mgmt deploy`"));
  Agent c(member(seeds), "h3");
  REQUIRE(c.process->wait_for_output("waiting for `mgmt deploy`"));
  CHECK(b.process->output().find("joining cluster") != std::string::npos);
  REQUIRE(a.process->wait_for_output("promoting learner"));
  // Once three voters serve, a fourth agent runs as a client of the cluster (no store).
  bool three_voters = false;
  for (int i = 0; i < 300 && !three_voters && mgmt::test::have_program("etcdctl"); ++i) {
    auto list = sh("ETCDCTL_API=3 etcdctl --endpoints=" + seeds + " member list");
    three_voters = std::count(list.output.begin(), list.output.end(), '\n') == 3 &&
                   list.output.find(", true") == std::string::npos;
  }
  Agent d(member(seeds), "h4");
  if (three_voters) {
    REQUIRE(d.process->wait_for_output("running as its client"));
  }
  REQUIRE(d.process->wait_for_output("waiting for `mgmt deploy`"));

  // A git repository with uncommitted work.
  std::string repo = dir.path() + "/code";
  std::string code = repo + "/graph.yaml";
  REQUIRE(sh("mkdir -p " + repo + " && cd " + repo + " && git init -q").exit_code == 0);
  write(code, graph_saying("first"));
  std::string git = "cd " + repo + " && git -c user.name=t -c user.email=t@t ";
  REQUIRE(sh(git + "add -A && " + git + "commit -qm one").exit_code == 0);
  write(code, graph_saying("second"));  // uncommitted change on top

  auto first = deploy(seeds, "yaml " + code);
  CHECK(first.exit_code == 0);
  CHECK(first.output.find("deploy 1 landed (yaml, commit") != std::string::npos);
  CHECK(first.output.find("dirty tree") != std::string::npos);
  for (auto* agent : {&a, &b, &c}) {
    const bool said = agent->process->wait_for_output(say("second"));
    INFO(agent->process->output());
    CHECK(said);
  }

  write(code, graph_saying("third"));  // changed again, same work tree, same commit
  auto second = deploy(seeds, "--wait yaml " + code);
  CHECK(second.exit_code == 0);
  CHECK(second.output.find("deploy 2 landed") != std::string::npos);
  for (const char* host : {"h1", "h2", "h3"}) {
    CAPTURE(host);
    CHECK(second.output.find(std::string("deploy: ") + host + " loaded deploy 2 and converged") !=
          std::string::npos);
  }
  for (auto* agent : {&a, &b, &c}) CHECK(agent->process->wait_for_output(say("third")));

  // Commit it, deploy, then deploy the same commit again.
  REQUIRE(sh(git + "commit -qam two").exit_code == 0);
  CHECK(deploy(seeds, "yaml " + code).exit_code == 0);
  auto again = deploy(seeds, "yaml " + code);
  CHECK(again.exit_code == 0);
  CHECK(again.output.find("deploy 4 landed") != std::string::npos);

  // Going back to the first commit is not a fast-forward: refused in one line.
  REQUIRE(sh(git + "checkout -q HEAD~1").exit_code == 0);
  auto refused = deploy(seeds, "yaml " + code);
  CHECK(refused.exit_code == 1);
  CHECK(std::count(refused.output.begin(), refused.output.end(), '\n') == 1);
  CHECK(refused.output.find("deploy refused: the running deploy 4 has commit") !=
        std::string::npos);
  CHECK(refused.output.find("not a fast-forward") != std::string::npos);
  CHECK(refused.output.find("--force") != std::string::npos);
  CHECK(refused.output.find("--no-git") != std::string::npos);
  auto forced = deploy(seeds, "--force yaml " + code);
  CHECK(forced.exit_code == 0);
  CHECK(forced.output.find("deploy 5 landed") != std::string::npos);
  for (auto* agent : {&a, &b, &c, &d}) CHECK(agent->process->wait_for_output(say("first")));

  // `mgmt get` shows the deploys and the hosts.
  auto deploys = sh(mgmt_binary() + " get --seeds=" + seeds + " deploys");
  CHECK(deploys.exit_code == 0);
  CHECK(deploys.output.find("5     yaml") != std::string::npos);
  auto hosts = sh(mgmt_binary() + " get --seeds=" + seeds + " hosts");
  for (const char* host : {"h1", "h2", "h3", "h4"}) {
    CHECK(hosts.output.find(host) != std::string::npos);
  }
  CHECK(std::count(hosts.output.begin(), hosts.output.end(), '\n') == 5);  // header + 4 hosts
  if (three_voters) CHECK(hosts.output.find("client") != std::string::npos);
  CHECK(hosts.output.find("voter") != std::string::npos);
  // etcdctl sees one cluster of three voters.
  if (mgmt::test::have_program("etcdctl")) {
    auto members = sh("ETCDCTL_API=3 etcdctl --endpoints=" + seeds + " member list");
    CHECK(std::count(members.output.begin(), members.output.end(), '\n') == 3);
    CHECK(members.output.find("true") == std::string::npos);  // no learner left
  }
}

TEST_CASE("deploy: outside git a deploy lands and says that no commit chain is checked",
          "[deploy][cluster]") {
  TempDir dir;
  int port = free_port();
  Agent a = lone_agent(port, "solo");
  std::string code = dir.path() + "/g.yaml";
  write(code, graph_saying("no git"));
  auto landed = deploy(url(port), "yaml " + code);
  CHECK(landed.exit_code == 0);
  CHECK(landed.output.find("is not in a git repository: no commit chain is checked") !=
        std::string::npos);
  CHECK(a.process->wait_for_output(say("no git")));
  // Broken code is refused before it ships; the running graph stays.
  write(code, "resources:\n  print:\n  - name: p\n    mgs: typo\n");
  auto refused = deploy(url(port), "yaml " + code);
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("field \"mgs\" does not exist; did you mean \"msg\"?") !=
        std::string::npos);
  auto deploys = sh(mgmt_binary() + " get --seeds=" + url(port) + " -o json deploys");
  CHECK(deploys.output.find("\"id\": 1") != std::string::npos);
  CHECK(deploys.output.find("\"id\": 2") == std::string::npos);
  // mcl code ships the same way; code that does not compile is refused before it ships.
  std::string mcl = dir.path() + "/main.mcl";
  write(mcl, "import \"fmt\"\nprint \"p\" {\n\tmsg => fmt.printf(\"from %s\", \"mcl\"),\n}\n");
  CHECK(deploy(url(port), "lang " + mcl).exit_code == 0);
  CHECK(a.process->wait_for_output(say("from mcl")));
  write(mcl, "print \"p\" {\n\tmsg => $undefined,\n}\n");
  auto bad_mcl = deploy(url(port), "lang " + mcl);
  CHECK(bad_mcl.exit_code == 1);
  CHECK(bad_mcl.output.find("errSetScope: variable $undefined is not defined") != std::string::npos);
}

TEST_CASE("deploy: bytes that are not UTF-8 stop neither the deployer nor the agent",
          "[deploy][cluster]") {
  TempDir dir;
  int port = free_port();
  Agent a = lone_agent(port, "solo");
  // A file name in Latin-1: refused in one line that names it (mgmt deploy aborted before).
  const std::string latin_name = dir.path() + "/caf\xe9.yaml";
  write(latin_name, graph_saying("latin name"));
  auto refused = deploy(url(port), "yaml '" + latin_name + "'");
  CHECK(refused.exit_code == 1);
  CHECK(refused.output.find("the file name \"caf\\xe9.yaml\" is not UTF-8 text") !=
        std::string::npos);
  // Contents in Latin-1: written byte for byte, and a change of one such byte is a change
  // (before, the engine's JSON threw, and the agent said /_mgmt/deploy/latest held no id).
  const std::string out = dir.path() + "/out.txt";
  const std::string code = dir.path() + "/latin.yaml";
  const std::string written = "engine: file[" + out + "]: contents written";
  for (const std::string content : {"caf\xe9", "caf\xe8"}) {
    write(code, "resources:\n  file:\n  - name: " + out + "\n    content: \"" + content + "\"\n");
    CHECK(deploy(url(port), "yaml " + code).exit_code == 0);
    CHECK(a.process->wait_for_occurrences(written, content == "caf\xe9" ? 1 : 2));
    std::ifstream in(out, std::ios::binary);
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == content);
  }
  // A key that is not UTF-8, read as JSON: escaped as the values are.
  CHECK(sh("ETCDCTL_API=3 etcdctl --endpoints=" + url(port) + " put 'k\xff' v").exit_code == 0);
  auto got = sh(mgmt_binary() + " get --seeds=" + url(port) + " -o json k --prefix");
  CHECK(got.exit_code == 0);
  CHECK(got.output.find("\"key\": \"k\\\\xff\"") != std::string::npos);
}

TEST_CASE("deploy: concurrent deployers never both win", "[deploy][cluster]") {
  TempDir dir;
  int port = free_port();
  Agent a = lone_agent(port, "race");
  std::string code = dir.path() + "/g.yaml";
  write(code, graph_saying("race"));
  constexpr int kDeployers = 6;
  std::vector<std::unique_ptr<ChildProcess>> deployers;
  for (int i = 0; i < kDeployers; ++i) {
    deployers.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{
        mgmt_binary(), "deploy", "--seeds=" + url(port), "yaml", code}));
  }
  std::set<std::string> landed;
  int lost = 0;
  for (auto& d : deployers) {
    auto code_exit = d->wait_exit();
    REQUIRE(code_exit);
    std::string out = d->output();
    auto at = out.find("deploy: deploy ");
    if (*code_exit == 0 && at != std::string::npos) {
      std::string id = out.substr(at + 15, out.find(' ', at + 15) - at - 15);
      CHECK(landed.insert(id).second);  // no id landed twice
    } else {
      CHECK(out.find("lost a race: deploy") != std::string::npos);
      ++lost;
    }
  }
  CHECK(static_cast<int>(landed.size()) + lost == kDeployers);
  auto latest = sh(mgmt_binary() + " get --seeds=" + url(port) + " /_mgmt/deploy/latest");
  CHECK(latest.output == "/_mgmt/deploy/latest = " + std::to_string(landed.size()) + "\n");
}

namespace {

// Debian's etcd, and what agents on it (--no-server) and deploys to it need.
struct OnEtcd {
  OnEtcd() { REQUIRE(etcd.ready()); }
  // An agent on the etcd (started, not yet ready); its data under the test's dir.
  std::unique_ptr<Agent> agent() {
    return std::make_unique<Agent>(std::vector<std::string>{"--prefix", dir.path() + "/agent",
                                                            "--no-server", "--seeds",
                                                            etcd.endpoint()},
                                   "e1");
  }
  // An agent on the etcd, running a first deploy that says `message`.
  std::unique_ptr<Agent> agent_saying(const std::string& message) {
    auto a = agent();
    REQUIRE(a->process->wait_for_output("waiting for `mgmt deploy`"));
    CHECK(deploy_saying(message));
    CHECK(a->process->wait_for_output(say(message)));
    return a;
  }
  // Deploys a graph whose print resource says `message`; whether `mgmt deploy` succeeded.
  bool deploy_saying(const std::string& message) {
    const std::string code = dir.path() + "/g.yaml";
    write(code, graph_saying(message));
    return deploy(etcd.endpoint(), "yaml " + code).exit_code == 0;
  }
  mgmt::test::RealEtcd etcd;
  TempDir dir;
};

}  // namespace

TEST_CASE("deploy: agents started at once with the same code all run it, none exits for losing "
          "the race to deploy it", "[deploy][cluster]") {
  TempDir dir;
  const int port = free_port();
  auto store = lone_agent(port, "store");
  std::string code = dir.path() + "/g.yaml";
  write(code, graph_saying("started together"));
  // As hosts booting together, each `mgmt run yaml CODE`: each deploys CODE first.
  std::vector<std::unique_ptr<Agent>> agents;
  for (int i = 0; i < 4; ++i) {
    agents.push_back(std::make_unique<Agent>(
        std::vector<std::string>{"--no-server", "--seeds", url(port), "--tmp-prefix",
                                 "--client-urls", url(free_port()), "--server-urls",
                                 url(free_port()), "yaml", code},
        "c" + std::to_string(i)));
  }
  for (auto& a : agents) {
    const bool said = a->process->wait_for_output(say("started together"));
    INFO(a->process->output());
    CHECK(said);
    CHECK(a->process->output().find("lost a race") == std::string::npos);
  }
  for (auto& a : agents) CHECK_FALSE(a->process->wait_exit(std::chrono::milliseconds(0)));
}

TEST_CASE("deploy: an agent on Debian's etcd loads deploys, and after kill -9 and restart it "
          "comes back on the newest",
          "[deploy][cluster][etcd]") {
  REQUIRE(mgmt::test::have_program("etcd"));
  OnEtcd store;
  {
    auto a = store.agent_saying("on etcd");
    a->process->send_signal(SIGKILL);
    CHECK(a->process->wait_exit() == 128 + SIGKILL);
  }
  CHECK(store.deploy_saying("while it was down"));
  auto again = store.agent();
  CHECK(again->process->wait_for_output("loading deploy 2"));
  CHECK(again->process->wait_for_output(say("while it was down")));
}

TEST_CASE("deploy: an agent whose store is killed and restarted watches again and loads the "
          "next deploy",
          "[deploy][cluster][etcd]") {
  REQUIRE(mgmt::test::have_program("etcd"));
  OnEtcd store;
  auto a = store.agent_saying("before the restart");
  store.etcd.kill_and_restart();
  REQUIRE(store.etcd.ready());
  CHECK(a->process->wait_for_output("deploy: lost the watch on the store at " +
                                    store.etcd.endpoint() + "; watching again from revision"));
  CHECK(a->process->wait_for_output("deploy: watching the store at " + store.etcd.endpoint() +
                                    " again from revision"));
  CHECK(store.deploy_saying("after the restart"));
  CHECK(a->process->wait_for_output(say("after the restart")));
}

TEST_CASE("deploy: into a store past its quota a deploy fails in one line that says how to free "
          "it, and lands once freed",
          "[deploy][cluster][quota]") {
  TempDir dir;
  int port = free_port();
  Agent a({"--tmp-prefix", "--client-urls", url(port), "--server-urls", url(free_port()),
           "--quota-backend-bytes", "1048576"},
          "full");
  REQUIRE(a.process->wait_for_output("waiting for `mgmt deploy`"));
  const std::string etcdctl = "ETCDCTL_API=3 etcdctl --endpoints=" + url(port) + " ";
  const std::string value(100000, 'x');
  int puts = 0;
  while (puts < 40 && sh(etcdctl + "put big " + value + " >/dev/null 2>&1").exit_code == 0) ++puts;
  REQUIRE(puts < 40);
  std::string code = dir.path() + "/g.yaml";
  write(code, graph_saying("after the quota"));
  auto refused = deploy(url(port), "yaml " + code);
  CHECK(refused.exit_code != 0);
  INFO(refused.output);
  CHECK(refused.output.find("is full (etcdserver: mvcc: database space exceeded: its NOSPACE "
                            "alarm is raised); delete keys, compact it (etcdctl compaction REV), "
                            "then etcdctl alarm disarm") != std::string::npos);
  CHECK(a.process->output().find("raising the NOSPACE alarm") != std::string::npos);
  // Freed as the message says: the deploy lands and the agent runs it.
  REQUIRE(sh(etcdctl + "del big").exit_code == 0);
  auto status = sh(etcdctl + "get big -w json");
  auto at = status.output.find("\"revision\":");
  REQUIRE(at != std::string::npos);
  const std::string rev = std::to_string(std::stoll(status.output.substr(at + 11)));
  REQUIRE(sh(etcdctl + "compaction " + rev).exit_code == 0);
  REQUIRE(sh(etcdctl + "alarm disarm").exit_code == 0);
  CHECK(deploy(url(port), "yaml " + code).exit_code == 0);
  CHECK(a.process->wait_for_output(say("after the quota")));
}

TEST_CASE("deploy: an agent run with --no-deploy-watch or --no-watch keeps its first deploy and "
          "names each later one it does not load",
          "[deploy][cluster]") {
  for (const std::string flag : {"--no-deploy-watch", "--no-watch"}) {
    DYNAMIC_SECTION(flag) {
      TempDir dir;
      int port = free_port();
      Agent a({"--tmp-prefix", "--client-urls", url(port), "--server-urls", url(free_port()),
               flag},
              "keeper");
      REQUIRE(a.process->wait_for_output("waiting for `mgmt deploy`"));
      std::string code = dir.path() + "/g.yaml";
      write(code, graph_saying("kept"));
      CHECK(deploy(url(port), "yaml " + code).exit_code == 0);
      CHECK(a.process->wait_for_output(say("kept")));
      write(code, graph_saying("ignored"));
      CHECK(deploy(url(port), "yaml " + code).exit_code == 0);
      CHECK(a.process->wait_for_output("deploy 2 is not loaded: " + flag +
                                       " keeps the deploy this agent started with"));
      CHECK(a.process->output().find(say("ignored")) == std::string::npos);
    }
  }
}
