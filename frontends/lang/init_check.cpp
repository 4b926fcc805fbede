// init_check.cpp: see init_check.h.
#include "frontends/lang/init_check.h"

#include <set>

namespace mgmt::frontends::lang {
namespace {

class InitCheck {
 public:
  explicit InitCheck(std::string file) : file_(std::move(file)) {}

  Result<void> statements(const std::vector<StmtPtr>& list, bool in_loop) {
    for (const auto& s : list) {
      if (auto r = statement(*s, in_loop); !r) return r;
    }
    return ok();
  }

 private:
  Result<void> statement(const Stmt& s, bool in_loop) {
    if (s.kind == Stmt::Kind::import && in_loop) {
      return error("an import cannot be inside a for loop; import at the top of the file",
                   s.position);
    }
    if (auto r = expr(s.value); !r) return r;
    for (const auto& f : s.fields) {
      if (auto r = expr(f.value); !r) return r;
      if (auto r = expr(f.condition); !r) return r;
    }
    for (const auto& end : s.chain) {
      if (auto r = expr(end.name); !r) return r;
    }
    for (const auto& a : s.args) {
      if (auto r = expr(a); !r) return r;
    }
    const bool loop = in_loop || s.kind == Stmt::Kind::for_loop ||
                      s.kind == Stmt::Kind::forkv_loop;
    if (auto r = statements(s.body, loop); !r) return r;
    return statements(s.otherwise, loop);
  }

  Result<void> expr(const ExprPtr& e) {
    if (!e) return ok();
    if (e->kind == Expr::Kind::map) {
      std::set<std::string> seen;
      std::string literal_kind;
      for (std::size_t i = 0; i + 1 < e->items.size(); i += 2) {
        const Expr& key = *e->items[i];
        if (key.kind == Expr::Kind::list || key.kind == Expr::Kind::map) {
          return error(std::string("map key type ") +
                           (key.kind == Expr::Kind::list ? "list" : "map") + " is not hashable",
                       e->position);
        }
        const std::string kind = literal(key);
        if (kind.empty()) continue;
        if (!literal_kind.empty() && kind != literal_kind) {
          return error("inconsistent map key type: " + literal_kind + " != " + kind,
                       e->position);
        }
        literal_kind = kind;
        const std::string text = kind + ":" + shown(key);
        if (!seen.insert(text).second) {
          return error("duplicate map key: " + shown(key), e->position);
        }
      }
    }
    if (e->kind == Expr::Kind::structure) {
      std::set<std::string> fields;
      for (const auto& name : e->names) {
        if (!fields.insert(name).second) {
          return error("duplicate struct field name of: `" + name + "`", e->position);
        }
      }
    }
    for (const auto& item : e->items) {
      if (auto r = expr(item); !r) return r;
    }
    return ok();
  }

  static std::string literal(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::string: return "str";
      case Expr::Kind::integer: return "int";
      case Expr::Kind::floating: return "float";
      case Expr::Kind::boolean: return "bool";
      default: return {};
    }
  }

  static std::string shown(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::string: return "\"" + e.text + "\"";
      case Expr::Kind::integer: return std::to_string(e.integer);
      case Expr::Kind::floating: return std::to_string(e.floating);
      case Expr::Kind::boolean: return e.boolean ? "true" : "false";
      default: return {};
    }
  }

  tl::unexpected<Error> error(const std::string& what, Position p) const {
    return fail(Code::invalid_argument, "errInit: " + what + " (" + file_ + " @ " +
                                            std::to_string(p.row) + ":" +
                                            std::to_string(p.col) + ")");
  }

  std::string file_;
};

}  // namespace

Result<void> init_check(const std::vector<StmtPtr>& program, const std::string& file) {
  return InitCheck(file).statements(program, false);
}

}  // namespace mgmt::frontends::lang
