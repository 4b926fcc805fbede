// lang_stream.cpp: see lang_stream.h.
#include "agent/run/lang_stream.h"

#include "agent/resources/inotify_watch.h"
#include "common/log.h"
#include "frontends/lang/lang_frontend.h"

#include <chrono>
#include <filesystem>
#include <map>

namespace mgmt::agent::run {
namespace {

// Timed runs, too frequent to log one by one.
constexpr const char* kClockTicked = "the clock ticked";
constexpr const char* kHistoryDue = "a past value asked for with history() became due";
constexpr const char* kNewWatch = "what the program reads may have changed before it was watched";

}  // namespace

LangStream::LangStream(std::string entry, frontends::GraphSpec first,
                       frontends::lang::StreamSources sources,
                       frontends::lang::LangRuntime runtime, WatchStore watch_store, Swap swap)
    : entry_(std::move(entry)),
      runtime_(std::move(runtime)),
      watch_store_(std::move(watch_store)),
      swap_(std::move(swap)),
      last_(std::move(first)) {
  watch(sources);
  if (runtime_.commands) {
    runtime_.commands->set_on_line(
        [this](const std::string& cmd) { poke("os.system \"" + cmd + "\" printed a line"); });
  }
  thread_ = std::thread([this] { loop(); });
}

LangStream::~LangStream() {
  if (runtime_.commands) runtime_.commands->set_on_line(nullptr);  // no poke after this
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  watches_.clear();  // no callback after this
}

void LangStream::poke(const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    // A change outranks the extra run a new watch asked for: its reason is the one logged.
    if (pending_.empty() || pending_ == kNewWatch) pending_ = why;
  }
  wake_.notify_all();
}

// Called on the stream's thread only (and once from the constructor, before it starts).
// Watches live on from run to run while the program still reads what they watch, so no
// change is missed between runs. A new watch starts after the run that read its source: a
// change made in between would be missed, so a new watch asks for one more run.
void LangStream::watch(const frontends::lang::StreamSources& sources) {
  std::map<std::string, std::unique_ptr<resources::Watch>> keep;
  bool added = false;
  auto reuse = [&](const std::string& id) {
    auto it = watches_.find(id);
    if (it == watches_.end()) return false;
    keep[id] = std::move(it->second);
    watches_.erase(it);
    return true;
  };
  for (const auto& file : sources.files) {
    if (reuse("file " + file)) continue;
    const std::filesystem::path p(file);
    keep["file " + file] = std::make_unique<resources::InotifyWatch>(
        p.parent_path().string(), p.filename().string(),
        [this, file] { poke(file + " changed"); });
    added = true;
  }
  if (watch_store_) {
    for (const auto& key : sources.store_keys) {
      if (reuse("key " + key)) continue;
      if (auto w = watch_store_(key, false, [this, key] { poke(key + " changed in the store"); })) {
        keep["key " + key] = std::move(w);
        added = true;
      }
    }
    for (const auto& prefix : sources.store_prefixes) {
      if (reuse("prefix " + prefix)) continue;
      if (auto w = watch_store_(prefix, true,
                                [this, prefix] { poke(prefix + " changed in the store"); })) {
        keep["prefix " + prefix] = std::move(w);
        added = true;
      }
    }
  }
  watches_.clear();  // what the program no longer reads
  watches_.swap(keep);
  if (runtime_.commands) runtime_.commands->retain(sources.command_sites);
  std::lock_guard lock(mutex_);
  clock_ = sources.clock;
  wake_at_ = sources.wake_at;
  if (added && pending_.empty()) pending_ = kNewWatch;
}

void LangStream::loop() {
  auto log = log::get("lang");
  for (;;) {
    std::string why;
    {
      std::unique_lock lock(mutex_);
      // Timed wake-ups: the clock changes every second; a past value asked for with
      // history() becomes due.
      std::optional<std::chrono::steady_clock::time_point> deadline = wake_at_;
      std::string reason = kHistoryDue;
      if (clock_) {
        const auto now = std::chrono::system_clock::now();
        const auto second = std::chrono::time_point_cast<std::chrono::seconds>(
            now + std::chrono::seconds(1));
        const auto tick = std::chrono::steady_clock::now() + (second - now);
        if (!deadline || tick < *deadline) {
          deadline = tick;
          reason = kClockTicked;
        }
      }
      if (deadline) {
        if (!wake_.wait_until(lock, *deadline, [&] { return stopping_ || !pending_.empty(); })) {
          pending_ = reason;
        }
      } else {
        wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      }
      if (stopping_) return;
      why.swap(pending_);
    }
    const auto began = std::chrono::steady_clock::now();
    frontends::lang::StreamSources sources;
    auto graph = frontends::lang::compile_graph(entry_, &sources, &runtime_);
    if (!graph) {
      log->error("{}: {}; keeping the last graph", why, graph.error().message());
      continue;
    }
    watch(sources);
    if (auto swapped = swap_(*graph); !swapped) {
      log->error("{}: the new graph was refused: {}", why, swapped.error().message());
      continue;
    }
    const bool changed = *graph != last_;
    last_ = std::move(*graph);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - began)
                        .count();
    if (why == kNewWatch && changed) {
      // A change made before its watch started: the run a new watch asks for found it.
      log->info("what the program reads changed before it was watched: ran the program again "
                "({} ms)",
                ms);
    } else if (why != kClockTicked && why != kHistoryDue && why != kNewWatch) {
      log->info("{}: ran the program again ({} ms)", why, ms);
    }
  }
}

}  // namespace mgmt::agent::run
