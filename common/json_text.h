// json_text.h: JSON text that never throws. nlohmann's dump() throws on a string that is not
// UTF-8, and strings reach JSON from outside (file contents in a resource's params, an error
// quoting a command's output, a key in the store): there a bad byte must not stop the agent.
// json_text writes each such byte as U+FFFD; text for people and for other agents is better
// for it than lost. Where the exact bytes matter, check them (common/utf8.h) before, or use a
// binary form (nlohmann::json::to_cbor keeps every byte).
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace mgmt {

// Any nlohmann JSON type (json, ordered_json: the keys keep their order).
template <typename Json>
std::string json_text(const Json& value, int indent = -1) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace mgmt
