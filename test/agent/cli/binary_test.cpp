// binary_test.cpp: the real build/mgmt binary, as a user's shell runs it: exit codes, and
// that help goes to stdout and misuse to stderr.
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct Ran {
  int exit_code;
  std::string output;
};

// Runs `mgmt ARGS` through the shell with stdout kept and stderr dropped, or the reverse.
Ran run_binary(const std::string& args, bool keep_stderr) {
  const std::string binary = mgmt::test::mgmt_binary();
  std::string command = std::string(binary) + " " + args +
                        (keep_stderr ? " 2>&1 >/dev/null" : " 2>/dev/null");
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    output.append(buffer.data(), n);
  }
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

TEST_CASE("cli: the binary prints help on stdout and exits 0", "[cli][binary]") {
  auto help = run_binary("deploy --help", false);
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("Usage: mgmt deploy") != std::string::npos);
  CHECK(run_binary("help deploy", false).output == help.output);
}

TEST_CASE("cli: the binary prints misuse on stderr and exits 2", "[cli][binary]") {
  auto misuse = run_binary("dploy", true);
  CHECK(misuse.exit_code == 2);
  CHECK(misuse.output.find("did you mean \"deploy\"") != std::string::npos);
  CHECK(run_binary("dploy", false).output.empty());
}
