// value_state.h: where `value` resources keep their values on this host, for the lang
// module `value` (value.get_str and friends) to read: one JSON file per resource name,
// DIR/NAME.json, NAME percent-escaped so any name is one file. Writes are atomic (a temporary
// file renamed over the old one), so a reader never sees half a value; inotify on DIR tells
// readers a value changed.
// Thread-safety: free functions; concurrent writers of one name: the last rename wins.
#pragma once

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace mgmt::agent::resources {

std::string value_path(const std::string& dir, const std::string& name);
// nullopt: no value set (no file).
Result<std::optional<nlohmann::json>> read_value(const std::string& dir, const std::string& name);
// nullopt deletes the value.
Result<void> write_value(const std::string& dir, const std::string& name,
                         const std::optional<nlohmann::json>& value);

}  // namespace mgmt::agent::resources
