// test_resource.cpp: the reference's `test` resource, which its language tests use: it holds
// values of every type and is always in state; `validateerror` makes configure fail with that
// text, `validatebool` true makes it fail too.
#include "agent/resources/kinds.h"

namespace mgmt::agent::resources {
namespace {

class TestResource final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    std::string error = spec.params.value("validateerror", std::string());
    if (!error.empty()) return fail(Code::invalid_argument, "test[" + spec.name + "]: " + error);
    if (spec.params.value("validatebool", false)) {
      return fail(Code::invalid_argument, "test[" + spec.name + "]: validatebool is true");
    }
    return ok();
  }
  Result<bool> check_apply(bool) override { return true; }
};

}  // namespace

std::unique_ptr<Resource> make_test() { return std::make_unique<TestResource>(); }

}  // namespace mgmt::agent::resources
