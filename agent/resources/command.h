// command.h: running a program for a resource: its argv (cmd with args, or cmd through a
// shell), extra environment and working directory; stdout and stderr together, collected;
// a timeout that kills the whole process group. The child starts with no signals blocked, in a
// process group of its own, with stdin from /dev/null.
// Thread-safety: free functions, safe from any thread.
#pragma once

#include "common/result.h"

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mgmt::agent::resources {

struct Command {
  std::string cmd;
  std::vector<std::string> args;
  std::string shell;  // with no args and no shell, cmd runs through /bin/sh -c
  std::string cwd;
  std::map<std::string, std::string> env;  // added to the agent's environment
  bool direct = false;  // cmd is a program run with args as they are, never through a shell
  // Run as this user (with its groups) and/or primary group; unset: as the agent.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // Sent to the process group when the timeout passes; a group still running 5 s later is
  // killed (SIGKILL).
  int stop_signal = SIGKILL;
};

struct Outcome {
  int exit_code = -1;  // -1: could not start; 128 + N: killed by signal N
  std::string output;       // stdout and stderr as they came
  std::string stdout_text;  // each on its own
  std::string stderr_text;
  bool timed_out = false;
};

// The argv a Command runs.
std::vector<std::string> argv_of(const Command& c);
// Starts it; *output_fd reads its stdout and stderr (or only stdout, with error_fd reading
// stderr). -1 when it could not start.
pid_t spawn(const Command& c, int* output_fd, int* error_fd = nullptr);
// Runs it to the end (or the timeout in seconds; 0: none).
Outcome run(const Command& c, int64_t timeout_seconds);
// A program with arguments, no shell: run_program({"getent", "group", "x"}).
Outcome run_program(const std::vector<std::string>& argv, int64_t timeout_seconds = 120);

// Runs a system tool (useradd, apt-get, …) for resource `self`; a failure is one line naming
// the command, its exit status and what it printed.
Result<void> run_tool(const std::string& self, const std::vector<std::string>& argv);

}  // namespace mgmt::agent::resources
