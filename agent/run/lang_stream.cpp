// lang_stream.cpp: see lang_stream.h.
#include "agent/run/lang_stream.h"

#include "agent/resources/inotify_watch.h"
#include "common/log.h"
#include "frontends/lang/lang_frontend.h"

#include <chrono>
#include <filesystem>

namespace mgmt::agent::run {

LangStream::LangStream(std::string entry, frontends::lang::StreamSources sources,
                       frontends::lang::LangRuntime runtime, WatchStore watch_store, Swap swap)
    : entry_(std::move(entry)),
      runtime_(std::move(runtime)),
      watch_store_(std::move(watch_store)),
      swap_(std::move(swap)) {
  watch(sources);
  thread_ = std::thread([this] { loop(); });
}

LangStream::~LangStream() {
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
    if (pending_.empty()) pending_ = why;
  }
  wake_.notify_all();
}

// Called on the stream's thread only (and once from the constructor, before it starts).
void LangStream::watch(const frontends::lang::StreamSources& sources) {
  watches_.clear();
  for (const auto& file : sources.files) {
    const std::filesystem::path p(file);
    watches_.push_back(std::make_unique<resources::InotifyWatch>(
        p.parent_path().string(), p.filename().string(),
        [this, file] { poke(file + " changed"); }));
  }
  if (watch_store_) {
    for (const auto& key : sources.store_keys) {
      if (auto w = watch_store_(key, false, [this, key] { poke(key + " changed in the store"); })) {
        watches_.push_back(std::move(w));
      }
    }
    for (const auto& prefix : sources.store_prefixes) {
      if (auto w = watch_store_(prefix, true,
                                [this, prefix] { poke(prefix + " changed in the store"); })) {
        watches_.push_back(std::move(w));
      }
    }
  }
  std::lock_guard lock(mutex_);
  clock_ = sources.clock;
}

void LangStream::loop() {
  auto log = log::get("lang");
  for (;;) {
    std::string why;
    {
      std::unique_lock lock(mutex_);
      if (clock_) {
        // The clock is a stream that changes every second.
        const auto next = std::chrono::system_clock::now() + std::chrono::seconds(1);
        const auto second = std::chrono::time_point_cast<std::chrono::seconds>(next);
        if (!wake_.wait_until(lock, second, [&] { return stopping_ || !pending_.empty(); })) {
          pending_ = "the clock ticked";
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
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - began)
                        .count();
    if (why != "the clock ticked") log->info("{}: ran the program again ({} ms)", why, ms);
  }
}

}  // namespace mgmt::agent::run
