// command.cpp: see command.h.
#include "agent/resources/command.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

extern char** environ;

namespace mgmt::agent::resources {

std::vector<std::string> argv_of(const Command& c) {
  if (c.direct || (!c.args.empty() && c.shell.empty())) {
    std::vector<std::string> argv{c.cmd};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    return argv;
  }
  return {c.shell.empty() ? "/bin/sh" : c.shell, "-c", c.cmd};
}

pid_t spawn(const Command& c, int* output_fd, int* error_fd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  int errs[2] = {-1, -1};
  if (error_fd != nullptr && ::pipe2(errs, O_CLOEXEC) != 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return -1;
  }
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
    ::dup2(error_fd != nullptr ? errs[1] : fds[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setpgid(0, 0);
    if (!c.cwd.empty() && ::chdir(c.cwd.c_str()) != 0) ::_exit(126);
    // Drop to the user last: groups first (they need the privilege the uid change gives up).
    if (c.gid && ::setgid(*c.gid) != 0) ::_exit(126);
    if (c.uid) {
      struct passwd* pw = ::getpwuid(*c.uid);
      const gid_t primary = c.gid ? *c.gid : (pw ? pw->pw_gid : ::getgid());
      if (pw && ::initgroups(pw->pw_name, primary) != 0) ::_exit(126);
      if (!c.gid && ::setgid(primary) != 0) ::_exit(126);
      if (::setuid(*c.uid) != 0) ::_exit(126);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  *output_fd = fds[0];
  if (error_fd != nullptr) {
    ::close(errs[1]);
    *error_fd = errs[0];
  }
  return pid;
}

namespace {

// Sends `signal` to the process group led by `pid`; when that is not SIGKILL, waits up to 5 s
// for the leader to end (on its pidfd, no polling) before killing the group.
void stop_group(pid_t pid, int signal) {
  ::kill(-pid, signal);
  if (signal == SIGKILL) return;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  bool ended = false;
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ended = ::poll(&p, 1, 5000) > 0;
    ::close(pidfd);
  }
  if (!ended) ::kill(-pid, SIGKILL);
}

}  // namespace

Outcome run(const Command& c, int64_t timeout_seconds) {
  Outcome outcome;
  int out = -1;
  int err = -1;
  pid_t pid = spawn(c, &out, &err);
  if (pid < 0) return outcome;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  char buffer[4096];
  // Both pipes until both are closed; output holds them interleaved as they came.
  while (out >= 0 || err >= 0) {
    int wait_ms = -1;
    if (timeout_seconds > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    pollfd p[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
    int ready = ::poll(p, 2, wait_ms);
    if (ready == 0) {
      outcome.timed_out = true;
      stop_group(pid, c.stop_signal);
      break;
    }
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      int& fd = i == 0 ? out : err;
      if (fd < 0 || p[i].revents == 0) continue;
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd);
        fd = -1;
        continue;
      }
      const std::string chunk(buffer, static_cast<std::size_t>(n));
      outcome.output += chunk;
      (i == 0 ? outcome.stdout_text : outcome.stderr_text) += chunk;
    }
  }
  if (out >= 0) ::close(out);
  if (err >= 0) ::close(err);
  int status = 0;
  ::waitpid(pid, &status, 0);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return outcome;
}

Outcome run_program(const std::vector<std::string>& argv, int64_t timeout_seconds) {
  Command c;
  c.cmd = argv.at(0);
  c.args.assign(argv.begin() + 1, argv.end());
  c.direct = true;
  return run(c, timeout_seconds);
}

Result<void> run_tool(const std::string& self, const std::vector<std::string>& argv) {
  const Outcome o = run_program(argv);
  if (o.exit_code == 0) return ok();
  std::string out = o.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  return fail(Code::unavailable,
              self + ": `" + command + "` failed (" +
                  (o.exit_code < 0 ? std::string("could not start; is it installed?")
                                   : "exit " + std::to_string(o.exit_code)) +
                  (out.empty() ? "" : ": " + out) + ")");
}


}  // namespace mgmt::agent::resources
