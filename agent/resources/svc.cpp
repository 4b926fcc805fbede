// svc.cpp: the svc resource: a systemd unit running or stopped (`state`) and enabled or
// disabled at boot (`startup`); fields left empty are not managed. A refresh (notify edge)
// reloads a running unit, or restarts it when it cannot reload (ReloadOrTryRestartUnit, as the
// reference's svc; a stopped unit stays stopped). It talks to systemd over D-Bus (sd-bus, the
// system bus; the user's bus with `session`): ActiveState and UnitFileState to check,
// StartUnit/StopUnit and EnableUnitFiles/DisableUnitFiles (then Reload) to change. A start,
// stop, reload or restart waits (bounded, 90 s) for the unit to settle and fails naming
// journalctl when it ends "failed". The watch subscribes to the unit's PropertiesChanged
// signals: events, not polling. Without systemd (a container, a chroot) every check fails with
// one line saying so; nothing crashes.
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

namespace mgmt::agent::resources {
namespace {

constexpr const char* kSystemd = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";

struct BusDeleter {
  void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
using Bus = std::unique_ptr<sd_bus, BusDeleter>;

// One D-Bus error as text, freed.
struct BusError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&e); }
  std::string text(int r) const {
    return e.message != nullptr ? e.message : std::strerror(-r);
  }
};

Result<Bus> open_bus(const std::string& self, bool session) {
  sd_bus* raw = nullptr;
  const int r = session ? sd_bus_open_user(&raw) : sd_bus_open_system(&raw);
  if (r < 0) {
    return fail(Code::unavailable,
                self + ": no systemd on the " + (session ? "user" : "system") + " bus (" +
                    std::strerror(-r) + "); svc needs systemd running as PID 1");
  }
  return Bus(raw);
}

// The unit's object path (LoadUnit loads it when systemd has not yet).
Result<std::string> unit_path(sd_bus* bus, const std::string& self, const std::string& unit) {
  BusError err;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call_method(bus, kSystemd, kManagerPath, kManager, "LoadUnit", &err.e, &reply,
                             "s", unit.c_str());
  if (r < 0) {
    return fail(Code::unavailable, self + ": systemd cannot load " + unit + " (" + err.text(r) +
                                       "); svc needs systemd running as PID 1");
  }
  const char* path = nullptr;
  r = sd_bus_message_read(reply, "o", &path);
  std::string out = r >= 0 && path ? path : "";
  sd_bus_message_unref(reply);
  if (out.empty()) return fail(Code::internal, self + ": systemd gave no path for " + unit);
  return out;
}

Result<std::string> unit_property(sd_bus* bus, const std::string& self, const std::string& path,
                                  const char* name) {
  BusError err;
  char* value = nullptr;
  const int r = sd_bus_get_property_string(bus, kSystemd, path.c_str(),
                                           "org.freedesktop.systemd1.Unit", name, &err.e, &value);
  if (r < 0) {
    return fail(Code::unavailable,
                self + ": cannot read " + name + " from systemd (" + err.text(r) + ")");
  }
  std::string out = value;
  free(value);  // NOLINT: sd-bus allocates with malloc
  return out;
}

