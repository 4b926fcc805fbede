// lang_state_test.cpp: the parts of mcl that keep state in a running agent, end to end with a
// real `mgmt run`: os.system streams its command's lines; history() gives a past value and
// brings the present one when it is due; the value resource and value.get_str; the schedule
// resource and world.schedule; Meta:export, collect.res and the collect statement.
#include "test/agent/run/rerun_log.h"
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using mgmt::test::ChildProcess;
using mgmt::test::free_port;
using mgmt::test::slurp;
using mgmt::test::TempDir;

namespace {


// `mgmt run` of the program `code` (written to DIR/code/main.mcl) as host h1.
std::vector<std::string> run_args(const TempDir& dir, const std::string& code) {
  std::filesystem::create_directories(dir.path() + "/code");
  std::ofstream(dir.path() + "/code/main.mcl") << code;
  const char* binary = std::getenv("MGMT_BINARY");
  return {binary ? binary : "mgmt", "run", "--hostname", "h1", "--tmp-prefix", "--client-urls",
          "http://127.0.0.1:" + std::to_string(free_port()), "--server-urls",
          "http://127.0.0.1:" + std::to_string(free_port()), "lang", dir.path() + "/code"};
}

// Waits, write by write, until the file managed by the agent holds `want`.
bool wait_for_content(ChildProcess& agent, const std::string& path, const std::string& want) {
  for (std::size_t writes = 1; writes <= 10; ++writes) {
    if (slurp(path) == want) return true;
    if (!agent.wait_for_occurrences("file[" + path + "]: contents written", writes,
                                    std::chrono::seconds(15))) {
      break;
    }
  }
  return slurp(path) == want;
}

}  // namespace

TEST_CASE("lang: os.system gives its command's latest line, and each new line runs the "
          "program again",
          "[run][lang]") {
  REQUIRE(std::getenv("MGMT_BINARY") != nullptr);
  TempDir dir;
  const std::string out = dir.path() + "/out";
  const std::string go = dir.path() + "/go";
  // The command prints "one", then "two" once the test says so (its own wait, in the shell).
  ChildProcess agent(run_args(
      dir, "import \"os\"\n$line = os.system(\"echo one; while [ ! -e " + go +
               " ]; do sleep 0.05; done; echo two\")\nfile \"" + out +
               "\" {\n\tcontent => $line,\n}\n"));
  REQUIRE(wait_for_content(agent, out, "one"));
  { std::ofstream(go) << ""; }
  REQUIRE(wait_for_content(agent, out, "two"));
  // Logged once the new graph is handed over, which can be after the engine wrote the file.
  CHECK(agent.wait_for_output("printed a line: ran the program again"));
}

TEST_CASE("lang: history gives the value of a while ago, and the present one when it is due",
          "[run][lang]") {
  REQUIRE(std::getenv("MGMT_BINARY") != nullptr);
  TempDir dir;
  const std::string in = dir.path() + "/in";
  const std::string out = dir.path() + "/out";
  { std::ofstream(in) << "first"; }
  ChildProcess agent(run_args(dir, "import \"os\"\n$now = os.readfile(\"" + in + "\")\nfile \"" +
                                       out + "\" {\n\tcontent => history($now, 400),\n}\n"));
  REQUIRE(wait_for_content(agent, out, "first"));
  const auto changed = std::chrono::steady_clock::now();
  {
    std::ofstream(in + ".new") << "second";
    std::filesystem::rename(in + ".new", in);
  }
  REQUIRE(agent.wait_for_output("ran the program again"));
  CHECK(mgmt::test::logged_rerun_for_change(agent, in));
  REQUIRE(wait_for_content(agent, out, "second"));
  // The new value cannot show before it is 400 ms old (a lower bound, not a timing test).
  CHECK(std::chrono::steady_clock::now() - changed >= std::chrono::milliseconds(400));
}

TEST_CASE("lang: value.get_str reads what the value resource keeps on this host",
          "[run][lang]") {
  REQUIRE(std::getenv("MGMT_BINARY") != nullptr);
  TempDir dir;
  const std::string out = dir.path() + "/out";
  ChildProcess agent(run_args(
      dir, "import \"fmt\"\nimport \"value\"\nvalue \"greeting\" {\n\tany => \"hello\",\n}\n"
           "$v = value.get_str(\"greeting\")\nfile \"" +
               out + "\" {\n\tcontent => fmt.printf(\"%s %t\", $v->value, $v->ready),\n}\n"));
  // Not ready on the first run; the value resource keeps it; the program runs again.
  REQUIRE(wait_for_content(agent, out, "hello true"));
}

TEST_CASE("lang: a schedule resource puts this host in the set world.schedule gives",
          "[run][lang]") {
  REQUIRE(std::getenv("MGMT_BINARY") != nullptr);
  TempDir dir;
  const std::string out = dir.path() + "/out";
  ChildProcess agent(run_args(
      dir, "import \"fmt\"\nimport \"world\"\nschedule \"web\" {\n\tmax => 2,\n}\n"
           "file \"" + out + "\" {\n\tcontent => fmt.printf(\"%v\", world.schedule(\"web\")),\n}\n"));
  REQUIRE(wait_for_content(agent, out, "[h1]"));
}

TEST_CASE("lang: a resource exported with Meta:export is found by collect.res and built by "
          "the collect statement",
          "[run][lang]") {
  REQUIRE(std::getenv("MGMT_BINARY") != nullptr);
  TempDir dir;
  const std::string shared = dir.path() + "/shared";
  const std::string out = dir.path() + "/out";
  ChildProcess agent(run_args(
      dir, "import \"fmt\"\nimport \"world/collect\"\nfile \"" + shared +
               "\" {\n\tcontent => \"exported\\n\",\n\tMeta:hidden => true,\n"
               "\tMeta:export => [\"*\"],\n}\n"
               "collect file [struct{name => \"" + shared + "\", host => \"h1\",},] {\n"
               "\tMeta:hidden => false,\n}\n"
               "file \"" + out + "\" {\n\tcontent => fmt.printf(\"%v\", collect.res(\"file\")),\n}\n"));
  REQUIRE(wait_for_content(agent, out,
                           "[{" + shared + " h1}]"));
  // Hidden where it is declared, shown where it is collected: one file, written.
  REQUIRE(wait_for_content(agent, shared, "exported\n"));
}
