// log.h: logging as people read it. One named spdlog logger per component (engine, store, raft,
// etcd, deploy, lang, cli, agent), all writing `HH:MM:SS component: message` to stderr, e.g.
//   21:04:05 engine: print[print0]: resource: Msg: hello
// Levels: warn by default for --quiet, info normally, debug with --verbose, trace with --debug.
// Thread-safety: loggers are thread-safe (spdlog _mt sinks); init() is called once from main
// before any thread starts, and tests may call it again to capture output.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <ostream>
#include <string>

namespace mgmt::log {

enum class Level { quiet, info, verbose, debug };

// Sets the pattern and level of every component logger, present and future.
void init(Level level);

// While it lives, every component logger writes to a stream instead of where it wrote before;
// its end sends them back (so no logger is left writing to a stream that is gone).
class Redirection {
 public:
  explicit Redirection(spdlog::sink_ptr previous) : previous_(std::move(previous)) {}
  ~Redirection();
  Redirection(const Redirection&) = delete;
  Redirection& operator=(const Redirection&) = delete;

 private:
  spdlog::sink_ptr previous_;
};

// Sends all component loggers to `out` while the result lives (tests capture output this way).
[[nodiscard]] Redirection redirect(std::ostream& out);

// The logger of one component; created on first use with the shared sink and pattern.
std::shared_ptr<spdlog::logger> get(const std::string& component);

// The pattern every line uses; exposed for the test that pins it.
inline constexpr const char* kPattern = "%H:%M:%S %n: %v";

}  // namespace mgmt::log
