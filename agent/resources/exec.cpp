// exec.cpp: the exec resource: runs a command when it is out of state. It is out of state
// until the command has run once successfully, unless `creates` names a file that exists, or
// `ifcmd` exits non-zero (nothing to do). A refresh (notify edge) or a line printed by
// `watchcmd` makes it run again. `shell` runs cmd through that shell ("/bin/sh" when unset and
// no `args` are given); with `args`, cmd is the program and args its arguments. `timeout`
// (seconds) kills a command that runs too long. Output goes to the log, a line each.
#include "agent/resources/command.h"
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
