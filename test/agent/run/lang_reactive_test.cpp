// lang_reactive_test.cpp: mcl is reactive in a running agent: a program that reads a file
// with os.readfile is run again when the file changes (inotify, no polling), and the engine
// applies the new graph: the managed file follows within milliseconds.
#include "test/agent/run/rerun_log.h"
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using mgmt::test::ChildProcess;
using mgmt::test::free_port;
using mgmt::test::slurp;
using mgmt::test::TempDir;

TEST_CASE("lang: a file the program reads changes, and the graph follows at once",
          "[run][lang]") {
  const std::string binary = mgmt::test::mgmt_binary();
  TempDir dir;
  const std::string in = dir.path() + "/motd.src";
  const std::string out = dir.path() + "/motd";
  std::filesystem::create_directories(dir.path() + "/code");
  { std::ofstream(in) << "first\n"; }
  {
    std::ofstream(dir.path() + "/code/main.mcl")
        << "import \"os\"\nfile \"" << out << "\" {\n\tcontent => os.readfile(\"" << in
        << "\"),\n}\n";
  }
  ChildProcess agent({binary, "run", "--tmp-prefix", "--client-urls",
                      "http://127.0.0.1:" + std::to_string(free_port()), "--server-urls",
                      "http://127.0.0.1:" + std::to_string(free_port()), "lang",
                      dir.path() + "/code"});
  const bool written = agent.wait_for_output("file[" + out + "]: contents written");
  INFO(agent.output());
  REQUIRE(written);
  CHECK(slurp(out) == "first\n");
  const auto changed = std::chrono::steady_clock::now();
  {
    // Saved as editors do: a new file renamed over the old one.
    std::ofstream(in + ".new") << "second\n";
    std::filesystem::rename(in + ".new", in);
  }
  REQUIRE(agent.wait_for_occurrences("file[" + out + "]: contents written", 2));
  const auto took = std::chrono::steady_clock::now() - changed;
  CHECK(slurp(out) == "second\n");
  // Logged once the new graph is handed over, which can be after the engine wrote the file.
  REQUIRE(agent.wait_for_output("ran the program again"));
  CHECK(mgmt::test::logged_rerun_for_change(agent, in));
  // A bound for a broken build, not a timing test: the log line already proves the event.
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("lang: a key the program reads from the store changes, and the graph follows",
          "[run][lang]") {
  const std::string binary = mgmt::test::mgmt_binary();
  TempDir dir;
  const std::string out = dir.path() + "/greeting";
  std::filesystem::create_directories(dir.path() + "/code");
  // The kv resource writes the key that world.getval reads: the first run sees nothing, the
  // store's watch runs the program again, and the file gets the value.
  {
    std::ofstream(dir.path() + "/code/main.mcl")
        << "import \"world\"\nkv \"greeting\" {\n\tkey => \"greeting\",\n\tvalue => \"hello\",\n"
           "}\n$g = world.getval(\"greeting\")\nfile \""
        << out << "\" {\n\tcontent => $g->value,\n}\n";
  }
  ChildProcess agent({binary, "run", "--tmp-prefix", "--client-urls",
                      "http://127.0.0.1:" + std::to_string(free_port()), "--server-urls",
                      "http://127.0.0.1:" + std::to_string(free_port()), "lang",
                      dir.path() + "/code"});
  // The program runs again when the key changes (or right after its watch starts, if the key
  // changed first): the file is written once or twice (the first graph's may be replaced
  // before it ran).
  for (std::size_t writes = 1; writes <= 3 && slurp(out) != "hello"; ++writes) {
    agent.wait_for_occurrences("file[" + out + "]: contents written", writes,
                               std::chrono::seconds(20));
  }
  INFO(agent.output());
  CHECK(slurp(out) == "hello");
}
