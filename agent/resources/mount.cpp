// mount.cpp: the mount resource: a file system mounted at the resource's name (the mount
// point), with its line in /etc/fstab, or neither. Fields: state exists|absent (default
// exists), device, type, options (name => value; an empty value is a bare flag like "ro"),
// freq and passno (fstab's last two columns). Mounted state is read from /proc/self/mounts; a
// mount of another device at the point is unmounted first. Events: the kernel marks
// /proc/self/mounts on every mount change (poll POLLPRI), and /etc/fstab is watched with inotify.
// Needs root (CAP_SYS_ADMIN) to change anything.
#include "agent/resources/files_watch.h"
#include "agent/resources/kinds.h"
#include "agent/resources/text_file.h"
#include "common/log.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

namespace mgmt::agent::resources {
namespace {

constexpr const char* kFstab = "/etc/fstab";

struct MountEntry {
  std::string device, point, type, options;
};

// fstab and /proc/self/mounts escape spaces and the like as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool octal = i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' &&
                       s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7';
    if (s[i] == '\\' && octal) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<MountEntry> mounts() {
  auto text = read_text_file("/proc/self/mounts");
  std::vector<MountEntry> out;
  if (!text || !text->has_value()) return out;
  std::istringstream in(**text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    MountEntry e;
    fields >> e.device >> e.point >> e.type >> e.options;
    e.device = unescape(e.device);
    e.point = unescape(e.point);
    out.push_back(e);
  }
  return out;
}

// Watches the mount table (the kernel wakes poll with POLLPRI on a change) until destroyed.
class MountTableWatch final : public Watch {
 public:
  MountTableWatch(std::function<void()> on_change, std::unique_ptr<Watch> fstab)
      : fstab_(std::move(fstab)),
        fd_(::open("/proc/self/mounts", O_RDONLY | O_CLOEXEC)),
        stop_(::eventfd(0, EFD_CLOEXEC)) {
    thread_ = std::thread([this, on_change = std::move(on_change)] {
      for (;;) {
        pollfd fds[2] = {{fd_, POLLPRI, 0}, {stop_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
        if (fds[1].revents != 0) return;
        if (fds[0].revents & (POLLPRI | POLLERR)) on_change();
      }
    });
  }
  ~MountTableWatch() override {
    uint64_t one = 1;
    (void)!::write(stop_, &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    ::close(stop_);
  }

 private:
  std::unique_ptr<Watch> fstab_;
  int fd_;
  int stop_;
  std::thread thread_;
};

class Mount final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    const std::string self = "mount[" + spec.name + "]";
    point_ = std::filesystem::path(spec.name).lexically_normal().string();
    if (point_.size() > 1 && point_.back() == '/') point_.pop_back();
    if (point_.empty() || point_[0] != '/') {
      return fail(Code::invalid_argument, self + ": the name must be the absolute mount point");
    }
    state_ = spec.params.value("state", std::string("exists"));
    if (state_.empty()) state_ = "exists";
    if (state_ != "exists" && state_ != "absent") {
      return fail(Code::invalid_argument, self + ": field \"state\" must be \"exists\" or "
                                                 "\"absent\", not \"" + state_ + "\"");
    }
    device_ = spec.params.value("device", std::string());
    type_ = spec.params.value("type", std::string());
    if (state_ == "exists" && (device_.empty() || type_.empty())) {
      return fail(Code::invalid_argument, self + ": state exists needs \"device\" and \"type\"");
    }
    if (auto o = spec.params.find("options"); o != spec.params.end() && o->is_object()) {
      for (const auto& [k, v] : o->items()) {
        const std::string value = v.get<std::string>();
        options_ += (options_.empty() ? "" : ",") + k + (value.empty() ? "" : "=" + value);
      }
    }
    freq_ = spec.params.value("freq", int64_t{0});
    passno_ = spec.params.value("passno", int64_t{0});
    return ok();
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    auto fstab = std::make_unique<FilesWatch>(std::vector<std::string>{kFstab}, on_event);
    return std::make_unique<MountTableWatch>(std::move(on_event), std::move(fstab));
  }

  Result<bool> check_apply(bool apply) override {
    auto fstab = read_text_file(kFstab);
    if (!fstab) return fail(Code::unavailable, id() + ": " + fstab.error().message());
    const std::string have_fstab = fstab->value_or("");
    const std::string want_fstab = with_entry(have_fstab);
    const MountEntry* mounted = nullptr;
    const auto table = mounts();
    for (const auto& m : table) {
      if (m.point == point_) mounted = &m;  // the last one is on top
    }
    const bool right_mount = mounted && mounted->device == device_ && mounted->type == type_;
    const bool in_state = have_fstab == want_fstab &&
                          (state_ == "absent" ? mounted == nullptr : right_mount);
    if (in_state) return true;
    if (!apply) return false;
    if (have_fstab != want_fstab) {
      log::get("engine")->info("{}: resource: {} its line in {}", id(),
                               state_ == "absent" ? "removing" : "writing", kFstab);
      if (auto w = write_text_file_atomic(kFstab, want_fstab); !w) {
        return fail(Code::unavailable, id() + ": " + w.error().message());
      }
    }
    if (mounted && (state_ == "absent" || !right_mount)) {
      log::get("engine")->info("{}: resource: unmounting {}", id(), mounted->device);
      if (::umount2(point_.c_str(), 0) != 0) {
        return fail(Code::unavailable, id() + ": cannot unmount " + point_ + " (" +
                                           std::strerror(errno) + "); is it busy? see "
                                           "`fuser -vm " + point_ + "`");
      }
    }
    if (state_ == "exists" && !right_mount) {
      log::get("engine")->info("{}: resource: mounting {} ({})", id(), device_, type_);
      std::error_code ec;
      std::filesystem::create_directories(point_, ec);
      if (::mount(device_.c_str(), point_.c_str(), type_.c_str(), 0,
                  options_.empty() ? nullptr : options_.c_str()) != 0) {
        return fail(Code::unavailable,
                    id() + ": cannot mount " + device_ + " (" + type_ + ") on " + point_ +
                        " (" + std::strerror(errno) + "); check the device, type and "
                        "options, and that the agent runs as root");
      }
    }
    return false;
  }

 private:
  // fstab's text with this mount point's line as it should be (absent: removed).
  std::string with_entry(const std::string& text) const {
    std::istringstream in(text);
    std::string out;
    bool placed = false;
    const std::string line = device_ + "\t" + point_ + "\t" + type_ + "\t" +
                             (options_.empty() ? "defaults" : options_) + "\t" +
                             std::to_string(freq_) + "\t" + std::to_string(passno_);
    for (std::string l; std::getline(in, l);) {
      std::istringstream fields(l);
      std::string device, point;
      fields >> device >> point;
      if (!device.empty() && device[0] != '#' && unescape(point) == point_) {
        if (state_ == "exists" && !placed) out += line + "\n";
        placed = true;
        continue;
      }
      out += l + "\n";
    }
    if (state_ == "exists" && !placed) out += line + "\n";
    return out;
  }

  std::string point_;
  std::string state_;
  std::string device_;
  std::string type_;
  std::string options_;
  int64_t freq_ = 0;
  int64_t passno_ = 0;
};

}  // namespace

std::unique_ptr<Resource> make_mount() { return std::make_unique<Mount>(); }

}  // namespace mgmt::agent::resources
