// auto_compactor.h: etcd's automatic compaction (--auto-compaction-mode,
// --auto-compaction-retention), so that a long-running cluster's history does not grow until
// it fills the space quota (space_quota.h) or the hosts' memory. Only the leader compacts (the
// compaction goes through Raft like a client's); every member samples its revision, so that a
// new leader compacts on time.
//   periodic R: every R/10 the current revision is recorded; the oldest record made at least R
//     ago is the target: the history kept covers at least the last R.
//   revision N: every 5 minutes (as etcd), compacts to the current revision minus N.
// Each compaction is logged in one line; a refused one (already compacted) is skipped quietly.
// Thread-safety: start()/stop() from one thread; the work runs on a thread of its own.
#pragma once

#include "common/result.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace mgmt::store::server {

struct AutoCompaction {
  enum class Mode { periodic, revision };
  Mode mode = Mode::periodic;
  std::chrono::milliseconds period{0};  // periodic; 0: off
  int64_t revisions = 0;                // revision; 0: off
  bool enabled() const {
    return mode == Mode::periodic ? period.count() > 0 : revisions > 0;
  }
};

// etcd's flags: mode "periodic" or "revision"; retention "0" (off), for periodic a number of
// hours or a duration ("30m", "1h30m", "10s"), for revision a number of revisions. Errors name
// the flag and what it takes.
[[nodiscard]] Result<AutoCompaction> parse_auto_compaction(const std::string& mode,
                                                           const std::string& retention);

class AutoCompactor {
 public:
  struct Hooks {
    std::function<int64_t()> revision;             // the store's current revision
    std::function<bool()> leader;                  // whether this member leads
    std::function<Result<void>(int64_t)> compact;  // through Raft
  };
  AutoCompactor(AutoCompaction settings, Hooks hooks)
      : settings_(settings), hooks_(std::move(hooks)) {}
  ~AutoCompactor() { stop(); }
  AutoCompactor(const AutoCompactor&) = delete;
  AutoCompactor& operator=(const AutoCompactor&) = delete;

  void start();
  void stop();

 private:
  void run();
  void step(std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>>& samples);

  AutoCompaction settings_;
  Hooks hooks_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  int64_t last_ = 0;  // the last revision compacted to
  std::thread thread_;
};

}  // namespace mgmt::store::server
