// exec.cpp: the exec resource: runs a command when it is out of state. It is out of state
// until the command has run once successfully, unless `creates` names a file that exists, or
// `ifcmd` exits non-zero (nothing to do). A refresh (notify edge) or a line printed by
// `watchcmd` makes it run again. `shell` runs cmd through that shell ("/bin/sh" when unset and
// no `args` are given); with `args`, cmd is the program and args its arguments. `timeout`
// (seconds) kills a command that runs too long. Output goes to the log, a line each.
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

extern char** environ;

namespace mgmt::agent::resources {
namespace {

struct Command {
  std::string cmd;
  std::vector<std::string> args;
  std::string shell;
  std::string cwd;
  std::map<std::string, std::string> env;
};

struct Outcome {
  int exit_code = -1;
  std::string output;
  bool timed_out = false;
};

std::vector<std::string> argv_of(const Command& c) {
  if (!c.args.empty() && c.shell.empty()) {
    std::vector<std::string> argv{c.cmd};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    return argv;
  }
  return {c.shell.empty() ? "/bin/sh" : c.shell, "-c", c.cmd};
}

pid_t spawn(const Command& c, int* output_fd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  auto argv_strings = argv_of(c);
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : c.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setpgid(0, 0);
    if (!c.cwd.empty() && ::chdir(c.cwd.c_str()) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  *output_fd = fds[0];
  return pid;
}

Outcome run(const Command& c, int64_t timeout_seconds) {
  Outcome outcome;
  int fd = -1;
  pid_t pid = spawn(c, &fd);
  if (pid < 0) return outcome;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  char buffer[4096];
  for (;;) {
    int wait_ms = -1;
    if (timeout_seconds > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, wait_ms);
    if (ready == 0) {
      outcome.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    outcome.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return outcome;
}

// Runs watchcmd for as long as the watch lives; each line it prints is an event.
class LineWatch final : public Watch {
 public:
  LineWatch(const Command& c, std::function<void()> on_line) {
    pid_ = spawn(c, &fd_);
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    thread_ = std::thread([this, on_line = std::move(on_line)] {
      char buffer[4096];
      for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents != 0) return;
        ssize_t n = ::read(fd_, buffer, sizeof(buffer));
        if (n <= 0) return;
        for (ssize_t i = 0; i < n; ++i) {
          if (buffer[i] == '\n') on_line();
        }
      }
    });
  }
  ~LineWatch() override {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof(one));
    thread_.join();
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    ::close(fd_);
    ::close(stop_fd_);
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;
};

class Exec final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    const auto& p = spec.params;
    command_.cmd = p.value("cmd", std::string());
    if (command_.cmd.empty()) {
      return fail(Code::invalid_argument, "exec[" + spec.name + "]: field \"cmd\" is required");
    }
    command_.args = p.value("args", std::vector<std::string>());
    command_.shell = p.value("shell", std::string());
    command_.cwd = p.value("cwd", std::string());
    command_.env = p.value("env", std::map<std::string, std::string>());
    timeout_ = p.value("timeout", int64_t{0});
    creates_ = p.value("creates", std::string());
    ifcmd_ = {p.value("ifcmd", std::string()), {}, p.value("ifshell", std::string()),
              p.value("ifcwd", std::string()), command_.env};
    watchcmd_ = {p.value("watchcmd", std::string()), {}, p.value("watchshell", std::string()),
                 p.value("watchcwd", std::string()), command_.env};
    return ok();
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    if (watchcmd_.cmd.empty()) return nullptr;
    return std::make_unique<LineWatch>(watchcmd_, [this, on_event] {
      ran_ = false;  // the watched thing changed: run again
      on_event();
    });
  }

  Result<bool> check_apply(bool apply) override {
    std::error_code ec;
    if (!creates_.empty() && std::filesystem::exists(creates_, ec)) return true;
    if (ran_ && !refresh()) return true;
    if (!ifcmd_.cmd.empty()) {
      auto check = run(ifcmd_, timeout_);
      if (check.exit_code != 0) return true;  // nothing to do
    }
    if (!apply) return false;
    auto outcome = run(command_, timeout_);
    auto log = log::get("engine");
    std::size_t start = 0;
    while (start < outcome.output.size()) {
      auto end = outcome.output.find('\n', start);
      if (end == std::string::npos) end = outcome.output.size();
      log->info("{}: output: {}", id(), outcome.output.substr(start, end - start));
      start = end + 1;
    }
    if (outcome.timed_out) {
      return fail(Code::deadline_exceeded, id() + ": cmd killed after its timeout of " +
                                               std::to_string(timeout_) + "s");
    }
    if (outcome.exit_code != 0) {
      return fail(Code::internal, id() + ": cmd exited with status " +
                                      std::to_string(outcome.exit_code));
    }
    ran_ = true;
    return false;
  }

 private:
  Command command_;
  Command ifcmd_;
  Command watchcmd_;
  int64_t timeout_ = 0;
  std::string creates_;
  std::atomic<bool> ran_{false};
};

}  // namespace

std::unique_ptr<Resource> make_exec() { return std::make_unique<Exec>(); }

}  // namespace mgmt::agent::resources
