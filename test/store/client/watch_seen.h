// watch_seen.h: what an EtcdClient watch delivered in a test (events, errors, notices, gaps),
// with waits for it, so that the watch tests wait for events, never for time.
#pragma once

#include "store/client/etcd_client.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mgmt::test {

// What a watch delivered, with a wait for it.
struct Seen {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;  // "PUT key=value" or "DELETE key"
  std::optional<Error> error;
  int errors = 0;
  std::vector<std::string> notices;
  int gaps = 0;

  auto on_events() {
    return [this](const std::vector<store::client::WatchEvent>& batch) {
      std::lock_guard lock(mutex);
      for (const store::client::WatchEvent& e : batch) {
        events.push_back(e.is_delete ? "DELETE " + e.kv.key
                                     : "PUT " + e.kv.key + "=" + e.kv.value);
      }
      changed.notify_all();
    };
  }
  auto on_error() {
    return [this](const Error& e) {
      std::lock_guard lock(mutex);
      error = e;
      ++errors;
      changed.notify_all();
    };
  }
  auto on_notice() {
    return [this](const std::string& notice) {
      std::lock_guard lock(mutex);
      notices.push_back(notice);
      changed.notify_all();
    };
  }
  auto on_gap() {
    return [this](const Error&) {
      std::lock_guard lock(mutex);
      ++gaps;
      changed.notify_all();
    };
  }
  // All four callbacks, or all but on_gap.
  store::client::WatchCallbacks callbacks(bool with_gap = true) {
    store::client::WatchCallbacks c{on_events(), on_error(), on_notice(), nullptr};
    if (with_gap) c.on_gap = on_gap();
    return c;
  }
  // Waits for a notice that starts with `start`.
  bool wait_for_notice(const std::string& start) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(20), [&] {
      for (const auto& n : notices) {
        if (n.rfind(start, 0) == 0) return true;
      }
      return false;
    });
  }
  bool wait_for_events(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return events.size() >= n; });
  }
  bool wait_for_error() {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(10), [&] { return error.has_value(); });
  }
};

}  // namespace mgmt::test
