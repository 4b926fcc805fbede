// builtins_json.cpp: see builtins_json.h.
#include "frontends/lang/builtins_json.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <memory>

namespace mgmt::frontends::lang {
namespace {

// An mcl type, parsed from its text.
struct Type {
  enum class Kind { str, integer, floating, boolean, list, map, structure } kind = Kind::str;
  std::shared_ptr<Type> key, value;                          // map; list: value
  std::vector<std::pair<std::string, std::shared_ptr<Type>>> fields;  // struct
};

class TypeParser {
 public:
  explicit TypeParser(const std::string& t) : t_(t) {}
  std::shared_ptr<Type> parse() {
    auto type = one();
    skip();
    return type && at_ == t_.size() ? type : nullptr;
  }

 private:
  void skip() {
    while (at_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[at_]))) ++at_;
  }
  bool eat(const std::string& word) {
    skip();
    if (t_.compare(at_, word.size(), word) != 0) return false;
    at_ += word.size();
    return true;
  }
  std::string name() {
    skip();
    const std::size_t start = at_;
    while (at_ < t_.size() &&
           (std::isalnum(static_cast<unsigned char>(t_[at_])) || t_[at_] == '_')) {
      ++at_;
    }
    return t_.substr(start, at_ - start);
  }
  std::shared_ptr<Type> one() {
    auto type = std::make_shared<Type>();
    if (eat("[]")) {
      type->kind = Type::Kind::list;
      type->value = one();
      return type->value ? type : nullptr;
    }
    if (eat("map{")) {
      type->kind = Type::Kind::map;
      type->key = one();
      if (!type->key || !eat(":")) return nullptr;
      type->value = one();
      return type->value && eat("}") ? type : nullptr;
    }
    if (eat("struct{")) {
      type->kind = Type::Kind::structure;
      while (!eat("}")) {
        const std::string field = name();
        auto ft = one();
        if (field.empty() || !ft) return nullptr;
        type->fields.emplace_back(field, ft);
        if (!eat(";") && !eat(",")) {
          if (!eat("}")) return nullptr;
          break;
        }
      }
      return type;
    }
    const std::string word = name();
    if (word == "str") type->kind = Type::Kind::str;
    else if (word == "int") type->kind = Type::Kind::integer;
    else if (word == "float") type->kind = Type::Kind::floating;
    else if (word == "bool") type->kind = Type::Kind::boolean;
    else return nullptr;
    return type;
  }
  const std::string& t_;
  std::size_t at_ = 0;
};

Value zero(const Type& t) {
  switch (t.kind) {
    case Type::Kind::str: return Value::of(std::string());
    case Type::Kind::integer: return Value::of(int64_t{0});
    case Type::Kind::floating: return Value::of(0.0);
    case Type::Kind::boolean: return Value::of(false);
    case Type::Kind::list: return Value::list({});
    case Type::Kind::map: return Value::map({});
    case Type::Kind::structure: {
      Struct s;
      for (const auto& [n, ft] : t.fields) s.emplace_back(n, zero(*ft));
      return Value::structure(s);
    }
  }
  return Value::of(std::string());
}

