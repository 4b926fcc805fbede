// exec.cpp: the exec resource: runs a command when it is out of state. It is out of state
// until the command has run once successfully, unless `creates` names a file that exists, or
// `ifcmd` exits non-zero (nothing to do). A refresh (notify edge) or a line printed by
// `watchcmd` makes it run again. `shell` runs cmd through that shell ("/bin/sh" when unset and
// no `args` are given); with `args`, cmd is the program and args its arguments. `timeout`
// (seconds) kills a command that runs too long. Output goes to the log, a line each.
// `nifcmd` is ifcmd turned round (the command runs only when nifcmd fails); `donecmd` runs after
// cmd succeeded. `user` and `group` run every one of them as that user (with its groups) and
// group, which needs the agent to run as root. `ifequals` (`ifequals_stdout`): an ifcmd that
// succeeds and prints exactly this (on stdout) also means nothing to do. `mtimes`: files
// watched; one changed since the last run makes the command run again, whatever creates,
// ifcmd or nifcmd say. `sig`: the signal a timeout sends first (default SIGTERM; SIGKILL 5 s
// later). `send_output`, `send_stdout`, `send_stderr`: what send/recv sends before the command
// has run here. `refresh_only`: it runs only when refreshed (a notify edge), never on its own
// (puppet's refreshonly).
#include "agent/resources/accounts.h"
#include "agent/resources/command.h"
#include "agent/resources/files_watch.h"
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
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
    nifcmd_ = {p.value("nifcmd", std::string()), {}, p.value("nifshell", std::string()),
               p.value("nifcwd", std::string()), command_.env};
    donecmd_ = {p.value("donecmd", std::string()), {}, p.value("doneshell", std::string()),
                p.value("donecwd", std::string()), command_.env};
    watch_files_ = p.value("watchfiles", std::vector<std::string>());
    for (const auto& f : watch_files_) {
      if (f.empty() || f[0] != '/' || f.back() == '/') {
        return fail(Code::invalid_argument, "exec[" + spec.name + "]: watchfiles entry \"" + f +
                                                "\" must be an absolute file path");
      }
    }
    user_ = p.value("user", std::string());
    group_ = p.value("group", std::string());
    if_equals_.reset();
    if_equals_stdout_.reset();
    if (auto e = p.find("ifequals"); e != p.end() && e->is_string()) if_equals_ = *e;
    if (auto e = p.find("ifequals_stdout"); e != p.end() && e->is_string()) {
      if_equals_stdout_ = *e;
    }
    mtimes_ = p.value("mtimes", std::vector<std::string>());
    refresh_only_ = p.value("refresh_only", false);
    for (const auto& f : mtimes_) {
      if (f.empty() || f[0] != '/') {
        return fail(Code::invalid_argument, "exec[" + spec.name + "]: the path (\"" + f +
                                                "\") in mtimes must be absolute");
      }
    }
    const std::string sig = p.value("sig", std::string());
    auto signal = signal_named(sig);
    if (!signal) {
      return fail(Code::invalid_argument,
                  "exec[" + spec.name + "]: invalid sig \"" + sig +
                      "\"; use a signal name like SIGTERM, SIGINT or SIGKILL");
    }
    for (Command* c : {&command_, &ifcmd_, &nifcmd_, &donecmd_}) c->stop_signal = *signal;
    {
      std::lock_guard lock(sent_mutex_);
      for (const char* key : {"output", "stdout", "stderr"}) {
        auto given = p.find(std::string("send_") + key);
        if (given != p.end() && given->is_string() && !sent_.contains(key)) {
          sent_[key] = *given;
        }
      }
    }
    return ok();
  }

  // "SIGTERM" or "TERM" (any signal the C library names), default SIGTERM.
  static std::optional<int> signal_named(const std::string& name) {
    if (name.empty()) return SIGTERM;
    const std::string bare = name.rfind("SIG", 0) == 0 ? name.substr(3) : name;
    for (int s = 1; s < NSIG; ++s) {
      const char* abbrev = ::sigabbrev_np(s);
      if (abbrev != nullptr && bare == abbrev) return s;
    }
    return std::nullopt;
  }

  // Whether a file in mtimes changed after the command last ran here (or cannot be read).
  Result<bool> mtimes_newer() const {
    for (const auto& f : mtimes_) {
      std::error_code ec;
      const auto when = std::filesystem::last_write_time(f, ec);
      if (ec) {
        return fail(Code::failed_precondition,
                    id() + ": the file " + f + " in mtimes is missing; create it first");
      }
      if (!last_run_ || when > *last_run_) return true;
    }
    return false;
  }

  // Each line watchcmd prints, and each change of a file in watchfiles, makes it run again.
  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    if (watchcmd_.cmd.empty() && watch_files_.empty() && mtimes_.empty()) return nullptr;
    auto again = [this, on_event] {
      ++changes_;  // the watched thing changed: run again
      on_event();
    };
    auto both = std::make_unique<Watches>();
    if (!watchcmd_.cmd.empty()) {
      both->parts.push_back(std::make_unique<LineWatch>(watchcmd_, again));
    }
    if (!watch_files_.empty()) {
      both->parts.push_back(std::make_unique<FilesWatch>(watch_files_, again));
    }
    if (!mtimes_.empty()) {  // a check compares the times; the event only asks for one
      both->parts.push_back(std::make_unique<FilesWatch>(mtimes_, on_event));
    }
    return both;
  }

  Result<bool> check_apply(bool apply) override {
    const uint64_t changes_at_start = changes_.load();
    std::error_code ec;
    auto newer = mtimes_newer();
    if (!newer) return fail(newer.error());
    const bool forced = *newer;  // mtimes: run, whatever the guards say
    if (!forced) {
      if (refresh_only_ && !refresh()) return true;  // only a notify edge makes it run
      if (!creates_.empty() && std::filesystem::exists(creates_, ec)) return true;
      if (ran_after_ == changes_.load() && !refresh()) return true;
    }
    auto ids = identity();
    if (!ids) return fail(ids.error());
    for (Command* c : {&command_, &ifcmd_, &nifcmd_, &donecmd_}) {
      c->uid = ids->first;
      c->gid = ids->second;
    }
    if (!forced && !ifcmd_.cmd.empty()) {
      auto check = run(ifcmd_, timeout_);
      if (check.exit_code != 0) return true;  // nothing to do
      if (if_equals_ && *if_equals_ == check.output) return true;
      if (if_equals_stdout_ && *if_equals_stdout_ == check.stdout_text) return true;
    }
    if (!forced && !nifcmd_.cmd.empty()) {
      auto check = run(nifcmd_, timeout_);
      if (check.exit_code == 0) return true;  // nothing to do
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
    ran_after_ = changes_at_start;
    last_run_ = std::filesystem::file_time_type::clock::now();  // its own writes do not count
    {
      std::lock_guard lock(sent_mutex_);
      sent_ = {{"output", outcome.output},
               {"stdout", outcome.stdout_text},
               {"stderr", outcome.stderr_text}};
    }
    if (!donecmd_.cmd.empty()) {
      auto done = run(donecmd_, timeout_);
      if (done.exit_code != 0) {
        return fail(Code::internal, id() + ": donecmd exited with status " +
                                        std::to_string(done.exit_code));
      }
    }
    return false;
  }

 private:
  // The user and group to run as, looked up at each check (a user resource may make them).
  Result<std::pair<std::optional<uid_t>, std::optional<gid_t>>> identity() const {
    std::pair<std::optional<uid_t>, std::optional<gid_t>> out;
    if (!user_.empty()) {
      auto u = lookup_user(user_);
      if (!u) {
        return fail(Code::failed_precondition, id() + ": user \"" + user_ + "\" does not "
                                                      "exist; add a user resource for it");
      }
      out.first = u->uid;
    }
    if (!group_.empty()) {
      auto g = lookup_group(group_);
      if (!g) {
        return fail(Code::failed_precondition, id() + ": group \"" + group_ + "\" does not "
                                                      "exist; add a group resource for it");
      }
      out.second = *g;
    }
    if ((out.first || out.second) && ::geteuid() != 0 &&
        (out.first.value_or(::geteuid()) != ::geteuid() ||
         out.second.value_or(::getegid()) != ::getegid())) {
      return fail(Code::permission_denied, id() + ": running as another user or group needs "
                                                  "the agent to run as root");
    }
    return out;
  }

  // Send/recv: what the last run printed (output, stdout, stderr).
  std::optional<nlohmann::json> sent(const std::string& key) const override {
    std::lock_guard lock(sent_mutex_);
    if (!sent_.contains(key)) return std::nullopt;
    return sent_[key];
  }

  struct Watches final : Watch {
    std::vector<std::unique_ptr<Watch>> parts;
  };

  Command command_;
  Command ifcmd_;
  Command nifcmd_;
  std::vector<std::string> watch_files_;
  mutable std::mutex sent_mutex_;
  nlohmann::json sent_ = nlohmann::json::object();
  Command donecmd_;
  std::string user_;
  std::string group_;
  Command watchcmd_;
  int64_t timeout_ = 0;
  std::string creates_;
  std::optional<std::string> if_equals_;
  std::optional<std::string> if_equals_stdout_;
  std::vector<std::string> mtimes_;
  bool refresh_only_ = false;
  std::optional<std::filesystem::file_time_type> last_run_;  // of the last successful run
  // Changes of what it watches, and how many it has run after: it runs again unless it ran
  // after the latest. A change during a run counts for the next one (a flag, set by the change
  // and cleared when the run ended, lost a change that came while the command ran).
  std::atomic<uint64_t> changes_{1};
  std::atomic<uint64_t> ran_after_{0};
};

}  // namespace

std::unique_ptr<Resource> make_exec() { return std::make_unique<Exec>(); }

}  // namespace mgmt::agent::resources
