// command_lines.h: what `os.system(cmd)` runs: one shell command per call site, kept running
// while the program uses it; its value is the latest line the command printed on stdout
// (stderr goes to the log). A new command at a site stops the old one (its whole process
// group) and starts the new; sites a run no longer uses are stopped by `retain`. The first
// call waits for the first line (at most `first_line_wait`); a command that ends without
// printing gives "". Every later line calls `on_line`, so the runner runs the program again.
// Invariants: at most one process per site; a stopped process is reaped before its reader
// thread is joined; after the destructor no process of ours runs and no callback comes.
// Thread-safety: all members lock; callbacks come from reader threads, without the lock held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <sys/types.h>

namespace mgmt::frontends::lang {

class CommandLines {
 public:
  explicit CommandLines(std::chrono::milliseconds first_line_wait = std::chrono::seconds(10))
      : first_line_wait_(first_line_wait) {}
  ~CommandLines();
  CommandLines(const CommandLines&) = delete;
  CommandLines& operator=(const CommandLines&) = delete;

  // The latest line of `cmd` run at `site` (started now if it is not running there).
  std::string latest(const std::string& site, const std::string& cmd);
  // Stops the commands of every site not in `sites`.
  void retain(const std::set<std::string>& sites);
  // Called with the command after each line past the first a caller has seen; nullptr to stop.
  // When lines came before it was set and nobody has read them, it is called at once.
  void set_on_line(std::function<void(const std::string&)> on_line);

 private:
  struct Process {
    std::string cmd;
    pid_t pid = -1;
    std::string line;       // the latest line printed
    bool has_line = false;
    bool ended = false;     // stdout closed
    bool unread = false;    // a line came that no caller has seen yet
    bool waiting = false;   // a caller waits for the first line
    std::thread reader;
  };
  void start(Process& p, const std::string& site);
  void read_lines(Process* p, int out_fd, int err_fd, std::string cmd);
  static void stop(std::unique_ptr<Process>& p);

  const std::chrono::milliseconds first_line_wait_;
  std::mutex callback_mutex_;  // held while on_line_ runs; taken before mutex_
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::unique_ptr<Process>> sites_;
  std::function<void(const std::string&)> on_line_;
};

}  // namespace mgmt::frontends::lang
