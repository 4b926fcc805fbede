// value.cpp: see value.h.
#include "frontends/lang/value.h"

#include <algorithm>
#include <sstream>

namespace mgmt::frontends::lang {

Value Value::map(Map m) {
  std::stable_sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return Value{std::make_shared<const Map>(std::move(m))};
}

std::string Value::type_name() const {
  switch (data.index()) {
    case 0: return "bool";
    case 1: return "int";
    case 2: return "float";
    case 3: return "str";
    case 4: return as_list().empty() ? "[]?" : "[]" + as_list().front().type_name();
    case 5:
      return as_map().empty() ? "map{?: ?}"
                              : "map{" + as_map().front().first.type_name() + ": " +
                                    as_map().front().second.type_name() + "}";
    case 6: {
      std::string s = "struct{";
      bool first = true;
      for (const auto& [k, v] : as_struct()) {
        s += (first ? "" : "; ") + k + " " + v.type_name();
        first = false;
      }
      return s + "}";
    }
    default: return "func";
  }
}

std::string Value::str() const {
  switch (data.index()) {
    case 0: return as_bool() ? "true" : "false";
    case 1: return std::to_string(as_int());
    case 2: {
      std::ostringstream out;
      out << as_float();
      return out.str();
    }
    case 3: return as_str();
    case 4: {
      std::string s = "[";
      for (std::size_t i = 0; i < as_list().size(); ++i) s += (i ? " " : "") + as_list()[i].str();
      return s + "]";
    }
    case 5: {
      std::string s = "map[";
      bool first = true;
      for (const auto& [k, v] : as_map()) {
        s += (first ? "" : " ") + k.str() + ":" + v.str();
        first = false;
      }
      return s + "]";
    }
    case 6: {
      std::string s = "{";
      bool first = true;
      for (const auto& [k, v] : as_struct()) {
        s += (first ? "" : " ") + v.str();
        first = false;
      }
      return s + "}";
    }
    default: return "<func>";
  }
}

nlohmann::json Value::to_json() const {
  switch (data.index()) {
    case 0: return as_bool();
    case 1: return as_int();
    case 2: return as_float();
    case 3: return as_str();
    case 4: {
      auto j = nlohmann::json::array();
      for (const auto& v : as_list()) j.push_back(v.to_json());
      return j;
    }
    case 5: {
      auto j = nlohmann::json::object();
      for (const auto& [k, v] : as_map()) j[k.str()] = v.to_json();
      return j;
    }
    case 6: {
      auto j = nlohmann::json::object();
      for (const auto& [k, v] : as_struct()) j[k] = v.to_json();
      return j;
    }
    default: return nullptr;
  }
}

bool operator==(const Value& a, const Value& b) {
  if (a.data.index() != b.data.index()) return false;
  switch (a.data.index()) {
    case 0: return a.as_bool() == b.as_bool();
    case 1: return a.as_int() == b.as_int();
    case 2: return a.as_float() == b.as_float();
    case 3: return a.as_str() == b.as_str();
    case 4: return a.as_list() == b.as_list();
    case 5: return a.as_map() == b.as_map();
    case 6: return a.as_struct() == b.as_struct();
    default: return std::get<7>(a.data) == std::get<7>(b.data);
  }
}

bool operator<(const Value& a, const Value& b) {
  if (a.data.index() != b.data.index()) return a.data.index() < b.data.index();
  switch (a.data.index()) {
    case 0: return a.as_bool() < b.as_bool();
    case 1: return a.as_int() < b.as_int();
    case 2: return a.as_float() < b.as_float();
    case 3: return a.as_str() < b.as_str();
    default: return a.str() < b.str();
  }
}

}  // namespace mgmt::frontends::lang
