// registry.cpp: the table of kinds and their fields (as the reference names them), and the
// field checker; see registry.h. Kinds whose behaviour is built point `make` at their class
// (one file per kind in this folder); the others are registered for field checks only.
#include "agent/resources/registry.h"

#include "agent/resources/kinds.h"

#include <algorithm>
#include <map>

namespace mgmt::agent::resources {
namespace {

std::vector<FieldInfo> fields(std::initializer_list<std::pair<const char*, const char*>> list) {
  std::vector<FieldInfo> out;
  for (const auto& [name, type] : list) out.push_back({name, type, false});
  return out;
}

std::map<std::string, KindInfo> build() {
  std::map<std::string, KindInfo> kinds;
  auto add = [&](std::string kind, std::vector<FieldInfo> f,
                 std::function<std::unique_ptr<Resource>()> make) {
    kinds[kind] = KindInfo{kind, std::move(f), std::move(make)};
  };
  add("print", fields({{"msg", "str"}, {"refresh_only", "bool"}}), make_print);
  add("noop", fields({{"comment", "str"}}), make_noop);
  add("test",
      fields({{"bool", "bool"}, {"str", "str"}, {"int", "int"}, {"int8", "int"},
              {"int16", "int"}, {"int32", "int"}, {"int64", "int"}, {"uint", "int"},
              {"uint8", "int"}, {"uint16", "int"}, {"uint32", "int"}, {"uint64", "int"},
              {"byte", "int"}, {"rune", "int"}, {"float32", "float"}, {"float64", "float"},
              {"boolptr", "bool"}, {"stringptr", "str"}, {"int64ptr", "int"},
              {"int8ptr", "int"}, {"uint8ptr", "int"}, {"int8ptrptrptr", "int"},
              {"slicestring", "[]str"}, {"mapintfloat", "map{int: float}"},
              {"mixedstruct",
               "struct{somebool bool; somestr str; someint int; somefloat float}"},
              {"anotherstr", "str"}, {"validatebool", "bool"}, {"validateerror", "str"},
              {"alwaysgroup", "bool"}, {"comparefail", "bool"}, {"sendvalue", "str"},
              {"expectrecv", "[]str"}, {"onlyshow", "[]str"}, {"waitforerror", "int"},
              {"comment", "str"}}),
      make_test);
  add("file",
      fields({{"path", "str"}, {"dirname", "str"}, {"basename", "str"}, {"state", "str"},
              {"content", "str"}, {"source", "str"}, {"fragments", "[]str"}, {"owner", "str"},
              {"group", "str"}, {"mode", "str"}, {"recurse", "bool"}, {"force", "bool"},
              {"purge", "bool"}, {"symlink", "bool"}}),
      make_file);
  add("exec",
      fields({{"cmd", "str"}, {"args", "[]str"}, {"cwd", "str"}, {"shell", "str"},
              {"env", "map{str: str}"}, {"timeout", "int"}, {"watchcmd", "str"},
              {"watchcwd", "str"}, {"watchshell", "str"}, {"watchfiles", "[]str"},
              {"ifcmd", "str"}, {"ifcwd", "str"}, {"ifshell", "str"}, {"nifcmd", "str"},
              {"nifcwd", "str"}, {"nifshell", "str"}, {"donecwd", "str"}, {"doneshell", "str"},
              {"creates", "str"}, {"donecmd", "str"}, {"user", "str"}, {"group", "str"},
              {"ifequals", "str"}, {"ifequals_stdout", "str"}, {"mtimes", "[]str"},
              {"sig", "str"}, {"send_output", "str"}, {"send_stdout", "str"},
              {"send_stderr", "str"}, {"refresh_only", "bool"}}),
      make_exec);
  add("timer", fields({{"interval", "int"}}), make_timer);
  add("msg", fields({{"body", "str"}, {"priority", "str"}, {"fields", "map{str: str}"},
                     {"journal", "bool"}, {"syslog", "bool"}}),
      make_msg);
  add("kv", fields({{"key", "str"}, {"value", "str"}, {"mapped", "bool"},
                    {"skiplessthan", "bool"}, {"skipcmpstyle", "int"}}),
      make_kv);
  add("svc", fields({{"state", "str"}, {"startup", "str"}, {"session", "bool"}}), make_svc);
  add("pkg", fields({{"state", "str"}, {"allowdowngrade", "bool"}, {"allowuntrusted", "bool"},
                     {"allownonfree", "bool"}, {"allowunsupported", "bool"}}),
      make_pkg);
  add("user", fields({{"state", "str"}, {"uid", "int"}, {"gid", "int"}, {"group", "str"},
                      {"groups", "[]str"}, {"homedir", "str"}, {"shell", "str"},
                      {"allowduplicateuid", "bool"}}),
      make_user);
  add("group", fields({{"state", "str"}, {"gid", "int"}}), make_group);
  add("hostname", fields({{"hostname", "str"}, {"pretty_hostname", "str"},
                          {"static_hostname", "str"}, {"transient_hostname", "str"}}),
      make_hostname);
  add("mount", fields({{"state", "str"}, {"device", "str"}, {"type", "str"},
                       {"options", "map{str: str}"}, {"freq", "int"}, {"passno", "int"}}),
      make_mount);
  add("line", fields({{"file", "str"}, {"state", "str"}, {"content", "str"}, {"trim", "bool"}}),
      make_line);
  add("value", fields({{"any", "any"}}), make_value);
  add("schedule", fields({{"namespace", "str"}, {"strategy", "str"}, {"max", "int"},
                          {"persist", "bool"}, {"ttl", "int"}, {"withdraw", "bool"}}),
      make_schedule);
  // Send/recv (the reference's names): exec sends what its command printed; these receive.
  kinds["exec"].sends = {{"output", "str"}, {"stdout", "str"}, {"stderr", "str"}};
  kinds["test"].sends = {{"hello", "str"}, {"answer", "int"}};
  kinds["file"].receives = {"content"};
  kinds["kv"].receives = {"value"};
  kinds["print"].receives = {"msg"};
  kinds["msg"].receives = {"body"};
  kinds["test"].receives = {"anotherstr", "str", "int", "int64"};
  kinds["value"].sends = {{"any", "any"}};
  kinds["value"].receives = {"any"};
  return kinds;
}

const std::map<std::string, KindInfo>& table() {
  static const std::map<std::string, KindInfo> kinds = build();
  return kinds;
}

std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(' ');
  auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits "a; b" or "k: v" at top-level separators (not inside brackets or braces).
std::vector<std::string> split_top(const std::string& s, char separator) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string current;
  for (char c : s) {
    if (c == '{' || c == '[' || c == '(') ++depth;
    if (c == '}' || c == ']' || c == ')') --depth;
    if (c == separator && depth == 0) {
      parts.push_back(trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!trim(current).empty()) parts.push_back(trim(current));
  return parts;
}

std::string json_kind(const nlohmann::json& v) {
  if (v.is_string()) return "str";
  if (v.is_boolean()) return "bool";
  if (v.is_number_integer()) return "int";
  if (v.is_number_float()) return "float";
  if (v.is_array()) return "list";
  if (v.is_object()) return "map or struct";
  return "null";
}

}  // namespace

const FieldInfo* KindInfo::field(const std::string& name) const {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const KindInfo* find_kind(const std::string& kind) {
  auto it = table().find(kind);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (const auto& [name, info] : table()) names.push_back(name);
  return names;
}

bool value_fits(const nlohmann::json& value, const std::string& type_text) {
  std::string type = trim(type_text);
  if (type == "any") return true;  // the value resource: whatever it is given
  if (type == "str") return value.is_string();
  if (type == "bool") return value.is_boolean();
  if (type == "int") return value.is_number_integer();
  if (type == "float") return value.is_number();
  if (type.rfind("[]", 0) == 0) {
    if (!value.is_array()) return false;
    return std::all_of(value.begin(), value.end(),
                       [&](const nlohmann::json& e) { return value_fits(e, type.substr(2)); });
  }
  if (type.rfind("map{", 0) == 0 && type.back() == '}') {
    if (!value.is_object()) return false;
    auto kv = split_top(type.substr(4, type.size() - 5), ':');
    if (kv.size() != 2) return false;
    for (const auto& [k, v] : value.items()) {
      (void)k;  // JSON keys are strings; int keys arrive as their decimal text
      if (!value_fits(v, kv[1])) return false;
    }
    return true;
  }
  if (type.rfind("struct{", 0) == 0 && type.back() == '}') {
    if (!value.is_object()) return false;
    for (const auto& field : split_top(type.substr(7, type.size() - 8), ';')) {
      auto space = field.find(' ');
      if (space == std::string::npos) return false;
      std::string name = field.substr(0, space);
      if (value.contains(name) && !value_fits(value[name], field.substr(space + 1))) return false;
    }
    return true;
  }
  return false;
}

Result<void> check_spec(const frontends::ResourceSpec& spec) {
  std::string id = spec.kind + "[" + spec.name + "]";
  std::string where = spec.origin.empty() ? "" : " (" + spec.origin + ")";
  const KindInfo* info = find_kind(spec.kind);
  if (info == nullptr) {
    std::string best;
    std::size_t best_d = 99;
    for (const auto& k : kind_names()) {
      if (auto d = distance(spec.kind, k); d < best_d) {
        best_d = d;
        best = k;
      }
    }
    return fail(Code::invalid_argument,
                id + ": unknown resource kind \"" + spec.kind + "\"" +
                    (best_d <= 2 ? "; did you mean \"" + best + "\"?" : "") + where);
  }
  if (spec.name.empty()) {
    return fail(Code::invalid_argument, spec.kind + ": a resource needs a name" + where);
  }
  if (!spec.params.is_object()) {
    return fail(Code::invalid_argument, id + ": fields must be a map of names to values" + where);
  }
  for (const auto& [name, value] : spec.params.items()) {
    const FieldInfo* f = info->field(name);
    if (f == nullptr) {
      std::string best;
      std::size_t best_d = 99;
      for (const auto& candidate : info->fields) {
        if (auto d = distance(name, candidate.name); d < best_d) {
          best_d = d;
          best = candidate.name;
        }
      }
      return fail(Code::invalid_argument,
                  id + ": field \"" + name + "\" does not exist" +
                      (best_d <= 2 ? "; did you mean \"" + best + "\"?" : "") + where);
    }
    if (!value_fits(value, f->type)) {
      return fail(Code::invalid_argument, id + ": field \"" + name + "\" must be " + f->type +
                                              ", got " + json_kind(value) + where);
    }
  }
  for (const auto& f : info->fields) {
    if (f.required && !spec.params.contains(f.name)) {
      return fail(Code::invalid_argument, id + ": field \"" + f.name + "\" is required" + where);
    }
  }
  return ok();
}

}  // namespace mgmt::agent::resources
