// log.cpp: the component loggers share one sink; see log.h.
#include "common/log.h"
#include "common/assert.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace mgmt::log {
namespace {

struct State {
  std::mutex mutex;  // guards sink and level
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::level::level_enum level = spdlog::level::info;
};

State& state() {
  static State s;
  return s;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::quiet: return spdlog::level::warn;
    case Level::info: return spdlog::level::info;
    case Level::verbose: return spdlog::level::debug;
    case Level::debug: return spdlog::level::trace;
  }
  return spdlog::level::info;
}

void reconfigure_all() {
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) {
    logger->sinks().clear();
    logger->sinks().push_back(state().sink);
    logger->set_level(state().level);
    logger->set_pattern(kPattern);
    logger->flush_on(spdlog::level::trace);
  });
}

}  // namespace

void init(Level level) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().level = to_spdlog(level);
  reconfigure_all();
}

Redirection redirect(std::ostream& out) {
  std::lock_guard<std::mutex> lock(state().mutex);
  spdlog::sink_ptr previous = state().sink;
  state().sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out, true);
  reconfigure_all();
  return Redirection(std::move(previous));
}

Redirection::~Redirection() {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().sink = previous_;
  reconfigure_all();
}

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  std::lock_guard<std::mutex> lock(state().mutex);
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = std::make_shared<spdlog::logger>(component, state().sink);
  logger->set_level(state().level);
  logger->set_pattern(kPattern);
  logger->flush_on(spdlog::level::trace);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace mgmt::log

namespace mgmt::detail {

void assert_failed(const char* condition, const char* file, int line, const char* message) {
  std::fprintf(stderr, "mgmt: BUG: assertion failed at %s:%d: %s %s\n", file, line, condition,
               message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace mgmt::detail
