// noop.cpp: the noop resource: always in state; a place to hang edges.
#include "agent/resources/kinds.h"

namespace mgmt::agent::resources {
namespace {

class Noop final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec&) override { return ok(); }
  Result<bool> check_apply(bool) override { return true; }
};

}  // namespace

std::unique_ptr<Resource> make_noop() { return std::make_unique<Noop>(); }

}  // namespace mgmt::agent::resources
