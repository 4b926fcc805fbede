// command_lines_test.cpp: os.system's processes: the first line is waited for, later lines
// call back and become the latest, a new command at a site replaces the old one (which is
// stopped), sites no longer used are stopped, and a command that prints nothing gives "".
#include "frontends/lang/command_lines.h"
#include "test/support/process/child_process.h"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <signal.h>

using mgmt::frontends::lang::CommandLines;
using mgmt::test::TempDir;

namespace {

// Counts on_line calls and lets a test wait for the next one.
struct Lines {
  std::mutex mutex;
  std::condition_variable changed;
  int count = 0;
  bool wait_for(int n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(20), [&] { return count >= n; });
  }
};

}  // namespace

TEST_CASE("os.system: the first line is waited for, each later line calls back and becomes "
          "the latest",
          "[lang][system]") {
  TempDir dir;
  const std::string go = dir.path() + "/go";
  CommandLines commands;
  Lines lines;
  commands.set_on_line([&](const std::string&) {
    std::lock_guard lock(lines.mutex);
    ++lines.count;
    lines.changed.notify_all();
  });
  const std::string cmd =
      "echo one; while [ ! -e " + go + " ]; do sleep 0.02; done; echo two; echo three >&2";
  CHECK(commands.latest("site", cmd) == "one");
  CHECK(commands.latest("site", cmd) == "one");  // the same command keeps running
  { std::ofstream(go) << ""; }
  REQUIRE(lines.wait_for(1));
  CHECK(commands.latest("site", cmd) == "two");
}

TEST_CASE("os.system: a new command at a site stops the old one, retain stops unused sites",
          "[lang][system]") {
  TempDir dir;
  CommandLines commands;
  const std::string pid_file = dir.path() + "/pid";
  CHECK(commands.latest("a", "echo $$ > " + pid_file + "; echo started; sleep 600") ==
        "started");
  pid_t old_pid = 0;
  std::ifstream(pid_file) >> old_pid;
  REQUIRE(old_pid > 0);
  CHECK(::kill(old_pid, 0) == 0);
  CHECK(commands.latest("a", "echo other") == "other");
  CHECK(::kill(old_pid, 0) != 0);  // stopped and reaped
  CHECK(commands.latest("b", "echo $$ > " + pid_file + "; echo b; sleep 600") == "b");
  pid_t b_pid = 0;
  std::ifstream(pid_file) >> b_pid;
  commands.retain({"a"});
  CHECK(::kill(b_pid, 0) != 0);
}

TEST_CASE("os.system: a command that ends without a line gives the empty string",
          "[lang][system]") {
  CommandLines commands;
  CHECK(commands.latest("s", "true").empty());
  CHECK(commands.latest("t", "printf 'no newline'") == "no newline");
}