class SvcWatch final : public Watch {
 public:
  SvcWatch(Bus bus, const std::string& path, std::function<void()> on_event)
      : bus_(std::move(bus)), stop_(::eventfd(0, EFD_CLOEXEC)) {
    const std::string match = "type='signal',sender='org.freedesktop.systemd1',path='" + path +
                              "',interface='org.freedesktop.DBus.Properties',"
                              "member='PropertiesChanged'";
    sd_bus_add_match(bus_.get(), nullptr, match.c_str(), nullptr, nullptr);
    BusError err;
    sd_bus_call_method(bus_.get(), kSystemd, kManagerPath, kManager, "Subscribe", &err.e,
                       nullptr, "");
    thread_ = std::thread([this, on_event = std::move(on_event)] {
      for (;;) {
        sd_bus_message* m = nullptr;
        int r = sd_bus_process(bus_.get(), &m);
        if (r < 0) return;
        if (m != nullptr) {
          if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties",
                                       "PropertiesChanged")) {
            on_event();
          }
          sd_bus_message_unref(m);
        }
        if (r > 0) continue;
        pollfd fds[2] = {{sd_bus_get_fd(bus_.get()), static_cast<short>(
                              sd_bus_get_events(bus_.get())), 0},
                         {stop_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
        if (fds[1].revents != 0) return;
      }
    });
  }
  ~SvcWatch() override {
    uint64_t one = 1;
    (void)!::write(stop_, &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
    ::close(stop_);
  }

 private:
  Bus bus_;
  int stop_;
  std::thread thread_;
};

class Svc final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    const std::string self = "svc[" + spec.name + "]";
    unit_ = spec.name;
    if (unit_.empty()) return fail(Code::invalid_argument, self + ": the name must be a unit");
    if (unit_.find('.') == std::string::npos) unit_ += ".service";
    state_ = spec.params.value("state", std::string());
    if (!state_.empty() && state_ != "running" && state_ != "stopped") {
      return fail(Code::invalid_argument, self + ": field \"state\" must be \"running\" or "
                                                 "\"stopped\", not \"" + state_ + "\"");
    }
    startup_ = spec.params.value("startup", std::string());
    if (!startup_.empty() && startup_ != "enabled" && startup_ != "disabled") {
      return fail(Code::invalid_argument, self + ": field \"startup\" must be \"enabled\" or "
                                                 "\"disabled\", not \"" + startup_ + "\"");
    }
    session_ = spec.params.value("session", false);
    return ok();
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    auto bus = open_bus(id(), session_);
    if (!bus) return nullptr;  // the check says why
    auto path = unit_path(bus->get(), id(), unit_);
    if (!path) return nullptr;
    return std::make_unique<SvcWatch>(std::move(*bus), *path, std::move(on_event));
  }

  Result<bool> check_apply(bool apply) override {
    auto bus = open_bus(id(), session_);
    if (!bus) return fail(bus.error());
    auto path = unit_path(bus->get(), id(), unit_);
    if (!path) return fail(path.error());
    bool in_state = true;
    if (!startup_.empty()) {
      auto file_state = unit_property(bus->get(), id(), *path, "UnitFileState");
      if (!file_state) return fail(file_state.error());
      const bool enabled = *file_state == "enabled" || *file_state == "enabled-runtime";
      if (enabled != (startup_ == "enabled")) {
        in_state = false;
        if (apply) {
          if (auto r = set_startup(bus->get()); !r) return fail(r.error());
        }
      }
    }
    bool started_or_stopped = false;
    if (!state_.empty()) {
      auto active = unit_property(bus->get(), id(), *path, "ActiveState");
      if (!active) return fail(active.error());
      const bool running = *active == "active" || *active == "activating" ||
                           *active == "reloading";
      if (running != (state_ == "running")) {
        in_state = false;
        started_or_stopped = true;
        if (apply) {
          if (auto r = set_running(bus->get(), *path); !r) return fail(r.error());
        }
      }
    }
    // A refresh (a notify edge: its config changed) reloads a running unit, or restarts it if
    // it cannot reload; a unit just started or stopped needs neither, a stopped one stays so.
    if (refresh() && !started_or_stopped) {
      in_state = false;
      if (apply) {
        if (auto r = reload_or_restart(bus->get(), *path); !r) return fail(r.error());
      }
    }
    return in_state;
  }

 private:
  Result<void> set_startup(sd_bus* bus) {
    const bool enable = startup_ == "enabled";
    log::get("engine")->info("{}: resource: {} {}", id(), enable ? "enabling" : "disabling",
                             unit_);
    BusError err;
    sd_bus_message* call = nullptr;
    sd_bus_message_new_method_call(bus, &call, kSystemd, kManagerPath, kManager,
                                   enable ? "EnableUnitFiles" : "DisableUnitFiles");
    const char* units[] = {unit_.c_str(), nullptr};
    sd_bus_message_append_strv(call, const_cast<char**>(units));
    if (enable) {
      sd_bus_message_append(call, "bb", 0, 1);
    } else {
      sd_bus_message_append(call, "b", 0);
    }
    int r = sd_bus_call(bus, call, 0, &err.e, nullptr);
    sd_bus_message_unref(call);
    if (r < 0) {
      return fail(Code::unavailable, id() + ": systemd could not " +
                                         (enable ? "enable " : "disable ") + unit_ + " (" +
                                         err.text(r) + ")");
    }
    BusError reload_err;
    sd_bus_call_method(bus, kSystemd, kManagerPath, kManager, "Reload", &reload_err.e, nullptr,
                       "");
    return ok();
  }

  Result<void> set_running(sd_bus* bus, const std::string& path) {
    const bool start = state_ == "running";
    log::get("engine")->info("{}: resource: {} {}", id(), start ? "starting" : "stopping",
                             unit_);
    return run_job(bus, path, start ? "StartUnit" : "StopUnit", start ? "start" : "stop");
  }

  Result<void> reload_or_restart(sd_bus* bus, const std::string& path) {
    log::get("engine")->info("{}: resource: reloading or restarting {} (refreshed)", id(),
                             unit_);
    return run_job(bus, path, "ReloadOrTryRestartUnit", "reload or restart");
  }

  // Calls a Manager method that queues a job for the unit, waits (bounded) until systemd has
  // finished that job (its object is gone), and fails if the unit ended "failed".
  Result<void> run_job(sd_bus* bus, const std::string& path, const char* method,
                       const std::string& what) {
    BusError err;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus, kSystemd, kManagerPath, kManager, method, &err.e, &reply,
                               "ss", unit_.c_str(), "replace");
    if (r < 0) {
      return fail(Code::unavailable,
                  id() + ": systemd could not " + what + " " + unit_ + " (" + err.text(r) + ")");
    }
    const char* job_path = nullptr;
    std::string job;
    if (sd_bus_message_read(reply, "o", &job_path) >= 0 && job_path != nullptr) job = job_path;
    sd_bus_message_unref(reply);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    for (;;) {
      bool job_done = true;
      if (!job.empty()) {
        BusError gone;
        char* state = nullptr;
        job_done = sd_bus_get_property_string(bus, kSystemd, job.c_str(),
                                              "org.freedesktop.systemd1.Job", "State", &gone.e,
                                              &state) < 0;
        free(state);  // NOLINT: sd-bus allocates with malloc
      }
      auto active = unit_property(bus, id(), path, "ActiveState");
      if (!active) return fail(active.error());
      if (*active == "failed") {
        return fail(Code::unavailable, id() + ": " + unit_ + " failed to " + what +
                                           "; see `journalctl -u " + unit_ + "`");
      }
      const bool settled =
          *active != "activating" && *active != "deactivating" && *active != "reloading";
      if (job_done && settled) return ok();
      if (std::chrono::steady_clock::now() >= deadline) {
        return fail(Code::deadline_exceeded, id() + ": " + unit_ + " did not settle within "
                                                 "90 s; see `systemctl status " + unit_ + "`");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::string unit_;
  std::string state_;
  std::string startup_;
  bool session_ = false;
};

}  // namespace

std::unique_ptr<Resource> make_svc() { return std::make_unique<Svc>(); }

}  // namespace mgmt::agent::resources
