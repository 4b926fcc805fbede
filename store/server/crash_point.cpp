// crash_point.cpp: see crash_point.h.
#include "store/server/crash_point.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace mgmt::store::server {
namespace {

struct Armed {
  std::string name;
  long at = 1;
  std::atomic<long> passes{0};
  explicit Armed(const char* variable) {
    const char* env = std::getenv(variable);
    if (env == nullptr || *env == '\0') return;
    name = env;
    if (auto colon = name.find(':'); colon != std::string::npos) {
      at = std::strtol(name.c_str() + colon + 1, nullptr, 10);
      if (at < 1) at = 1;
      name.resize(colon);
    }
  }
};

Armed& armed() {
  static Armed a("MGMT_CRASH_POINT");
  return a;
}

Armed& stalled() {
  static Armed a("MGMT_STALL_POINT");  // `at` is the stall in milliseconds
  return a;
}

}  // namespace

void crash_point(const char* name) {
  Armed& a = armed();
  if (a.name.empty() || a.name != name) return;
  if (++a.passes < a.at) return;
  std::fprintf(stderr, "crash point %s reached: dying now\n", name);
  std::fflush(stderr);
  _exit(86);
}

void stall_point(const char* name) {
  Armed& a = stalled();
  if (a.name.empty() || a.name != name) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(a.at));
}

}  // namespace mgmt::store::server
