// child_process.cpp: fork/exec with merged output collection; see child_process.h.
#include "test/support/process/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace mgmt::test {

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& extra_env) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  // The child's own TMPDIR, removed once it is reaped: what an agent killed with SIGKILL leaves
  // there (a --tmp-prefix data dir) does not pile up across test runs.
  if (extra_env.count("TMPDIR") == 0) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/mgmt-child-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    tmpdir_ = pattern;
  }
  // Build argv and envp before fork: only async-signal-safe calls in the child.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    if (extra_env.count(key) == 0 && !(key == "TMPDIR" && !tmpdir_.empty())) {
      env_strings.push_back(entry);
    }
  }
  for (const auto& [key, value] : extra_env) env_strings.push_back(key + "=" + value);
  if (!tmpdir_.empty()) env_strings.push_back("TMPDIR=" + tmpdir_);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    // Unblock what a test runner may have blocked, so signals behave as in a shell.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    const char msg[] = "exec failed\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::close(fds[1]);
  output_fd_ = fds[0];
  reader_ = std::thread([this] {
    char buffer[4096];
    for (;;) {
      ssize_t n = ::read(output_fd_, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      if (n <= 0) {
        eof_ = true;
        changed_.notify_all();
        return;
      }
      output_.append(buffer, static_cast<std::size_t>(n));
      changed_.notify_all();
    }
  });
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (reader_.joinable()) reader_.join();
  ::close(output_fd_);
  if (!tmpdir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(tmpdir_, ignored);
  }
}

bool ChildProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return output_.find(text) != std::string::npos || eof_;
  }) && output_.find(text) != std::string::npos;
}

bool ChildProcess::wait_for_occurrences(const std::string& text, std::size_t count,
                                        std::chrono::milliseconds timeout) {
  auto seen = [&] {
    std::size_t n = 0;
    for (auto at = output_.find(text); at != std::string::npos; at = output_.find(text, at + 1)) {
      ++n;
    }
    return n;
  };
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return seen() >= count || eof_; }) &&
         seen() >= count;
}

std::string ChildProcess::output() {
  std::lock_guard<std::mutex> lock(mutex_);
  return output_;
}

void ChildProcess::send_signal(int signal_number) {
  ::kill(pid_, signal_number);
  if (signal_number == SIGSTOP) {
    // A stop takes effect once every thread of the process has stopped; one still running may
    // answer a request meanwhile. The kernel tells the parent when the stop is complete (or
    // the process exited): wait for that, leaving the state for a later wait (WNOWAIT).
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid_), &info, WSTOPPED | WEXITED | WNOWAIT);
  }
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  // The output pipe closes when the process (and any child holding it) exits.
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return eof_; })) return std::nullopt;
  }
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

Completed run_to_completion(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& extra_env) {
  ChildProcess child(argv, extra_env);
  auto code = child.wait_exit(std::chrono::minutes(5));
  return {code.value_or(-1), child.output()};
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/mgmt-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace mgmt::test
