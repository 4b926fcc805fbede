// history_book.h: what `history(value, ms)` remembers: for every call site of a running
// program, the values it took and when. `history(v, ms)` is the value the site had `ms`
// milliseconds ago (the latest one recorded at or before then), or the oldest one kept when the
// program has not run that long. A program runs again only when something it read changes, so
// recording each run's value is exact (the reference samples every ms/10). When a past value
// will become due (a recorded change reaches the age asked for), `next_due` says when, so the
// runner runs the program again then.
// Invariants: per site, entries are in time order and consecutive entries differ; entries
// older than the oldest one any caller could still ask for are dropped.
// Thread-safety: all members lock; one book is shared by the runs of one program.
#pragma once

#include "frontends/lang/value.h"

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace mgmt::frontends::lang {

class HistoryBook {
 public:
  using Clock = std::chrono::steady_clock;

  // Records `now_value` for `site` at `now` and returns its value `ago` earlier. Sets `due` to
  // the earliest later time at which the answer for this call changes, if any.
  Value remember(const std::string& site, const Value& now_value, std::chrono::milliseconds ago,
                 Clock::time_point now, std::optional<Clock::time_point>* due);
  // test.fastcount: 0, 1, 2, ... on the site's successive runs.
  int64_t next_count(const std::string& site);

 private:
  struct Entry {
    Clock::time_point at;
    Value value;
  };
  std::mutex mutex_;
  std::map<std::string, std::deque<Entry>> sites_;
  std::map<std::string, int64_t> counts_;
};

}  // namespace mgmt::frontends::lang
