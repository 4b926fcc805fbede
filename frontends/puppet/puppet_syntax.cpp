// puppet_syntax.cpp: see puppet_syntax.h.
#include "frontends/puppet/puppet_syntax.h"

#include <algorithm>
#include <cctype>

namespace mgmt::frontends::puppet {
namespace {

std::string single_quoted(const std::string& text) {
  std::string out = "'";
  for (char ch : text) {
    if (ch == '\\' || ch == '\'') out += '\\';
    out += ch;
  }
  return out + "'";
}

// Metaparameters the graph carries (relationships, noop), or that a one-resource
// `puppet apply -e` cannot resolve (a schedule, stage or alias declared elsewhere).
bool left_out(const std::string& key) {
  return key == "before" || key == "require" || key == "notify" || key == "subscribe" ||
         key == "noop" || key == "schedule" || key == "stage" || key == "alias";
}

}  // namespace

std::string puppet_literal(const nlohmann::json& value) {
  if (value.is_null()) return "undef";
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number()) return value.dump();
  if (value.is_string()) return single_quoted(value.get<std::string>());
  std::string out;
  if (value.is_array()) {
    for (const auto& item : value) out += (out.empty() ? "" : ", ") + puppet_literal(item);
    return "[" + out + "]";
  }
  for (const auto& [key, item] : value.items()) {
    out += (out.empty() ? "" : ", ") + single_quoted(key) + " => " + puppet_literal(item);
  }
  return "{" + out + "}";
}

std::string puppet_resource(const nlohmann::json& resource) {
  auto field = [&](const char* key) {
    auto it = resource.find(key);
    return it != resource.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string type = field("type");
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  std::string out = type + " { " + single_quoted(field("title")) + ":";
  bool first = true;
  if (auto params = resource.find("parameters"); params != resource.end() && params->is_object()) {
    for (const auto& [key, value] : params->items()) {
      if (left_out(key)) continue;
      out += std::string(first ? " " : ", ") + key + " => " + puppet_literal(value);
      first = false;
    }
  }
  return out + " }";
}

std::string sh_quote(const std::string& word) {
  std::string out = "'";
  for (char ch : word) {
    if (ch == '\'') {
      out += "'\\''";
    } else {
      out += ch;
    }
  }
  return out + "'";
}

}  // namespace mgmt::frontends::puppet