Result<Value> convert(const nlohmann::json& j, const Type* t, bool flexible,
                      const std::string& fn) {
  auto bad = [&](const std::string& what) {
    return fail(Code::invalid_argument, "errStream: " + fn + ": " + what);
  };
  if (t == nullptr) {  // shaped by the JSON itself
    if (j.is_boolean()) return Value::of(j.get<bool>());
    if (j.is_number_integer()) return Value::of(j.get<int64_t>());
    if (j.is_number()) return Value::of(j.get<double>());
    if (j.is_string()) return Value::of(j.get<std::string>());
    if (j.is_array()) {
      List out;
      for (const auto& item : j) {
        auto v = convert(item, nullptr, flexible, fn);
        if (!v) return v;
        out.push_back(*v);
      }
      return Value::list(out);
    }
    if (j.is_object()) {
      Map out;
      for (const auto& [k, item] : j.items()) {
        auto v = convert(item, nullptr, flexible, fn);
        if (!v) return v;
        out.emplace_back(Value::of(k), *v);
      }
      return Value::map(std::move(out));
    }
    return bad("null has no mcl value");
  }
  switch (t->kind) {
    case Type::Kind::str:
      if (!j.is_string()) return bad("expected a string, got " + j.dump());
      return Value::of(j.get<std::string>());
    case Type::Kind::integer:
      if (!j.is_number_integer()) return bad("expected an int, got " + j.dump());
      return Value::of(j.get<int64_t>());
    case Type::Kind::floating:
      if (!j.is_number()) return bad("expected a float, got " + j.dump());
      return Value::of(j.get<double>());
    case Type::Kind::boolean:
      if (!j.is_boolean()) return bad("expected a bool, got " + j.dump());
      return Value::of(j.get<bool>());
    case Type::Kind::list: {
      if (!j.is_array()) return bad("expected a list, got " + j.dump());
      List out;
      for (const auto& item : j) {
        auto v = convert(item, t->value.get(), flexible, fn);
        if (!v) return v;
        out.push_back(*v);
      }
      return Value::list(out);
    }
    case Type::Kind::map: {
      if (!j.is_object()) return bad("expected an object, got " + j.dump());
      Map out;
      for (const auto& [k, item] : j.items()) {
        Value key = Value::of(k);
        if (t->key->kind == Type::Kind::integer) {
          try {
            key = Value::of(static_cast<int64_t>(std::stoll(k)));
          } catch (const std::exception&) {
            return bad("key \"" + k + "\" is not an int");
          }
        } else if (t->key->kind != Type::Kind::str) {
          return bad("JSON object keys are strings");
        }
        auto v = convert(item, t->value.get(), flexible, fn);
        if (!v) return v;
        out.emplace_back(key, *v);
      }
      return Value::map(std::move(out));
    }
    case Type::Kind::structure: {
      if (!j.is_object()) return bad("expected an object, got " + j.dump());
      Struct out;
      for (const auto& [n, ft] : t->fields) {
        auto it = j.find(n);
        if (it == j.end()) {
          if (!flexible) return bad("field " + n + " is missing");
          out.emplace_back(n, zero(*ft));
          continue;
        }
        auto v = convert(*it, ft.get(), flexible, fn);
        if (!v) return v;
        out.emplace_back(n, *v);
      }
      if (!flexible && j.size() != t->fields.size()) return bad("the object has extra fields");
      return Value::structure(out);
    }
  }
  return bad("unknown type");
}

Func decoder(const std::string& name, bool flexible) {
  return [name, flexible](const std::vector<Value>& a) -> Result<Value> {
    if (a.empty() || a.size() > 2 || !a[0].is_str() || (a.size() == 2 && !a[1].is_str())) {
      return fail(Code::invalid_argument,
                  "errUnify: " + name + " takes the JSON text and maybe a type, both str");
    }
    std::shared_ptr<Type> type;
    if (a.size() == 2) {
      type = TypeParser(a[1].as_str()).parse();
      if (!type) {
        return fail(Code::invalid_argument,
                    "errUnify: " + name + ": \"" + a[1].as_str() + "\" is not an mcl type");
      }
    }
    auto doc = nlohmann::json::parse(a[0].as_str(), nullptr, false);
    if (doc.is_discarded()) {
      return fail(Code::invalid_argument, "errStream: " + name + ": the text is not JSON");
    }
    return convert(doc, type.get(), flexible, name);
  };
}

}  // namespace

void add_json_builtins(std::map<std::string, Func>& t) {
  t["encoding.decode_json"] = decoder("encoding.decode_json", false);
  t["encoding.decode_json_flexible"] = decoder("encoding.decode_json_flexible", true);
}

}  // namespace mgmt::frontends::lang
