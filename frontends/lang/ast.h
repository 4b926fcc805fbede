// ast.h: the syntax tree of an mcl program. Every node keeps its position for errors.
// Thread-safety: immutable after parsing; shared freely.
#pragma once

#include "frontends/lang/lexer.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mgmt::frontends::lang {

struct Expr;
struct Stmt;
using ExprPtr = std::shared_ptr<const Expr>;
using StmtPtr = std::shared_ptr<const Stmt>;

struct Expr {
  enum class Kind {
    boolean, integer, floating, string, variable, list, map, structure, call, call_value,
    binary, unary, if_expr, lambda, index, field
  };
  Kind kind = Kind::boolean;
  Position position;
  bool boolean = false;
  int64_t integer = 0;
  double floating = 0;
  std::string text;  // string value, variable or function name, operator, field name
  std::vector<ExprPtr> items;  // operands, arguments, elements; maps: key, value, key, value...
  std::vector<std::string> names;  // struct field names, lambda parameter names
};

struct Field {
  std::string name;
  ExprPtr value;
  ExprPtr condition;  // `name => $cond ?: value`: only set when $cond is true
  Position position;
};

struct EdgeEnd {
  std::string kind;
  ExprPtr name;
  std::string field;  // send/recv: Exec["e"].output -> File["f"].content
  Position position;
};

struct Stmt {
  enum class Kind { bind, resource, edge, if_stmt, func_def, class_def, include, import, for_loop, forkv_loop, panic };
  Kind kind = Kind::bind;
  Position position;
  std::string name;   // bind variable, func/class name, resource kind, import path, include
  std::string alias;  // import/include `as`
  ExprPtr value;      // bind value, resource name, if condition, func body
  std::vector<Field> fields;
  std::vector<EdgeEnd> chain;  // edge: two or more ends
  // resource: edge properties in its body (`Depend => Pkg["x"]`, or `Depend => $c ?: Pkg["x"]`
  // when $c): property, the other end, the condition (null: always).
  struct EdgeProp {
    std::string property;
    EdgeEnd end;
    ExprPtr condition;
  };
  std::vector<EdgeProp> edge_props;
  bool notify = false;
  bool collect = false;  // resource: `collect kind names {...}` (exported resources)
  std::vector<std::string> params;  // func/class parameters; for/forkv loop variables
  std::vector<ExprPtr> args;        // include arguments
  std::vector<StmtPtr> body;        // if-then, class body
  std::vector<StmtPtr> otherwise;   // if-else
};

}  // namespace mgmt::frontends::lang
