// file.cpp: the file resource: a file (or, for a path ending in '/', a directory) that exists
// with the given content and mode, or is absent. Its parent directory is watched with inotify,
// so a change by anyone is seen at once and repaired by the next check_apply.
// Fields: path (default: the name), state exists|absent (default exists), content (managed when
// given), source (a file whose content to copy; for a directory, a directory whose files to
// copy, one level or with `recurse` all levels; `purge` removes what the source does not have),
// fragments (files concatenated in order; a directory gives its top-level files by name),
// symlink (the path is a symbolic link to source), owner and group (names or numbers), mode
// (octal, e.g. "0644"), force (allows replacing a directory by a file or link, and back).
// At most one of content, source and fragments; none of them with state absent. A managed
// directory is watched too (its own entries), so a file dropped into a purged one goes at once.
#include "agent/resources/accounts.h"
#include "agent/resources/inotify_watch.h"
#include "agent/resources/text_file.h"
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <vector>

#include <cerrno>
#include <cstdio>
#include <cstring>
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
    fs::path normal = fs::path(path).lexically_normal();
    if (is_dir_ && !normal.has_filename()) normal = normal.parent_path();
    path_ = normal.string();
    state_ = spec.params.value("state", std::string("exists"));
    if (state_.empty()) state_ = "exists";
    if (state_ != "exists" && state_ != "absent") {
      return fail(Code::invalid_argument, "file[" + spec.name + "]: field \"state\" must be "
                                          "\"exists\" or \"absent\", not \"" + state_ + "\"");
    }
    const std::string self = "file[" + spec.name + "]";
    if (spec.params.contains("content") && !spec.params["content"].is_null()) {
      content_ = spec.params["content"].get<std::string>();
    }
    source_ = spec.params.value("source", std::string());
    if (auto f = spec.params.find("fragments"); f != spec.params.end() && f->is_array()) {
      for (const auto& frag : *f) fragments_.push_back(frag.get<std::string>());
    }
    const int sources = (content_ ? 1 : 0) + (source_.empty() ? 0 : 1) +
                        (fragments_.empty() ? 0 : 1);
    if (sources > 1) {
      return fail(Code::invalid_argument,
                  self + ": give at most one of \"content\", \"source\" and \"fragments\"");
    }
    symlink_ = spec.params.value("symlink", false);
    recurse_ = spec.params.value("recurse", false);
    purge_ = spec.params.value("purge", false);
    force_ = spec.params.value("force", false);
    owner_ = spec.params.value("owner", std::string());
    group_ = spec.params.value("group", std::string());
    if (symlink_ && source_.empty()) {
      return fail(Code::invalid_argument, self + ": \"symlink\" needs \"source\", the link's "
                                                 "target");
    }
    if (purge_ && (!is_dir_ || source_.empty())) {
      return fail(Code::invalid_argument, self + ": \"purge\" needs a directory (a path "
                                                 "ending in /) with a directory \"source\"");
    }
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
    if (state_ == "absent" && sources > 0) {
      return fail(Code::invalid_argument,
                  self + ": state \"absent\" cannot go with content, source or fragments");
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
    if (apply && keep_reversal() && !before_) remember_before();
    auto result = check_apply_once(apply);
    ensure_watch();
    return result;
  }

  std::optional<frontends::ResourceSpec> reversal() const override {
    if (!before_) return std::nullopt;
    return *before_;
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
    const fs::path p(path_);
    inotify_ = std::make_unique<InotifyWatch>(p.parent_path().string(), p.filename().string(),
                                              on_event_);
    if (is_dir_ && !inside_) {
      inside_ = std::make_unique<InotifyWatch>(path_, "", on_event_);
      if (!inside_->ok()) inside_.reset();
    }
  }

  void stop_watch() {
    std::unique_ptr<InotifyWatch> gone;
    std::unique_ptr<InotifyWatch> inside_gone;
    {
      std::lock_guard lock(watch_mutex_);
      watching_ = false;
      gone = std::move(inotify_);
      inside_gone = std::move(inside_);
    }
  }

  Result<bool> check_apply_once(bool apply) {
    std::error_code ec;
    const auto status = fs::symlink_status(path_, ec);
    const bool exists = status.type() != fs::file_type::not_found;
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
    if (symlink_) {
      auto r = ensure_symlink(status.type(), apply);
      if (!r) return r;
      in_state = *r;
    } else if (is_dir_) {
      auto r = ensure_directory(status.type(), apply);
      if (!r) return r;
      in_state = *r;
    } else {
      auto r = ensure_file(status.type(), apply);
      if (!r) return r;
      in_state = *r;
    }
    auto meta = ensure_metadata(apply);
    if (!meta) return meta;
    return in_state && *meta;
  }

  // A directory (or a link) where a file should be, and the other way round, needs force.
  Result<void> replaceable(fs::file_type have, bool want_dir) {
    const bool is_dir = have == fs::file_type::directory;
    if (have == fs::file_type::not_found || is_dir == want_dir) return ok();
    if (!force_) {
      return fail(Code::failed_precondition,
                  id() + ": " + path_ + " is " + (is_dir ? "a directory" : "not a "
                  "directory") + "; set force to replace it");
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) return fail(Code::internal, id() + ": cannot replace: " + ec.message());
    return ok();
  }

  Result<std::optional<std::string>> wanted_content() {
    if (content_) return content_;
    if (!source_.empty()) {
      auto text = read_file(source_);
      if (!text) return fail(Code::not_found, id() + ": cannot read source " + source_);
      return text;
    }
    if (fragments_.empty()) return std::optional<std::string>();
    std::string out;
    for (const auto& f : fragments_) {
      std::error_code ec;
      if (fs::is_directory(f, ec)) {
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(f, ec)) {
          if (e.is_regular_file()) files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) out += read_file(file).value_or("");
        continue;
      }
      auto text = read_file(f);
      if (!text) return fail(Code::not_found, id() + ": cannot read fragment " + f);
      out += *text;
    }
    return std::optional<std::string>(out);
  }

  Result<bool> ensure_file(fs::file_type have, bool apply) {
    auto want = wanted_content();
    if (!want) return fail(want.error());
    const bool exists = have != fs::file_type::not_found;
    auto current = have == fs::file_type::regular ? read_file(path_) : std::nullopt;
    if (exists && have == fs::file_type::regular && (!*want || current == *want)) return true;
    if (!apply) return false;
    if (auto r = replaceable(have, false); !r) return fail(r.error());
    std::string text = want->value_or(current.value_or(""));
    if (auto w = write_text_file_atomic(path_, text, mode_.value_or(0644)); !w) {
      return fail(Code::internal, id() + ": " + w.error().message());
    }
    log::get("engine")->info("{}: contents written", id());
    return false;
  }

  Result<bool> ensure_directory(fs::file_type have, bool apply) {
    bool in_state = true;
    std::error_code ec;
    if (have != fs::file_type::directory) {
      in_state = false;
      if (!apply) return false;
      if (auto r = replaceable(have, true); !r) return fail(r.error());
      if (!fs::create_directory(path_, ec) && ec) {
        return fail(Code::internal, id() + ": cannot create directory: " + ec.message());
      }
      log::get("engine")->info("{}: directory made", id());
    }
    if (source_.empty()) return in_state;
    auto synced = sync_tree(source_, path_, apply);
    if (!synced) return synced;
    return in_state && *synced;
  }

  // Makes `to` hold what `from` holds: files copied when they differ, subdirectories too with
  // recurse, entries `from` lacks removed with purge.
  Result<bool> sync_tree(const fs::path& from, const fs::path& to, bool apply) {
    std::error_code ec;
    if (!fs::is_directory(from, ec)) {
      return fail(Code::not_found, id() + ": source " + from.string() + " is not a directory");
    }
    bool in_state = true;
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(from, ec)) {
      const fs::path target = to / e.path().filename();
      names.insert(e.path().filename().string());
      if (e.is_directory()) {
        if (!recurse_) continue;
        if (!fs::is_directory(target, ec)) {
          in_state = false;
          if (!apply) continue;
          fs::remove_all(target, ec);
          fs::create_directory(target, ec);
        }
        auto r = sync_tree(e.path(), target, apply);
        if (!r) return r;
        in_state = in_state && *r;
      } else if (e.is_regular_file()) {
        auto want = read_file(e.path());
        if (!want) return fail(Code::not_found, id() + ": cannot read " + e.path().string());
        if (read_file(target) == want) continue;
        in_state = false;
        if (!apply) continue;
        if (fs::is_directory(target, ec)) fs::remove_all(target, ec);
        if (auto w = write_text_file_atomic(target.string(), *want); !w) {
          return fail(Code::internal, id() + ": " + w.error().message());
        }
        log::get("engine")->info("{}: copied {}", id(), target.string());
      }
    }
    if (purge_) {
      std::vector<fs::path> extra;
      for (const auto& e : fs::directory_iterator(to, ec)) {
        const std::string name = e.path().filename().string();
        if (!names.count(name) && name.find(".mgmt-tmp") == std::string::npos) {
          extra.push_back(e.path());
        }
      }
      for (const auto& p : extra) {
        in_state = false;
        if (!apply) continue;
        fs::remove_all(p, ec);
        log::get("engine")->info("{}: purged {}", id(), p.string());
      }
    }
    return in_state;
  }

  Result<bool> ensure_symlink(fs::file_type have, bool apply) {
    std::error_code ec;
    if (have == fs::file_type::symlink && fs::read_symlink(path_, ec) == fs::path(source_)) {
      return true;
    }
    if (!apply) return false;
    if (auto r = replaceable(have == fs::file_type::symlink ? fs::file_type::regular : have,
                             false);
        !r) {
      return fail(r.error());
    }
    // Made beside it and renamed over it: the path is never missing.
    const fs::path tmp = path_ + ".mgmt-tmp";
    fs::remove(tmp, ec);
    fs::create_symlink(source_, tmp, ec);
    if (!ec) fs::rename(tmp, path_, ec);
    if (ec) return fail(Code::internal, id() + ": cannot make the link: " + ec.message());
    log::get("engine")->info("{}: links to {}", id(), source_);
    return false;
  }

  // Mode, owner and group. Links keep their own mode; their owner is set with lchown.
  Result<bool> ensure_metadata(bool apply) {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) return !apply ? false : true;
    bool in_state = true;
    if (mode_ && !S_ISLNK(st.st_mode) && (st.st_mode & 07777) != *mode_) {
      in_state = false;
      if (apply && ::chmod(path_.c_str(), *mode_) != 0) {
        return fail(Code::internal, id() + ": cannot chmod: " + std::strerror(errno));
      }
    }
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    if (!owner_.empty()) {
      auto u = numeric(owner_);
      if (!u) {
        auto entry = lookup_user(owner_);
        if (!entry) {
          return fail(Code::failed_precondition, id() + ": owner \"" + owner_ + "\" does not "
                                                 "exist; add a user resource for it");
        }
        u = entry->uid;
      }
      if (st.st_uid != *u) uid = static_cast<uid_t>(*u);
    }
    if (!group_.empty()) {
      auto g = numeric(group_);
      if (!g) {
        auto found = lookup_group(group_);
        if (!found) {
          return fail(Code::failed_precondition, id() + ": group \"" + group_ + "\" does not "
                                                 "exist; add a group resource for it");
        }
        g = *found;
      }
      if (st.st_gid != *g) gid = static_cast<gid_t>(*g);
    }
    if (uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) {
      in_state = false;
      if (apply && ::lchown(path_.c_str(), uid, gid) != 0) {
        return fail(Code::permission_denied,
                    id() + ": cannot change owner or group (" + std::strerror(errno) +
                        "); the agent must run as root for that");
      }
    }
    return in_state;
  }

  // What was there before this resource first ran with apply, as the spec that restores it.
  // Only plain files and directories are restored; a link or another kind is left alone.
  void remember_before() {
    frontends::ResourceSpec spec;
    spec.kind = "file";
    spec.name = path_ + (is_dir_ ? "/" : "");
    spec.params = nlohmann::json::object();
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) {
      spec.params["state"] = "absent";
    } else if (S_ISREG(st.st_mode) && !is_dir_) {
      spec.params["content"] = read_file(path_).value_or("");
      spec.params["mode"] = octal(st.st_mode & 07777);
    } else if (S_ISDIR(st.st_mode) && is_dir_) {
      spec.params["mode"] = octal(st.st_mode & 07777);
    } else {
      return;
    }
    before_ = std::make_unique<frontends::ResourceSpec>(std::move(spec));
  }

  static std::string octal(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode));
    return text;
  }

  static std::optional<uint32_t> numeric(const std::string& s) {
    if (s.empty() || s.size() > 9 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    return static_cast<uint32_t>(std::stoul(s));
  }

  std::mutex watch_mutex_;  // guards on_event_, watching_, inotify_
  std::function<void()> on_event_;
  bool watching_ = false;
  std::unique_ptr<InotifyWatch> inotify_;
  std::unique_ptr<InotifyWatch> inside_;  // a directory's own entries
  std::string path_;  // normalised, no trailing slash (a plain string: 10,000 of them add up)
  bool is_dir_ = false;
  std::string state_;
  std::optional<std::string> content_;
  std::string source_;
  std::vector<std::string> fragments_;
  std::optional<mode_t> mode_;
  bool symlink_ = false;
  bool recurse_ = false;
  bool purge_ = false;
  bool force_ = false;
  std::string owner_;
  std::string group_;
  std::unique_ptr<frontends::ResourceSpec> before_;  // Meta reverse: what was there first
};

}  // namespace

std::unique_ptr<Resource> make_file() { return std::make_unique<File>(); }

}  // namespace mgmt::agent::resources
