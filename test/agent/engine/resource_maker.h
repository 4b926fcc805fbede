// resource_maker.h: a resource of any registered kind, configured from a spec, for tests that
// drive check_apply directly.
#pragma once

#include "agent/resources/registry.h"
#include "test/agent/engine/engine_harness.h"

#include <catch2/catch.hpp>

namespace mgmt::test {

inline std::unique_ptr<agent::resources::Resource> make_resource(
    const frontends::ResourceSpec& r) {
  auto res = agent::resources::find_kind(r.kind)->make();
  res->set_id(r.kind + "[" + r.name + "]");
  REQUIRE(res->configure(r));
  return res;
}

}  // namespace mgmt::test
