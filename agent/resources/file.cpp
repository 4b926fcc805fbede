// file.cpp: the file resource: a file (or, for a path ending in '/', a directory) that exists
// with the given content and mode, or is absent. Its parent directory is watched with inotify,
// so a change by anyone is seen at once and repaired by the next check_apply.
// Fields: path (default: the name), state exists|absent (default exists), content (managed when
// given), source (a file whose content to copy), mode (octal, e.g. "0644").
#include "agent/resources/inotify_watch.h"
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <sys/stat.h>

#include <filesystem>
#include <mutex>
#include <fstream>
#include <optional>
#include <sstream>

namespace mgmt::agent::resources {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class File final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    std::string path = spec.params.value("path", spec.name);
    if (path.empty() || path[0] != '/') {
      return fail(Code::invalid_argument, "file[" + spec.name + "]: path \"" + path +
                                              "\" must be absolute");
    }
    is_dir_ = path.back() == '/';
    path_ = fs::path(path).lexically_normal();
    if (is_dir_ && path_.has_filename() == false) path_ = path_.parent_path();
    state_ = spec.params.value("state", std::string("exists"));
    if (state_.empty()) state_ = "exists";
    if (state_ != "exists" && state_ != "absent") {
      return fail(Code::invalid_argument, "file[" + spec.name + "]: field \"state\" must be "
                                          "\"exists\" or \"absent\", not \"" + state_ + "\"");
    }
    if (spec.params.contains("content")) content_ = spec.params["content"].get<std::string>();
    source_ = spec.params.value("source", std::string());
    std::string mode = spec.params.value("mode", std::string());
    if (!mode.empty()) {
      try {
        std::size_t used = 0;
        mode_ = static_cast<mode_t>(std::stoul(mode, &used, 8));
        if (used != mode.size() || *mode_ > 07777) throw std::invalid_argument(mode);
      } catch (const std::exception&) {
        return fail(Code::invalid_argument, "file[" + spec.name + "]: field \"mode\" must be "
                                            "octal like \"0644\", not \"" + mode + "\"");
      }
    }
    return ok();
  }

  // The parent directory may not exist yet (another resource creates it): then the watch
  // starts after the first check that finds it.
  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    {
      std::lock_guard lock(watch_mutex_);
      on_event_ = std::move(on_event);
      watching_ = true;
    }
    ensure_watch();
    return std::make_unique<Stopper>(this);
  }

  Result<bool> check_apply(bool apply) override {
    auto result = check_apply_once(apply);
    ensure_watch();
    return result;
  }

 private:
  struct Stopper final : Watch {
    explicit Stopper(File* f) : file(f) {}
    ~Stopper() override { file->stop_watch(); }
    File* file;
  };

  void ensure_watch() {
    std::lock_guard lock(watch_mutex_);
    if (!watching_ || (inotify_ && inotify_->ok())) return;
    inotify_ = std::make_unique<InotifyWatch>(path_.parent_path().string(),
                                              path_.filename().string(), on_event_);
  }

  void stop_watch() {
    std::unique_ptr<InotifyWatch> gone;
    {
      std::lock_guard lock(watch_mutex_);
      watching_ = false;
      gone = std::move(inotify_);
    }
  }

  Result<bool> check_apply_once(bool apply) {
    std::error_code ec;
    bool exists = fs::symlink_status(path_, ec).type() != fs::file_type::not_found;
    if (state_ == "absent") {
      if (!exists) return true;
      if (apply) {
        fs::remove_all(path_, ec);
        if (ec) return fail(Code::internal, id() + ": cannot remove: " + ec.message());
        log::get("engine")->info("{}: removed", id());
      }
      return false;
    }
    bool in_state = true;
    if (is_dir_) {
      if (!fs::is_directory(path_, ec)) {
        in_state = false;
        if (apply && !fs::create_directory(path_, ec)) {
          return fail(Code::internal, id() + ": cannot create directory: " + ec.message());
        }
      }
    } else {
      std::optional<std::string> want = content_;
      if (!source_.empty()) {
        want = read_file(source_);
        if (!want) return fail(Code::not_found, id() + ": cannot read source " + source_);
      }
      auto have = exists ? read_file(path_) : std::nullopt;
      if (!exists || (want && have != want)) {
        in_state = false;
        if (apply) {
          auto tmp = path_;
          tmp += ".mgmt-tmp";
          {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out) {
              return fail(Code::internal, id() + ": cannot write " + tmp.string() +
                                              " (does its directory exist?)");
            }
            if (want) out << *want;
            else if (have) out << *have;
          }
          fs::rename(tmp, path_, ec);  // atomic: readers see old or new content, never half
          if (ec) return fail(Code::internal, id() + ": cannot replace: " + ec.message());
          log::get("engine")->info("{}: contents written", id());
        }
      }
    }
    if (mode_) {
      struct stat st {};
      if (::stat(path_.c_str(), &st) == 0 && (st.st_mode & 07777) != *mode_) {
        in_state = false;
        if (apply && ::chmod(path_.c_str(), *mode_) != 0) {
          return fail(Code::internal, id() + ": cannot chmod");
        }
      } else if (!apply && !exists) {
        in_state = false;
      }
    }
    return in_state;
  }

  std::mutex watch_mutex_;  // guards on_event_, watching_, inotify_
  std::function<void()> on_event_;
  bool watching_ = false;
  std::unique_ptr<InotifyWatch> inotify_;
  fs::path path_;
  bool is_dir_ = false;
  std::string state_;
  std::optional<std::string> content_;
  std::string source_;
  std::optional<mode_t> mode_;
};

}  // namespace

std::unique_ptr<Resource> make_file() { return std::make_unique<File>(); }

}  // namespace mgmt::agent::resources
