// list_flags_test.cpp: list-valued flags accept every spelling and never swallow the
// positional arguments that follow them.
#include "agent/cli/command_tree.h"
#include "test/agent/cli/cli_runner.h"

#include <catch2/catch.hpp>

#include <cstdlib>

using mgmt::agent::cli::build_command_tree;
using mgmt::agent::cli::testing::words;

namespace {

// Parses `line` with a fresh tree and returns it for inspection.
std::unique_ptr<mgmt::agent::cli::CommandTree> parse(const std::string& line) {
  auto tree = build_command_tree();
  auto args = words(line);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  tree->root->parse(reversed);
  return tree;
}

const std::vector<std::string> kTwo = {"http://127.0.0.1:2379", "http://127.0.0.1:3379"};

}  // namespace

TEST_CASE("cli: --seeds accepts commas, repeats and repeats with '='", "[cli][flags]") {
  auto spelling = GENERATE(as<std::string>{},
                           "--seeds=http://127.0.0.1:2379,http://127.0.0.1:3379",
                           "--seeds http://127.0.0.1:2379 --seeds http://127.0.0.1:3379",
                           "--seeds=http://127.0.0.1:2379 --seeds=http://127.0.0.1:3379",
                           "--seeds http://127.0.0.1:2379,http://127.0.0.1:3379");
  CAPTURE(spelling);
  auto tree = parse("deploy " + spelling + " lang x.mcl");
  CHECK(tree->options.deploy.seeds == kTwo);
  CHECK(tree->options.deploy.frontend.name == "lang");
  CHECK(tree->options.deploy.frontend.input == "x.mcl");
}

TEST_CASE("cli: a list flag before the frontend never swallows the frontend or its code",
          "[cli][flags]") {
  auto tree = parse("deploy --seeds http://127.0.0.1:2379 lang x.mcl");
  CHECK(tree->options.deploy.seeds == std::vector<std::string>{"http://127.0.0.1:2379"});
  CHECK(tree->options.deploy.frontend.name == "lang");
  CHECK(tree->options.deploy.frontend.input == "x.mcl");

  auto run_tree = parse(
      "run --client-urls http://127.0.0.1:2379 --server-urls http://127.0.0.1:2380 yaml g.yaml");
  CHECK(run_tree->options.run.client_urls == std::vector<std::string>{"http://127.0.0.1:2379"});
  CHECK(run_tree->options.run.server_urls == std::vector<std::string>{"http://127.0.0.1:2380"});
  CHECK(run_tree->options.run.frontend.name == "yaml");
  CHECK(run_tree->options.run.frontend.input == "g.yaml");
}

TEST_CASE("cli: deploy flags may follow the frontend", "[cli][flags]") {
  auto tree = parse("deploy lang --seeds=http://127.0.0.1:2379 --force x.mcl");
  CHECK(tree->options.deploy.seeds == std::vector<std::string>{"http://127.0.0.1:2379"});
  CHECK(tree->options.deploy.force);
  CHECK(tree->options.deploy.frontend.input == "x.mcl");
}

TEST_CASE("cli: MGMT_SEEDS fills --seeds and the flag wins over it", "[cli][flags]") {
  ::setenv("MGMT_SEEDS", "http://127.0.0.1:2379,http://127.0.0.1:3379", 1);
  auto from_env = parse("deploy empty");
  auto from_flag = parse("deploy --seeds http://127.0.0.1:4379 empty");
  ::unsetenv("MGMT_SEEDS");
  CHECK(from_env->options.deploy.seeds == kTwo);
  CHECK(from_flag->options.deploy.seeds == std::vector<std::string>{"http://127.0.0.1:4379"});
}

TEST_CASE("cli: run defaults are the documented ones", "[cli][flags]") {
  auto tree = parse("run");
  CHECK(tree->options.run.ideal_cluster_size == 5);
  CHECK(tree->options.run.converged_timeout == -1);
  CHECK(tree->options.run.seeds.empty());
  CHECK_FALSE(tree->options.run.no_server);
  CHECK(tree->options.run.frontend.name.empty());
}
