// group.cpp: the group resource: a system group present (with `gid` when given) or absent,
// managed with the shadow tools (groupadd, groupmod, groupdel) and checked through NSS
// (getgrnam_r). Watched through /etc/group. Needs root to change anything.
#include "agent/resources/accounts.h"
#include "agent/resources/command.h"
#include "agent/resources/files_watch.h"
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <optional>
#include <vector>

namespace mgmt::agent::resources {

namespace {

class Group final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    name_ = spec.name;
    state_ = spec.params.value("state", std::string("exists"));
    if (state_.empty()) state_ = "exists";
    if (state_ != "exists" && state_ != "absent") {
      return fail(Code::invalid_argument, "group[" + name_ + "]: field \"state\" must be "
                                          "\"exists\" or \"absent\", not \"" + state_ + "\"");
    }
    if (auto g = spec.params.find("gid"); g != spec.params.end() && !g->is_null()) {
      if (g->get<int64_t>() < 0) {
        return fail(Code::invalid_argument, "group[" + name_ + "]: field \"gid\" must be 0 or "
                                            "more");
      }
      gid_ = static_cast<gid_t>(g->get<int64_t>());
    }
    return ok();
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    return std::make_unique<FilesWatch>(std::vector<std::string>{"/etc/group"}, on_event);
  }

  Result<bool> check_apply(bool apply) override {
    const auto have = lookup_group(name_);
    if (state_ == "absent") {
      if (!have) return true;
      if (!apply) return false;
      log::get("engine")->info("{}: resource: removing the group", id());
      if (auto r = run_tool(id(), {"groupdel", name_}); !r) return fail(r.error());
      return false;
    }
    if (have && (!gid_ || *have == *gid_)) return true;
    if (!apply) return false;
    if (!have) {
      log::get("engine")->info("{}: resource: adding the group", id());
      std::vector<std::string> argv = {"groupadd"};
      if (gid_) argv.insert(argv.end(), {"--gid", std::to_string(*gid_)});
      argv.push_back(name_);
      if (auto r = run_tool(id(), argv); !r) return fail(r.error());
      return false;
    }
    log::get("engine")->info("{}: resource: changing gid {} to {}", id(), *have, *gid_);
    if (auto r = run_tool(id(), {"groupmod", "--gid", std::to_string(*gid_), name_}); !r) {
      return fail(r.error());
    }
    return false;
  }

 private:
  std::string name_;
  std::string state_;
  std::optional<gid_t> gid_;
};

}  // namespace

std::unique_ptr<Resource> make_group() { return std::make_unique<Group>(); }

}  // namespace mgmt::agent::resources
