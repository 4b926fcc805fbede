// auto_compactor.cpp: see auto_compactor.h.
#include "store/server/auto_compactor.h"

#include "common/duration.h"
#include "common/log.h"
#include "common/thread_name.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

namespace mgmt::store::server {
namespace {

constexpr std::chrono::minutes kRevisionInterval{5};  // etcd's revision compactor checks so

// 3600000 ms -> "1h", 1800000 -> "30m", 2500 -> "2.5 s".
std::string span(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

bool all_digits(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<AutoCompaction> parse_auto_compaction(const std::string& mode,
                                             const std::string& retention) {
  AutoCompaction out;
  if (mode == "periodic") {
    out.mode = AutoCompaction::Mode::periodic;
    if (all_digits(retention)) {
      out.period = std::chrono::hours(std::strtoll(retention.c_str(), nullptr, 10));
    } else if (auto d = parse_duration(retention)) {
      out.period = *d;
    } else {
      return fail(Code::invalid_argument,
                  "--auto-compaction-retention \"" + retention +
                      "\" is not a number of hours or a duration (like 30m or 1h); 0 turns "
                      "automatic compaction off");
    }
    return out;
  }
  if (mode == "revision") {
    out.mode = AutoCompaction::Mode::revision;
    if (!all_digits(retention)) {
      return fail(Code::invalid_argument,
                  "--auto-compaction-retention \"" + retention +
                      "\" is not a number of revisions, which --auto-compaction-mode=revision "
                      "takes; 0 turns automatic compaction off");
    }
    out.revisions = std::strtoll(retention.c_str(), nullptr, 10);
    return out;
  }
  return fail(Code::invalid_argument, "--auto-compaction-mode \"" + mode +
                                          "\" is neither periodic nor revision");
}

void AutoCompactor::start() {
  if (!settings_.enabled() || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void AutoCompactor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AutoCompactor::run() {
  name_this_thread("auto-compact");
  const auto interval = settings_.mode == AutoCompaction::Mode::periodic
                            ? std::max(std::chrono::milliseconds(100), settings_.period / 10)
                            : std::chrono::milliseconds(kRevisionInterval);
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> samples;
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    lock.unlock();
    step(samples);
    lock.lock();
    wake_.wait_for(lock, interval, [this] { return stopped_; });
  }
}

void AutoCompactor::step(
    std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>>& samples) {
  const auto now = std::chrono::steady_clock::now();
  const int64_t current = hooks_.revision();
  int64_t target = 0;
  std::string kept;
  if (settings_.mode == AutoCompaction::Mode::periodic) {
    samples.emplace_back(now, current);
    // The newest sample at least one period old: everything since is kept.
    while (samples.size() >= 2 && now - samples[1].first >= settings_.period) {
      samples.pop_front();
    }
    if (now - samples.front().first < settings_.period) return;
    target = samples.front().second;
    kept = "the last " + span(settings_.period);
  } else {
    target = current - settings_.revisions;
    kept = "the last " + std::to_string(settings_.revisions) + " revisions";
  }
  if (target <= last_ || target <= 1 || !hooks_.leader()) return;
  if (auto r = hooks_.compact(target); !r) {
    // Already compacted there (by a client, or a former leader) is not worth a line.
    if (r.error().message().find("compacted") == std::string::npos) {
      log::get("etcd")->warn("automatic compaction to revision {} failed: {}", target,
                             r.error().message());
      return;
    }
  } else {
    log::get("etcd")->info("compacted the history at revision {} (automatic compaction, "
                           "keeping {})",
                           target, kept);
  }
  last_ = target;
}

}  // namespace mgmt::store::server
