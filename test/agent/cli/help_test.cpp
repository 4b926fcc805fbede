// help_test.cpp: every command's help is one text, whichever way it is asked.
#include "test/agent/cli/cli_runner.h"

#include <catch2/catch.hpp>

using mgmt::agent::cli::testing::run;
using mgmt::agent::cli::testing::words;

namespace {

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("cli: help is the same text for every spelling of every command", "[cli][help]") {
  auto path_text = GENERATE(as<std::string>{}, "", "run", "deploy", "get", "graph", "restore", "version",
                            "help", "run empty", "run yaml", "run lang", "run puppet",
                            "run langpuppet", "deploy empty", "deploy yaml", "deploy lang",
                            "deploy puppet", "deploy langpuppet", "graph lang", "graph yaml");
  auto path = words(path_text);
  CAPTURE(path_text);

  auto reference = run(concat({"help"}, path));
  REQUIRE(reference.exit_code == 0);
  REQUIRE(reference.err.empty());
  REQUIRE(reference.out.find("Usage: mgmt") != std::string::npos);
  REQUIRE(reference.out.find("Usage: mgmt" + (path.empty() ? "" : " " + path_text)) !=
          std::string::npos);

  for (const char* flag : {"--help", "-h"}) {
    auto asked = run(concat(path, {flag}));
    CAPTURE(flag);
    CHECK(asked.exit_code == 0);
    CHECK(asked.out == reference.out);
  }
  bool has_subcommands = path.empty() || path == words("run") || path == words("deploy") ||
                         path == words("graph");
  if (has_subcommands && !path.empty()) {
    auto asked = run(concat(path, {"help"}));
    CHECK(asked.exit_code == 0);
    CHECK(asked.out == reference.out);
  }
}

TEST_CASE("cli: help is found after flags and their values", "[cli][help]") {
  auto reference = run(words("help deploy lang"));
  CHECK(run(words("deploy --seeds http://127.0.0.1:2379 lang --help")).out == reference.out);
  CHECK(run(words("deploy --seeds=http://127.0.0.1:2379 --force lang x.mcl -h")).out ==
        reference.out);
  CHECK(run(words("--verbose deploy lang --help")).out == reference.out);
}

TEST_CASE("cli: help lists flags with defaults, environment variables and frontends",
          "[cli][help]") {
  auto run_help = run(words("help run")).out;
  for (const char* expected :
       {"--hostname", "MGMT_HOSTNAME", "--seeds", "MGMT_SEEDS", "--client-urls",
        "MGMT_CLIENT_URLS", "--server-urls", "--prefix", "MGMT_PREFIX", "--tmp-prefix",
        "--ideal-cluster-size", "=5", "--no-server", "--converged-timeout", "=-1", "empty",
        "yaml", "lang", "puppet", "langpuppet"}) {
    CAPTURE(expected);
    CHECK(run_help.find(expected) != std::string::npos);
  }
  auto deploy_help = run(words("help deploy")).out;
  for (const char* expected : {"--seeds", "MGMT_SEEDS", "--no-git", "--force", "--noop",
                               "--wait", "empty", "yaml", "lang", "puppet", "langpuppet"}) {
    CAPTURE(expected);
    CHECK(deploy_help.find(expected) != std::string::npos);
  }
  auto lang_help = run(words("help deploy lang")).out;
  CHECK(lang_help.find("--skip-unify") != std::string::npos);
  CHECK(lang_help.find("main.mcl") != std::string::npos);
  CHECK(lang_help.find("'mgmt deploy' apply here too") != std::string::npos);
  auto get_help = run(words("help get")).out;
  for (const char* expected : {"--prefix", "--keys-only", "--rev", "--output", "table"}) {
    CAPTURE(expected);
    CHECK(get_help.find(expected) != std::string::npos);
  }
  auto root_help = run(words("help")).out;
  for (const char* expected : {"run", "deploy", "get", "graph", "restore", "help", "version", "--verbose",
                               "--debug"}) {
    CAPTURE(expected);
    CHECK(root_help.find(expected) != std::string::npos);
  }
}

TEST_CASE("cli: help for an unknown command names it and the closest match", "[cli][help]") {
  auto r = run(words("help dploy"));
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "mgmt help: \"dploy\" is not a command; did you mean \"deploy\"? (see 'mgmt help' for "
        "the list)\n");
  auto sub = run(words("help deploy lnag"));
  CHECK(sub.exit_code == 2);
  CHECK(sub.err.find("did you mean \"lang\"") != std::string::npos);
}

TEST_CASE("cli: version prints the version and the commit it was built from", "[cli]") {
  auto r = run(words("version"));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Matches("mgmt [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit [0-9a-f]{7,}.*\\)\n"));
  // Asked the way most tools (and the reference's) are asked, the same answer.
  auto flag = run(words("--version"));
  CHECK(flag.exit_code == 0);
  CHECK(flag.out == r.out);
  CHECK(flag.err.empty());
  auto after_command = run(words("run --version"));  // answers, and starts no agent
  CHECK(after_command.exit_code == 0);
  CHECK(after_command.out == r.out);
}
