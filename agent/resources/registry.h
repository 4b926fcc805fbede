// registry.h: every resource kind mgmt knows, with its fields and their types, so frontends can
// check what they were given and say which field is wrong, and the engine can build resources.
// Field types are written as mcl types ("str", "int", "bool", "float", "[]str",
// "map{str: str}") so the lang frontend checks them with its own type checker.
// Thread-safety: the registry is built once, on first use, and read-only afterwards.
#pragma once

#include "agent/resources/resource.h"
#include "common/result.h"
#include "frontends/graph_spec.h"

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::agent::resources {

struct FieldInfo {
  std::string name;
  std::string type;  // an mcl type
  bool required = false;
};

struct KindInfo {
  std::string kind;
  std::vector<FieldInfo> fields;
  // Builds a resource of this kind; nullptr for kinds whose behaviour is not built yet (they
  // are registered so their fields can be checked, and the engine refuses to run them).
  std::function<std::unique_ptr<Resource>()> make;
  // Send/recv: what a resource of this kind sends after it runs (key -> mcl type), and its
  // fields that may receive a value sent by another resource.
  std::map<std::string, std::string> sends;
  std::set<std::string> receives;

  const FieldInfo* field(const std::string& name) const;
};

// The registered kind, or nothing.
const KindInfo* find_kind(const std::string& kind);
std::vector<std::string> kind_names();

// Checks a resource as a frontend describes it: the kind exists; every field exists and has a
// value of its type; required fields are present. One line naming the resource and the field,
// with the closest field name for a typo.
[[nodiscard]] Result<void> check_spec(const frontends::ResourceSpec& spec);

// Whether a JSON value fits an mcl type ("str", "int", "[]str", "map{str: int}", ...).
bool value_fits(const nlohmann::json& value, const std::string& type);

}  // namespace mgmt::agent::resources
