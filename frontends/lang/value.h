// value.h: mcl's run-time values: bool, int, float, str, list, map (ordered by key), struct
// (ordered fields) and func, with the reference's printing and a JSON form for resource fields.
// Thread-safety: values are immutable once built; share freely.
#pragma once

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mgmt::frontends::lang {

struct Value;
using List = std::vector<Value>;
using Map = std::vector<std::pair<Value, Value>>;           // sorted by key
using Struct = std::vector<std::pair<std::string, Value>>;  // in declaration order
using Func = std::function<Result<Value>(const std::vector<Value>&)>;

struct Value {
  std::variant<bool, int64_t, double, std::string, std::shared_ptr<const List>,
               std::shared_ptr<const Map>, std::shared_ptr<const Struct>,
               std::shared_ptr<const Func>>
      data;

  static Value of(bool b) { return Value{b}; }
  static Value of(int64_t i) { return Value{i}; }
  static Value of(double d) { return Value{d}; }
  static Value of(std::string s) { return Value{std::move(s)}; }
  static Value list(List l) { return Value{std::make_shared<const List>(std::move(l))}; }
  static Value map(Map m);
  static Value structure(Struct s) {
    return Value{std::make_shared<const Struct>(std::move(s))};
  }
  static Value func(Func f) { return Value{std::make_shared<const Func>(std::move(f))}; }

  bool is_bool() const { return data.index() == 0; }
  bool is_int() const { return data.index() == 1; }
  bool is_float() const { return data.index() == 2; }
  bool is_str() const { return data.index() == 3; }
  bool is_list() const { return data.index() == 4; }
  bool is_map() const { return data.index() == 5; }
  bool is_struct() const { return data.index() == 6; }
  bool is_func() const { return data.index() == 7; }

  bool as_bool() const { return std::get<0>(data); }
  int64_t as_int() const { return std::get<1>(data); }
  double as_float() const { return std::get<2>(data); }
  const std::string& as_str() const { return std::get<3>(data); }
  const List& as_list() const { return *std::get<4>(data); }
  const Map& as_map() const { return *std::get<5>(data); }
  const Struct& as_struct() const { return *std::get<6>(data); }
  const Func& as_func() const { return *std::get<7>(data); }

  // The type's name as mcl writes it ("str", "[]int", "map{str: int}", "func"...).
  std::string type_name() const;
  // As the reference prints values (%v).
  std::string str() const;
  nlohmann::json to_json() const;
};

bool operator==(const Value& a, const Value& b);
bool operator<(const Value& a, const Value& b);

}  // namespace mgmt::frontends::lang
