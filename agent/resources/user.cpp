// user.cpp: the user resource: a system account present (with the uid, primary group,
// supplementary groups, home directory and shell given; fields left out are not managed) or
// absent, through useradd/usermod/userdel and checked through NSS. `group` names the primary
// group (`gid` gives it by number); `allowduplicateuid` lets the uid be shared. Watched
// through /etc/passwd and /etc/group. Needs root to change anything.
#include "agent/resources/accounts.h"
#include "agent/resources/command.h"
#include "agent/resources/files_watch.h"
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <optional>
#include <vector>

namespace mgmt::agent::resources {
namespace {

class User final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    name_ = spec.name;
    const std::string self = "user[" + name_ + "]";
    const auto& p = spec.params;
    state_ = p.value("state", std::string("exists"));
    if (state_.empty()) state_ = "exists";
    if (state_ != "exists" && state_ != "absent") {
      return fail(Code::invalid_argument, self + ": field \"state\" must be \"exists\" or "
                                                 "\"absent\", not \"" + state_ + "\"");
    }
    for (const char* f : {"uid", "gid"}) {
      auto it = p.find(f);
      if (it == p.end() || it->is_null()) continue;
      if (it->get<int64_t>() < 0) {
        return fail(Code::invalid_argument, self + ": field \"" + f + "\" must be 0 or more");
      }
      (std::string(f) == "uid" ? uid_ : gid_) = static_cast<uint32_t>(it->get<int64_t>());
    }
    group_ = p.value("group", std::string());
    if (!group_.empty() && gid_) {
      return fail(Code::invalid_argument,
                  self + ": give the primary group by \"group\" or by \"gid\", not both");
    }
    if (auto g = p.find("groups"); g != p.end() && g->is_array()) {
      groups_ = std::vector<std::string>();
      for (const auto& name : *g) groups_->push_back(name.get<std::string>());
    }
    home_ = p.value("homedir", std::string());
    shell_ = p.value("shell", std::string());
    duplicate_uid_ = p.value("allowduplicateuid", false);
    return ok();
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    return std::make_unique<FilesWatch>(std::vector<std::string>{"/etc/passwd", "/etc/group"},
                                        on_event);
  }

  Result<bool> check_apply(bool apply) override {
    const auto have = lookup_user(name_);
    if (state_ == "absent") {
      if (!have) return true;
      if (!apply) return false;
      log::get("engine")->info("{}: resource: removing the user", id());
      if (auto r = run_tool(id(), {"userdel", name_}); !r) return fail(r.error());
      return false;
    }
    std::optional<gid_t> want_gid = gid_;
    if (!group_.empty()) {
      want_gid = lookup_group(group_);
      if (!want_gid) {
        return fail(Code::failed_precondition,
                    id() + ": its group \"" + group_ + "\" does not exist; add a group "
                           "resource for it (it is then made first)");
      }
    }
    std::vector<std::string> changes;  // tool options for what differs
    if (!have || (uid_ && have->uid != *uid_)) {
      if (uid_) changes.insert(changes.end(), {"--uid", std::to_string(*uid_)});
    }
    if (want_gid && (!have || have->gid != *want_gid)) {
      changes.insert(changes.end(), {"--gid", std::to_string(*want_gid)});
    }
    if (groups_) {
      std::set<gid_t> want;
      for (const auto& g : *groups_) {
        auto gid = lookup_group(g);
        if (!gid) {
          return fail(Code::failed_precondition,
                      id() + ": its group \"" + g + "\" does not exist; add a group resource "
                             "for it (it is then made first)");
        }
        want.insert(*gid);
      }
      const gid_t primary = want_gid ? *want_gid : (have ? have->gid : 0);
      want.erase(primary);
      if (!have || supplementary_groups(name_, primary) != want) {
        std::string list;
        for (const auto& g : *groups_) list += (list.empty() ? "" : ",") + g;
        changes.insert(changes.end(), {"--groups", list});
      }
    }
    if (!home_.empty() && (!have || have->home != home_)) {
      changes.insert(changes.end(), {"--home", home_});
    }
    if (!shell_.empty() && (!have || have->shell != shell_)) {
      changes.insert(changes.end(), {"--shell", shell_});
    }
    if (have && changes.empty()) return true;
    if (!apply) return false;
    std::vector<std::string> argv = {have ? "usermod" : "useradd"};
    if (!have && !home_.empty()) argv.push_back("--create-home");
    if (duplicate_uid_ && uid_) argv.push_back("--non-unique");
    argv.insert(argv.end(), changes.begin(), changes.end());
    argv.push_back(name_);
    log::get("engine")->info("{}: resource: {} the user", id(), have ? "changing" : "adding");
    if (auto r = run_tool(id(), argv); !r) return fail(r.error());
    return false;
  }

 private:
  std::string name_;
  std::string state_;
  std::optional<uint32_t> uid_;
  std::optional<uint32_t> gid_;
  std::string group_;
  std::optional<std::vector<std::string>> groups_;
  std::string home_;
  std::string shell_;
  bool duplicate_uid_ = false;
};

}  // namespace

std::unique_ptr<Resource> make_user() { return std::make_unique<User>(); }

}  // namespace mgmt::agent::resources
