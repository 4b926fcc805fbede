// value.cpp: the value resource: a value of any type kept on this host under the resource's
// name (value_state.h), for lang code to read back with the `value` module (value.get_str,
// get_int, get_bool, get_float, get), and sent on as `any` to other resources (send/recv).
// `any` absent (or null): the kept value is removed. In state when the kept value equals
// `any`. Needs the agent's value directory (Services::value_dir).
#include "agent/resources/kinds.h"
#include "agent/resources/services.h"
#include "agent/resources/value_state.h"
#include "common/json_text.h"
#include "common/log.h"

namespace mgmt::agent::resources {
namespace {

class ValueResource final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    name_ = spec.name;
    any_.reset();
    if (auto v = spec.params.find("any"); v != spec.params.end() && !v->is_null()) any_ = *v;
    return ok();
  }

  void bind(const Services& services) override { dir_ = services.value_dir; }

  Result<bool> check_apply(bool apply) override {
    if (dir_.empty()) {
      return fail(Code::failed_precondition,
                  id() + ": no value directory on this agent; value needs `mgmt run`");
    }
    auto kept = read_value(dir_, name_);
    const bool in_state = kept && *kept == any_;
    if (in_state || !apply) {
      sent_ = any_;
      return in_state;
    }
    if (any_) {
      log::get("engine")->info("{}: resource: setting the value to {}", id(), json_text(*any_));
    } else {
      log::get("engine")->info("{}: resource: removing the value", id());
    }
    if (auto w = write_value(dir_, name_, any_); !w) {
      return fail(Code::internal, id() + ": " + w.error().message());
    }
    sent_ = any_;
    return false;
  }

  std::optional<nlohmann::json> sent(const std::string& key) const override {
    if (key != "any") return std::nullopt;
    return sent_;
  }

 private:
  std::string name_;
  std::optional<nlohmann::json> any_;
  std::optional<nlohmann::json> sent_;
  std::string dir_;
};

}  // namespace

std::unique_ptr<Resource> make_value() { return std::make_unique<ValueResource>(); }

}  // namespace mgmt::agent::resources
