// systemd_notify.h: telling systemd how the agent is doing (Type=notify): READY=1 once the
// store serves and the first graph is loaded, STATUS= lines people see in `systemctl status`,
// STOPPING=1, and watchdog pings at half of WatchdogSec while the agent is alive.
// Outside systemd (no NOTIFY_SOCKET) every call does nothing.
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace mgmt::agent::run {

class SystemdNotify {
 public:
  SystemdNotify();  // starts the watchdog thread if systemd asked for one
  ~SystemdNotify();
  SystemdNotify(const SystemdNotify&) = delete;
  SystemdNotify& operator=(const SystemdNotify&) = delete;

  void ready(const std::string& status);
  void status(const std::string& status);
  void stopping();

 private:
  std::mutex mutex_;  // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread watchdog_;
};

}  // namespace mgmt::agent::run
