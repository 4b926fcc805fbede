// story_helpers.h: what the deploy stories share: the mgmt binary under test, agents started
// on loopback, `mgmt deploy` and shell commands run to completion, files written.
#pragma once

#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::test::stories {

inline std::string url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

inline void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// As editors save: a new file renamed over the old one, so that a reader never sees it empty or
// half written (a write in place is seen first truncated, then written).
inline void save(const std::string& path, const std::string& text) {
  write(path + ".new", text);
  std::filesystem::rename(path + ".new", path);
}

inline Completed sh(const std::string& command) {
  return run_to_completion({"/bin/sh", "-c", command});
}

// `mgmt deploy --seeds=SEEDS ARGS`, its stdout and stderr together.
inline Completed deploy(const std::string& seeds, const std::string& args) {
  return sh(mgmt_binary() + " deploy --seeds=" + seeds + " " + args + " 2>&1");
}

// One agent hosting the store, started.
struct Agent {
  Agent(const std::vector<std::string>& extra, const std::string& name) {
    std::vector<std::string> argv = {mgmt_binary(), "run", "--hostname", name};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<ChildProcess>(argv);
  }
  std::unique_ptr<ChildProcess> process;
};

// An agent alone, named `name`, hosting its store's clients on `port`, waiting for deploys.
inline Agent lone_agent(int port, const std::string& name) {
  Agent a({"--tmp-prefix", "--client-urls", url(port), "--server-urls", url(free_port())}, name);
  REQUIRE(a.process->wait_for_output("waiting for `mgmt deploy`"));
  return a;
}

}  // namespace mgmt::test::stories
