// print.cpp: the print resource. It logs its message once when it first converges, and again on
// every refresh (a notify edge fired); with refresh_only it logs only on refreshes. The line is
// `engine: print[NAME]: resource: Msg: MESSAGE`, as the reference prints it.
#include "agent/resources/kinds.h"
#include "common/log.h"

namespace mgmt::agent::resources {
namespace {

class Print final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    name_ = spec.name;
    msg_ = spec.params.value("msg", std::string());
    refresh_only_ = spec.params.value("refresh_only", false);
    return ok();
  }

  Result<bool> check_apply(bool apply) override {
    bool due = refresh() || (!printed_ && !refresh_only_);
    if (!due) return true;
    if (apply) {
      log::get("engine")->info("print[{}]: resource: Msg: {}", name_, msg_);
      printed_ = true;
    }
    return false;
  }

 private:
  std::string name_;
  std::string msg_;
  bool refresh_only_ = false;
  bool printed_ = false;
};

}  // namespace

std::unique_ptr<Resource> make_print() { return std::make_unique<Print>(); }

}  // namespace mgmt::agent::resources
