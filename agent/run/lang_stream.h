// lang_stream.h: mcl is reactive: a program's values change over time, and every change gives
// a new graph. The agent runs a lang deploy once, then watches what that run read that may
// change (its streams: files read with os.readfile, watched with inotify; the clock, when it
// read datetime.now, every second; store keys it read with the world module, through store
// watches; lines printed by its os.system commands; the moments past values asked for with
// history() become due) and runs the program again on a change, handing the new
// graph to the engine (which keeps what did not change). Events that arrive while a run is
// going on coalesce into one more run. A run that fails keeps the last good graph and logs why.
// Thread-safety: one thread of its own; the destructor stops it (no swap after it returns).
#pragma once

#include "agent/resources/resource.h"
#include "common/result.h"
#include "frontends/graph_spec.h"
#include "frontends/lang/interpret.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mgmt::agent::run {

class LangStream {
 public:
  using Swap = std::function<Result<void>(const frontends::GraphSpec&)>;
  // Watches a store key (or every key under it, with prefix) until the watch is destroyed.
  using WatchStore = std::function<std::unique_ptr<resources::Watch>(
      const std::string& key, bool prefix, std::function<void()> on_change)>;

  // `entry`: the program (a .mcl file or a directory with main.mcl) as the deploy left it;
  // `first`: the graph of its first run, and `sources`: what that run read; `runtime`: what
  // the agent lends it (world, local).
  LangStream(std::string entry, frontends::GraphSpec first,
             frontends::lang::StreamSources sources, frontends::lang::LangRuntime runtime,
             WatchStore watch_store, Swap swap);
  ~LangStream();
  LangStream(const LangStream&) = delete;
  LangStream& operator=(const LangStream&) = delete;

 private:
  void loop();
  void watch(const frontends::lang::StreamSources& sources);
  void poke(const std::string& why);

  std::string entry_;
  frontends::lang::LangRuntime runtime_;
  WatchStore watch_store_;
  Swap swap_;
  frontends::GraphSpec last_;  // the graph last handed over (the stream's thread only)
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool clock_ = false;
  std::optional<std::chrono::steady_clock::time_point> wake_at_;  // history() due
  std::string pending_;  // why a run is due ("" none)
  // One per source ("file PATH", "key KEY", "prefix PREFIX"), kept while the program reads it.
  std::map<std::string, std::unique_ptr<resources::Watch>> watches_;
  std::thread thread_;
};

}  // namespace mgmt::agent::run
