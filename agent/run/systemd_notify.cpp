// systemd_notify.cpp: sd_notify wrappers and the watchdog thread; see systemd_notify.h.
#include "agent/run/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <chrono>
#include <cstdint>

namespace mgmt::agent::run {

SystemdNotify::SystemdNotify() {
  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) <= 0 || watchdog_usec == 0) return;
  auto period = std::chrono::microseconds(watchdog_usec / 2);
  watchdog_ = std::thread([this, period] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
      sd_notify(0, "WATCHDOG=1");
    }
  });
}

SystemdNotify::~SystemdNotify() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void SystemdNotify::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void SystemdNotify::status(const std::string& status) {
  sd_notifyf(0, "STATUS=%s", status.c_str());
}

void SystemdNotify::stopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace mgmt::agent::run
