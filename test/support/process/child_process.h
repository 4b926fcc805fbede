// child_process.h: a real child process for tests (an `mgmt run`, an etcd, an etcdctl):
// started with argv and extra environment, its stdout and stderr merged and collected by a
// reader thread, so a test can wait for a line to appear (an event, never a sleep), send it a
// signal, and collect its exit code. The destructor kills (SIGKILL) and reaps it if still alive.
// Unless the test sets TMPDIR, the child gets a TMPDIR of its own, removed after it is reaped
// (an agent killed with SIGKILL cannot remove its --tmp-prefix data dir itself).
// Thread-safety: the output buffer is guarded; the other methods are for the test's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace mgmt::test {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& extra_env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits until the merged output contains `text`; false if the process exits first or
  // `timeout` passes (a bound for a broken build, not a synchronisation).
  bool wait_for_output(const std::string& text,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits until `text` appears at least `count` times in the merged output.
  bool wait_for_occurrences(const std::string& text, std::size_t count,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::string output();

  // Sends a signal; SIGSTOP returns once the process has stopped (every thread), or exited.
  void send_signal(int signal_number);
  // Waits for the process to exit and returns its exit code (128+N when killed by signal N),
  // or nothing if `timeout` passes.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::thread reader_;
  std::mutex mutex_;  // guards output_, eof_
  std::condition_variable changed_;
  std::string output_;
  bool eof_ = false;
  std::optional<int> exit_code_;
  std::string tmpdir_;  // the child's TMPDIR when this object made it; removed at destruction
};

// Runs a command to completion and returns its exit code and merged output.
struct Completed {
  int exit_code;
  std::string output;
};
Completed run_to_completion(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& extra_env = {});

// A fresh temporary directory, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole content of a file ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace mgmt::test
