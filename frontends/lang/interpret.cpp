// interpret.cpp: scopes, lazy binds, expression evaluation and graph building; see
// interpret.h.
#include "frontends/lang/interpret.h"

#include "frontends/lang/init_check.h"

#include "agent/resources/registry.h"
#include "agent/resources/value_state.h"
#include "common/host.h"
#include "common/json_text.h"
#include "frontends/lang/builtins.h"
#include "frontends/lang/parser.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

#include <map>
#include <set>

namespace mgmt::frontends::lang {
namespace {

struct Scope;
using ScopePtr = std::shared_ptr<Scope>;

struct Binding {
  ExprPtr expr;
  ScopePtr scope;  // where expr is evaluated (weak use: the owning scope)
  std::optional<Value> value;
  bool evaluating = false;
};

struct Scope {
  ScopePtr parent;
  std::map<std::string, std::shared_ptr<Binding>> vars;
  std::map<std::string, StmtPtr> funcs;
  std::map<std::string, std::pair<StmtPtr, ScopePtr>> classes;
  // `class base:inner`: classes to define inside each include of `base`, by base's name.
  std::map<std::string, std::vector<StmtPtr>> nested_classes;
  std::map<std::string, std::string> imports;  // alias -> module
  // A local module's scope knows where its files are ("/mod1"); others ask their parents.
  std::optional<std::string> module_prefix;
  std::string prefix() const {
    for (const Scope* s = this; s; s = s->parent.get()) {
      if (s->module_prefix) return *s->module_prefix;
    }
    return {};
  }
  std::map<std::string, ScopePtr> namespaces;  // `include c as x`, `import "x.mcl"`: their binds

  ScopePtr find_namespace(const std::string& n) {
    for (Scope* s = this; s; s = s->parent.get()) {
      if (auto it = s->namespaces.find(n); it != s->namespaces.end()) return it->second;
    }
    return nullptr;
  }

  std::shared_ptr<Binding> find_var(const std::string& n) {
    for (Scope* s = this; s; s = s->parent.get()) {
      if (auto it = s->vars.find(n); it != s->vars.end()) return it->second;
    }
    // $ns.name: a bind of an included class or an imported file.
    if (auto dot = n.find('.'); dot != std::string::npos) {
      if (auto ns = find_namespace(n.substr(0, dot))) return ns->find_var(n.substr(dot + 1));
    }
    return nullptr;
  }
  StmtPtr find_func(const std::string& n, ScopePtr* owner = nullptr) {
    for (Scope* s = this; s; s = s->parent.get()) {
      if (auto it = s->funcs.find(n); it != s->funcs.end()) return it->second;
    }
    if (auto dot = n.find('.'); dot != std::string::npos) {
      if (auto ns = find_namespace(n.substr(0, dot))) {
        if (owner) *owner = ns;
        return ns->find_func(n.substr(dot + 1), owner);
      }
    }
    return nullptr;
  }
  const std::pair<StmtPtr, ScopePtr>* find_class(const std::string& n) {
    for (Scope* s = this; s; s = s->parent.get()) {
      if (auto it = s->classes.find(n); it != s->classes.end()) return &it->second;
    }
    // ns.name: a class defined inside an included class (or an imported file).
    if (auto dot = n.rfind('.'); dot != std::string::npos) {
      if (auto ns = find_namespace(n.substr(0, dot))) return ns->find_class(n.substr(dot + 1));
    }
    return nullptr;
  }
  std::vector<StmtPtr> nested_in(const std::string& outer) {
    for (Scope* s = this; s; s = s->parent.get()) {
      if (auto it = s->nested_classes.find(outer); it != s->nested_classes.end()) {
        return it->second;
      }
    }
    return {};
  }
  std::optional<std::string> module_of(const std::string& alias) {
    for (Scope* s = this; s; s = s->parent.get()) {
      if (auto it = s->imports.find(alias); it != s->imports.end()) return it->second;
    }
    return std::nullopt;
  }
};

class Interpreter {
 public:
  Interpreter(std::string file, std::string dir, StreamSources* sources,
              const LangRuntime* runtime)
      : file_(std::move(file)), dir_(std::move(dir)), sources_(sources), runtime_(runtime) {}
  // Scopes, bindings and closures point at each other (a bind's value may be a closure over
  // its own scope): every scope is made here and, at the end, emptied, so nothing leaks.
  ~Interpreter() {
    for (auto& s : scopes_) {
      s->vars.clear();
      s->namespaces.clear();
      s->classes.clear();
      s->nested_classes.clear();
      s->parent.reset();
    }
  }
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  Result<GraphSpec> run(const std::vector<StmtPtr>& program) {
    auto root = new_scope();
    if (auto r = block(program, root); !r) return fail(r.error());
    // Every top-level bind is part of the program, used or not (the reference checks them
    // all): one that refers to itself or is ill-typed is an error here too. A value that
    // fails while running (errStream) is not: a `<|>` where it is used may catch it.
    for (const auto& [name, b] : root->vars) {
      if (b->value || !b->expr) continue;
      auto use = std::make_shared<Expr>();
      use->kind = Expr::Kind::variable;
      use->text = name;
      use->position = b->expr->position;
      if (auto v = eval(use, root); !v && v.error().message().rfind("errStream", 0) != 0) {
        return fail(v.error());
      }
    }
    // Every edge joins resources of the graph.
    std::set<std::string> ids;
    std::set<std::string> hidden;
    for (const auto& r : graph_.resources) {
      ids.insert(lower(r.kind) + "[" + r.name + "]");
      if (r.meta.value("hidden", false)) hidden.insert(lower(r.kind) + "[" + r.name + "]");
    }
    std::set<std::string> received;  // "kind[name].field"
    for (std::size_t i = 0; i < graph_.edges.size(); ++i) {
      const auto& e = graph_.edges[i];
      for (const auto& [kind, name] : {std::pair{e.from_kind, e.from_name},
                                       std::pair{e.to_kind, e.to_name}}) {
        if (!ids.count(lower(kind) + "[" + name + "]")) {
          return error("errInterpret", "edge cannot find resource kind: " + lower(kind) +
                                           " named: `" + name + "`",
                       i < edge_positions_.size() ? edge_positions_[i] : Position{});
        }
      }
      if (e.send.empty()) continue;
      if (auto r = check_send_recv(e, hidden, received,
                                   i < edge_positions_.size() ? edge_positions_[i] : Position{});
          !r) {
        return fail(r.error());
      }
    }
    return graph_;
  }

 private:
  tl::unexpected<Error> error(const std::string& cls, const std::string& what, Position p) {
    return fail(Code::invalid_argument, cls + ": " + what + " (" + file_ + " @ " +
                                            std::to_string(p.row) + ":" + std::to_string(p.col) +
                                            ")");
  }
  // A builtin's error gets the position of its call.
  tl::unexpected<Error> located(const Error& e, Position p) {
    if (e.message().find(" @ ") != std::string::npos) return fail(e);
    return fail(Code::invalid_argument, e.message() + " (" + file_ + " @ " +
                                            std::to_string(p.row) + ":" +
                                            std::to_string(p.col) + ")");
  }

  // Declarations first (binds, funcs, classes, imports), then the statements that build.
  Result<void> block(const std::vector<StmtPtr>& stmts, const ScopePtr& scope) {
    for (const auto& s : stmts) {
      switch (s->kind) {
        case Stmt::Kind::bind:
          if (scope->vars.count(s->name)) {
            return error("errSetScope", "$" + s->name + " is defined twice", s->position);
          }
          scope->vars[s->name] = std::make_shared<Binding>(Binding{s->value, scope, {}, false});
          break;
        case Stmt::Kind::func_def:
          if (scope->funcs.count(s->name)) {
            return error("errSetScope", "func " + s->name + " is defined twice", s->position);
          }
          scope->funcs[s->name] = s;
          break;
        case Stmt::Kind::class_def:
          if (auto colon = s->name.rfind(':'); colon != std::string::npos) {
            scope->nested_classes[s->name.substr(0, colon)].push_back(s);
            break;
          }
          if (scope->classes.count(s->name)) {
            return error("errSetScope", "class " + s->name + " is defined twice", s->position);
          }
          scope->classes[s->name] = {s, scope};
          break;
        case Stmt::Kind::import: {
          std::string module = s->name;
          if (module.size() > 4 && module.compare(module.size() - 4, 4, ".mcl") == 0) {
            if (auto r = import_file(*s, scope); !r) return r;
            break;
          }
          if (!module.empty() && module.back() == '/') {
            if (auto r = import_module_dir(*s, scope); !r) return r;
            break;
          }
          std::string alias = s->alias.empty() ? module.substr(module.rfind('/') + 1) : s->alias;
          static const std::set<std::string> kModules = {
              "fmt", "strings", "encoding", "convert", "math", "sys", "os", "iter", "golang",
              "golang/strings", "list", "map", "deploy", "datetime", "net", "test", "world",
              "local", "value", "world/collect"};
          if (!kModules.count(module)) {
            std::string known;
            for (const auto& m : kModules) known += (known.empty() ? "" : ", ") + m;
            return error("errSetScope", "import \"" + module + "\": no such core module (" +
                                            "this frontend has " + known + ")",
                         s->position);
          }
          scope->imports[alias] = module;
          break;
        }
        default:
          break;
      }
    }
    if (auto r = check_class_cycles(scope); !r) return r;
    // Includes first (in their order: one may name a class inside another), so that their
    // binds ($alias.name) are there for whatever statement uses them, wherever it stands.
    for (const auto& s : stmts) {
      if (s->kind != Stmt::Kind::include) continue;
      if (auto r = build(s, scope); !r) return r;
    }
    for (const auto& s : stmts) {
      if (s->kind == Stmt::Kind::include) continue;
      if (auto r = build(s, scope); !r) return r;
    }
    return ok();
  }

  // Classes of one scope that include each other (a cycle) are refused even when none of
  // them is ever included: the reference checks this before running anything.
  Result<void> check_class_cycles(const ScopePtr& scope) {
    std::map<std::string, int> colour;  // 0 new, 1 on the path, 2 done
    std::function<Result<void>(const std::string&)> visit =
        [&](const std::string& name) -> Result<void> {
      colour[name] = 1;
      std::vector<const Stmt*> todo;
      for (const auto& st : scope->classes.at(name).first->body) todo.push_back(st.get());
      while (!todo.empty()) {
        const Stmt* st = todo.back();
        todo.pop_back();
        for (const auto& b : st->body) todo.push_back(b.get());
        for (const auto& b : st->otherwise) todo.push_back(b.get());
        if (st->kind != Stmt::Kind::include || !scope->classes.count(st->name)) continue;
        if (colour[st->name] == 1) {
          return error("errSetScope", "recursive reference while setting scope: not a dag: "
                                      "class " + name + " includes " + st->name +
                                      ", which includes it back",
                       st->position);
        }
        if (colour[st->name] == 0) {
          if (auto r = visit(st->name); !r) return r;
        }
      }
      colour[name] = 2;
      return ok();
    };
    for (const auto& [name, def] : scope->classes) {
      if (colour[name] == 0) {
        if (auto r = visit(name); !r) return r;
      }
    }
    return ok();
  }

  Result<void> build(const StmtPtr& s, const ScopePtr& scope) {
    switch (s->kind) {
      case Stmt::Kind::resource: return resource(*s, scope);
      case Stmt::Kind::edge: return edge(*s, scope);
      case Stmt::Kind::if_stmt: {
        auto c = eval(s->value, scope);
        if (!c) return fail(c.error());
        if (!c->is_bool()) {
          return error("errUnify", "an if condition must be bool, not " + c->type_name(),
                       s->value->position);
        }
        auto child = new_scope();
        child->parent = scope;
        return block(c->as_bool() ? s->body : s->otherwise, child);
      }
      case Stmt::Kind::panic: {
        auto v = eval(s->value, scope);
        if (!v) return fail(v.error());
        if ((v->is_bool() && v->as_bool()) || (v->is_str() && !v->as_str().empty())) {
          return error("errStream", "panic: " + v->str(), s->position);
        }
        if (!v->is_bool() && !v->is_str()) {
          return error("errUnify", "panic needs a bool or a str, not " + v->type_name(),
                       s->value->position);
        }
        return ok();
      }
      case Stmt::Kind::for_loop:
      case Stmt::Kind::forkv_loop: {
        auto c = eval(s->value, scope);
        if (!c) return fail(c.error());
        bool kv = s->kind == Stmt::Kind::forkv_loop;
        if (kv ? !c->is_map() : !c->is_list()) {
          return error("errUnify", std::string(kv ? "forkv" : "for") + " needs a " +
                                       (kv ? "map" : "list") + ", not " + c->type_name(),
                       s->value->position);
        }
        std::size_t n = kv ? c->as_map().size() : c->as_list().size();
        for (std::size_t i = 0; i < n; ++i) {
          auto child = new_scope();
          child->parent = scope;
          Value first = kv ? c->as_map()[i].first : Value::of(static_cast<int64_t>(i));
          Value second = kv ? c->as_map()[i].second : c->as_list()[i];
          child->vars[s->params[0]] = std::make_shared<Binding>(Binding{nullptr, child, first, false});
          child->vars[s->params[1]] = std::make_shared<Binding>(Binding{nullptr, child, second, false});
          // The body is a scope of its own: its binds may shadow the loop variables.
          auto body = new_scope();
          body->parent = child;
          if (auto r = block(s->body, body); !r) return r;
        }
        return ok();
      }
      case Stmt::Kind::include: {
        auto* cls = scope->find_class(s->name);
        if (!cls) return error("errSetScope", "class " + s->name + " is not defined", s->position);
        const Stmt& def = *cls->first;
        if (including_.count(&def)) {
          return error("errSetScope", "recursive reference while setting scope: not a dag: "
                                      "class " + def.name + " includes itself",
                       s->position);
        }
        if (def.params.size() != s->args.size()) {
          return error("errUnify", "class " + s->name + " takes " +
                                       std::to_string(def.params.size()) + " argument(s), got " +
                                       std::to_string(s->args.size()),
                       s->position);
        }
        auto child = new_scope();
        child->parent = cls->second;
        for (std::size_t i = 0; i < def.params.size(); ++i) {
          auto v = eval(s->args[i], scope);
          if (!v) return fail(v.error());
          child->vars[def.params[i]] = std::make_shared<Binding>(Binding{nullptr, child, *v, false});
        }
        // The body is a scope of its own, so its binds may shadow the parameters.
        auto body = new_scope();
        body->parent = child;
        // `class base:inner` defines inner inside every include of base.
        for (const auto& inner : cls->second->nested_in(def.name)) {
          const std::string short_name = inner->name.substr(inner->name.rfind(':') + 1);
          const std::string rest = inner->name.substr(def.name.size() + 1);
          if (rest.find(':') != std::string::npos) {
            body->nested_classes[def.name.empty() ? rest : rest.substr(0, rest.rfind(':'))]
                .push_back(inner);
            continue;
          }
          body->classes[short_name] = {inner, body};
        }
        if (!s->alias.empty()) {
          if (scope->namespaces.count(s->alias)) {
            return error("errSetScope", "include ... as " + s->alias + ": the name " + s->alias +
                                            " is taken in this scope; choose another",
                         s->position);
          }
          scope->namespaces[s->alias] = body;
        }
        including_.insert(&def);
        auto r = block(def.body, body);
        including_.erase(&def);
        return r;
      }
      default:
        return ok();
    }
  }

  // `import "thing.mcl"`: its binds, funcs and classes under `thing.`, its resources built.
  // A local module: a directory of the deploy with its own main.mcl (or the file its
  // metadata.yaml names as `main:`) and files/; its deploy paths are its own ("/files/x" in
  // module mod1/ is the deploy's "/mod1/files/x").
  Result<void> import_module_dir(const Stmt& s, const ScopePtr& scope) {
    const std::string rel = scope->prefix() + "/" + s.name.substr(0, s.name.size() - 1);
    const std::string base = (dir_.empty() ? std::string(".") : dir_) + rel;
    std::string entry = "main.mcl";
    if (std::ifstream meta(base + "/metadata.yaml"); meta) {
      for (std::string line; std::getline(meta, line);) {
        if (line.rfind("main:", 0) != 0) continue;
        std::string v = line.substr(5);
        v.erase(0, v.find_first_not_of(" \t\""));
        v.erase(v.find_last_not_of(" \t\"") + 1);
        if (!v.empty()) entry = v;
      }
    }
    std::ifstream in(base + "/" + entry);
    if (!in) {
      return error("errSetScope", "import \"" + s.name + "\": no " + entry + " in " +
                                      rel.substr(1) + "/", s.position);
    }
    std::ostringstream text;
    text << in.rdbuf();
    const std::string shown = rel.substr(1) + "/" + entry;
    auto program = parse(text.str(), shown);
    if (!program) return fail(program.error());
    if (auto checked = init_check(*program, shown); !checked) return fail(checked.error());
    auto child = new_scope();
    child->module_prefix = rel;
    std::string alias = s.alias.empty() ? s.name.substr(0, s.name.size() - 1) : s.alias;
    alias = alias.substr(alias.rfind('/') + 1);
    scope->namespaces[alias] = child;
    const std::string saved_file = file_;
    file_ = shown;
    auto r = block(*program, child);
    file_ = saved_file;
    return r;
  }

  Result<void> import_file(const Stmt& s, const ScopePtr& scope) {
    std::string path = (dir_.empty() ? std::string(".") : dir_) + scope->prefix() + "/" + s.name;
    std::ifstream in(path);
    if (!in) return error("errSetScope", "import \"" + s.name + "\": cannot read " + path, s.position);
    std::ostringstream text;
    text << in.rdbuf();
    auto program = parse(text.str(), s.name);
    if (!program) return fail(program.error());
    if (auto checked = init_check(*program, s.name); !checked) return fail(checked.error());
    if (s.alias == "*") {
      // `import "x.mcl" as *`: its binds, funcs and classes join this scope.
      std::string saved = file_;
      file_ = s.name;
      auto r = block(*program, scope);
      file_ = saved;
      return r;
    }
    auto child = new_scope();
    std::string alias = s.alias.empty() ? s.name.substr(0, s.name.size() - 4) : s.alias;
    alias = alias.substr(alias.rfind('/') + 1);
    scope->namespaces[alias] = child;
    std::string saved = file_;
    file_ = s.name;
    auto r = block(*program, child);
    file_ = saved;
    return r;
  }

  Result<std::vector<std::string>> names_of(const ExprPtr& e, const ScopePtr& scope) {
    auto v = eval(e, scope);
    if (!v) return fail(v.error());
    if (v->is_str()) return std::vector<std::string>{v->as_str()};
    if (v->is_list()) {
      std::vector<std::string> out;
      for (const auto& item : v->as_list()) {
        if (!item.is_str()) break;
        out.push_back(item.as_str());
      }
      if (out.size() == v->as_list().size()) return out;
    }
    return error("errUnify", "a resource name must be str or []str, not " + v->type_name(),
                 e->position);
  }

  Result<void> resource(const Stmt& s, const ScopePtr& scope) {
    // `collect`: the names come with the exported resources' fields (the base of each).
    std::vector<nlohmann::json> collected;
    Result<std::vector<std::string>> names = std::vector<std::string>{};
    if (s.collect) {
      auto found = collect_names(s, scope);
      if (!found) return fail(found.error());
      for (auto& [name, params] : *found) {
        names->push_back(name);
        collected.push_back(std::move(params));
      }
    } else {
      names = names_of(s.value, scope);
    }
    if (!names) return fail(names.error());
    // Edge properties: Depend/Listen make the other end come first, Before/Notify after;
    // Notify and Listen carry a refresh.
    for (const auto& [prop, end, condition] : s.edge_props) {
      if (condition) {
        auto c = eval(condition, scope);
        if (!c) return fail(c.error());
        if (!c->is_bool()) {
          return error("errUnify", prop + " condition must be bool, not " + c->type_name(),
                       condition->position);
        }
        if (!c->as_bool()) continue;
      }
      auto others = names_of(end.name, scope);
      if (!others) return fail(others.error());
      const bool first = prop == "Depend" || prop == "Listen";
      const bool notify = prop == "Notify" || prop == "Listen";
      for (const auto& self : *names) {
        for (const auto& other : *others) {
          // Kinds are written capitalised in edges (Pkg["x"]); the graph names them as kinds.
          EdgeSpec e = first ? EdgeSpec{lower(end.kind), other, s.name, self, notify}
                             : EdgeSpec{s.name, self, lower(end.kind), other, notify};
          graph_.edges.push_back(std::move(e));
          edge_positions_.push_back(end.position);
        }
      }
    }
    const auto* kind = agent::resources::find_kind(s.name);
    if (!kind) {
      return error("errInterpret", "resource kind \"" + s.name + "\" does not exist",
                   s.position);
    }
    ResourceSpec base;
    base.kind = s.name;
    for (const auto& f : s.fields) {
      if (f.condition) {
        auto c = eval(f.condition, scope);
        if (!c) return fail(c.error());
        if (!c->is_bool()) {
          return error("errUnify", "the condition of field " + f.name + " must be bool",
                       f.position);
        }
        if (!c->as_bool()) continue;
      }
      auto v = eval(f.value, scope);
      if (!v) return fail(v.error());
      if (f.name == "Meta") {
        if (!v->is_struct()) return error("errUnify", "Meta must be a struct", f.position);
        for (const auto& [k, mv] : v->as_struct()) base.meta[k] = mv.to_json();
        continue;
      }
      if (f.name.rfind("Meta:", 0) == 0) {
        base.meta[f.name.substr(5)] = v->to_json();
        continue;
      }
      const auto* field = kind->field(f.name);
      if (!field) {
        return error("errUnify", s.name + " has no field \"" + f.name + "\"", f.position);
      }
      if (base.params.contains(f.name)) {
        return error("errInterpret", "field \"" + f.name + "\" is set twice", f.position);
      }
      auto json = v->to_json();
      if (!agent::resources::value_fits(json, field->type)) {
        return error("errUnify", s.name + " field \"" + f.name + "\" must be " + field->type +
                                     ", not " + v->type_name(),
                     f.position);
      }
      base.params[f.name] = json;
    }
    if (auto to = base.meta.find("export"); to != base.meta.end()) {
      if (!to->is_array() ||
          !std::all_of(to->begin(), to->end(), [](const auto& h) { return h.is_string(); })) {
        return error("errUnify", "Meta:export must be a []str of hostnames (\"*\": every host)",
                     s.position);
      }
    }
    for (std::size_t i = 0; i < names->size(); ++i) {
      const std::string& name = (*names)[i];
      std::string id = s.name + "[" + name + "]";
      ResourceSpec r = base;
      r.name = name;
      if (s.collect) {
        // The exported fields, then the collect body's on top.
        nlohmann::json params = collected[i];
        for (const auto& [k, v] : base.params.items()) params[k] = v;
        r.params = std::move(params);
        r.meta.erase("export");
      }
      if (auto it = seen_.find(id); it != seen_.end()) {
        // The same resource twice is one resource (the reference merges compatible
        // duplicates); two different ones under one name are an error.
        ResourceSpec& other = graph_.resources[it->second];
        if (auto merged = merge_duplicate(id, other, r); !merged) {
          return error("errInterpret", merged.error().message(), s.position);
        }
        continue;
      }
      seen_[id] = graph_.resources.size();
      r.origin = file_ + " @ " + std::to_string(s.position.row) + ":" +
                 std::to_string(s.position.col);
      graph_.resources.push_back(std::move(r));
    }
    return ok();
  }

  // Two resources of one kind and name are one when their fields agree. Their metaparameters
  // must agree too, except that a resource shown here and hidden there is shown (a resource
  // exported hidden and collected back), and export lists add up. Two exports of one resource
  // to the same host must agree.
  static std::set<std::string> exported_to(const ResourceSpec& r) {
    std::set<std::string> to;
    if (auto e = r.meta.find("export"); e != r.meta.end() && e->is_array()) {
      for (const auto& h : *e) {
        if (h.is_string()) to.insert(h.get<std::string>());
      }
    }
    return to;
  }

  static Result<void> merge_duplicate(const std::string& id, ResourceSpec& have,
                                      const ResourceSpec& added) {
    ResourceSpec add = added;
    // pkg: "installed" and "newest" agree; the package is kept newest (as the reference does).
    if (have.kind == "pkg" && have.params != add.params) {
      const std::string a = have.params.value("state", "installed");
      const std::string b = add.params.value("state", "installed");
      if (a != b && (a == "newest" || b == "newest") && (a == "installed" || b == "installed")) {
        nlohmann::json x = have.params;
        nlohmann::json y = add.params;
        x["state"] = y["state"] = "newest";
        if (x == y) have.params = add.params = x;
      }
    }
    if (have.params != add.params) {
      const auto a = exported_to(have);
      const auto b = exported_to(add);
      for (const auto& host : a) {
        if (!b.count(host)) continue;
        std::string field;
        for (const auto& [k, v] : have.params.items()) {
          if (!add.params.contains(k) || add.params[k] != v) field = k;
        }
        for (const auto& [k, v] : add.params.items()) {
          if (!have.params.contains(k)) field = k;
        }
        return fail(Code::invalid_argument, id + ": inequivalent duplicate export to " + host +
                                                ": the " + field + " differs");
      }
      return fail(Code::invalid_argument, "duplicate resource " + id + " with different fields");
    }
    nlohmann::json meta_a = have.meta;
    nlohmann::json meta_b = add.meta;
    for (auto* m : {&meta_a, &meta_b}) {
      m->erase("hidden");
      m->erase("export");
    }
    if (meta_a != meta_b) {
      return fail(Code::invalid_argument,
                  "duplicate resource " + id + " with different metaparameters");
    }
    const bool hidden = have.meta.value("hidden", false) && add.meta.value("hidden", false);
    std::set<std::string> to = exported_to(have);
    to.merge(exported_to(add));
    if (hidden) {
      have.meta["hidden"] = true;
    } else {
      have.meta.erase("hidden");
    }
    if (!to.empty()) have.meta["export"] = to;
    return ok();
  }

  // Resources exported by hosts (theirs and this one's, published after a run) to this host,
  // or to every host ("*"), from the store: /_mgmt/exported/HOST/KIND/NAME = {"params",
  // "to"}. Without an agent there are none.
  struct Exported {
    std::string host;
    std::string kind;
    std::string name;
    nlohmann::json params;
  };
  Result<std::vector<Exported>> exported_here(Position p) {
    const std::string prefix = "/_mgmt/exported/";
    if (sources_) sources_->store_prefixes.insert(prefix);
    std::vector<Exported> out;
    if (!runtime_ || !runtime_->list_prefix) return out;
    auto got = runtime_->list_prefix(prefix);
    if (!got) return error("errStream", "collect: " + got.error().message(), p);
    for (const auto& [key, entry] : *got) {
      const std::string rest = key.substr(prefix.size());
      const auto slash1 = rest.find('/');
      const auto slash2 = slash1 == std::string::npos ? slash1 : rest.find('/', slash1 + 1);
      if (slash2 == std::string::npos) continue;
      auto data = nlohmann::json::parse(entry.first, nullptr, false);
      if (!data.is_object() || !data.contains("to") || !data["to"].is_array()) continue;
      bool mine = false;
      for (const auto& h : data["to"]) {
        if (h == "*" || h == runtime_->hostname) mine = true;
      }
      if (!mine) continue;
      out.push_back({rest.substr(0, slash1), rest.substr(slash1 + 1, slash2 - slash1 - 1),
                     rest.substr(slash2 + 1), data.value("params", nlohmann::json::object())});
    }
    return out;
  }

  // `collect KIND NAMES {...}`: NAMES is a str or []str (from any host) or a
  // struct{name str; host str} or a list of them (from that host). Each exported resource
  // found gives one resource; names nobody exported give none.
  Result<std::vector<std::pair<std::string, nlohmann::json>>> collect_names(const Stmt& s,
                                                                           const ScopePtr& scope) {
    auto v = eval(s.value, scope);
    if (!v) return fail(v.error());
    std::vector<std::pair<std::string, std::string>> wanted;  // name, host ("" any)
    auto add = [&](const Value& x) -> Result<void> {
      if (x.is_str()) {
        wanted.emplace_back(x.as_str(), "");
        return ok();
      }
      if (x.is_struct()) {
        std::string name;
        std::string host;
        for (const auto& [k, f] : x.as_struct()) {
          if (k == "name" && f.is_str()) name = f.as_str();
          if (k == "host" && f.is_str()) host = f.as_str();
        }
        if (name.empty() || host.empty() || host == "*") {
          return error("errStream", "collect: each struct needs a name and a host (not *)",
                       s.value->position);
        }
        wanted.emplace_back(name, host);
        return ok();
      }
      return error("errUnify", "collect takes a str, a []str, a struct{name str; host str} "
                               "or a list of them, not " + x.type_name(),
                   s.value->position);
    };
    if (v->is_list()) {
      for (const auto& x : v->as_list()) {
        if (auto r = add(x); !r) return fail(r.error());
      }
    } else if (auto r = add(*v); !r) {
      return fail(r.error());
    }
    auto exported = exported_here(s.position);
    if (!exported) return fail(exported.error());
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (const auto& [name, host] : wanted) {
      for (const auto& e : *exported) {
        if (e.kind == s.name && e.name == name && (host.empty() || e.host == host)) {
          out.emplace_back(e.name, e.params);
        }
      }
    }
    return out;
  }

  Result<void> edge(const Stmt& s, const ScopePtr& scope) {
    std::vector<std::vector<std::string>> names;
    for (const auto& end : s.chain) {
      auto n = names_of(end.name, scope);
      if (!n) return fail(n.error());
      names.push_back(*n);
    }
    for (std::size_t i = 0; i + 1 < s.chain.size(); ++i) {
      for (const auto& a : names[i]) {
        for (const auto& b : names[i + 1]) {
          // Kinds are written capitalised in edges (Pkg["x"]); the graph names them as kinds.
          EdgeSpec edge{lower(s.chain[i].kind), a, lower(s.chain[i + 1].kind), b, false, {}, {}};
          if (!s.chain[i].field.empty() || !s.chain[i + 1].field.empty()) {
            if (s.chain[i].field.empty() || s.chain[i + 1].field.empty()) {
              return error("errLexParse", "send/recv names a field on both ends, like "
                                          "Exec[\"e\"].output -> File[\"f\"].content",
                           s.position);
            }
            edge.send = s.chain[i].field;
            edge.recv = s.chain[i + 1].field;
          }
          graph_.edges.push_back(std::move(edge));
          edge_positions_.push_back(s.position);
        }
      }
    }
    return ok();
  }

  Value make_lambda(const std::vector<std::string>& params, const ExprPtr& body,
                    const ScopePtr& scope, const std::string& name, Position p) {
    return Value::func([this, params, body, scope, name, p](const std::vector<Value>& args)
                           -> Result<Value> {
      if (args.size() != params.size()) {
        return error("errUnify", name + " takes " + std::to_string(params.size()) +
                                     " argument(s), got " + std::to_string(args.size()),
                     p);
      }
      // As in the reference, a function graph is a DAG: a function that reaches itself
      // (directly or through others) is refused. One closure is one body in one scope.
      const auto self = std::make_pair(body.get(), scope.get());
      if (active_.count(self)) {
        return error("errSetScope", "recursive reference while setting scope: not a dag: " +
                                        name + " calls itself",
                     p);
      }
      if (++depth_ > 1000) {
        --depth_;
        return error("errStream", name + " recurses too deeply", p);
      }
      active_.insert(self);
      auto child = new_scope();
      child->parent = scope;
      for (std::size_t i = 0; i < params.size(); ++i) {
        child->vars[params[i]] = std::make_shared<Binding>(Binding{nullptr, child, args[i], false});
      }
      auto r = eval(body, child);
      active_.erase(self);
      --depth_;
      return r;
    });
  }

  Result<Value> eval(const ExprPtr& e, const ScopePtr& scope) {
    switch (e->kind) {
      case Expr::Kind::boolean: return Value::of(e->boolean);
      case Expr::Kind::integer: return Value::of(e->integer);
      case Expr::Kind::floating: return Value::of(e->floating);
      case Expr::Kind::string: return Value::of(e->text);
      case Expr::Kind::variable: {
        auto b = scope->find_var(e->text);
        // The reference's magic constants: $const.res.<kind>.<field>.<value> is "<value>".
        if (!b && e->text.rfind("const.res.", 0) == 0 &&
            std::count(e->text.begin(), e->text.end(), '.') == 4) {
          return Value::of(e->text.substr(e->text.rfind('.') + 1));
        }
        // $hostname: this host's name (the agent's --hostname), unless the code binds its own.
        if (!b && e->text == "hostname") return Value::of(hostname());
        if (!b) return error("errSetScope", "variable $" + e->text + " is not defined", e->position);
        if (b->value) return *b->value;
        if (b->evaluating) {
          return error("errSetScope", "$" + e->text + " depends on itself", e->position);
        }
        b->evaluating = true;
        auto v = eval(b->expr, b->scope);
        b->evaluating = false;
        if (!v) return v;
        b->value = *v;
        return *v;
      }
      case Expr::Kind::list: {
        List out;
        for (const auto& item : e->items) {
          auto v = eval(item, scope);
          if (!v) return v;
          // An empty list or map ("[]?") fits any list or map type.
          const std::string have = out.empty() ? "" : out.front().type_name();
          const std::string now = v->type_name();
          if (!out.empty() && have != now && have.find('?') == std::string::npos &&
              now.find('?') == std::string::npos) {
            return error("errUnify", "a list holds one type: " + out.front().type_name() +
                                         " and " + v->type_name() + " differ",
                         item->position);
          }
          out.push_back(*v);
        }
        return Value::list(out);
      }
      case Expr::Kind::map: {
        Map out;
        for (std::size_t i = 0; i + 1 < e->items.size(); i += 2) {
          auto k = eval(e->items[i], scope);
          if (!k) return k;
          auto v = eval(e->items[i + 1], scope);
          if (!v) return v;
          out.emplace_back(*k, *v);
        }
        return Value::map(out);
      }
      case Expr::Kind::structure: {
        Struct out;
        for (std::size_t i = 0; i < e->items.size(); ++i) {
          auto v = eval(e->items[i], scope);
          if (!v) return v;
          out.emplace_back(e->names[i], *v);
        }
        return Value::structure(out);
      }
      case Expr::Kind::lambda: {
        // A lambda value has one type, as in the reference (it is monomorphic, unlike a func
        // statement): the argument types of its first call hold for every later call.
        auto f = make_lambda(e->names, e->items.front(), scope, "func", e->position);
        auto seen = std::make_shared<std::vector<std::string>>();
        const Position at = e->position;
        return Value::func([this, f, seen, at](const std::vector<Value>& args) -> Result<Value> {
          if (seen->empty()) {
            for (const auto& a : args) seen->push_back(a.type_name());
          } else {
            for (std::size_t i = 0; i < args.size() && i < seen->size(); ++i) {
              const std::string now = args[i].type_name();
              const std::string& before = (*seen)[i];
              if (now != before && now.find('?') == std::string::npos &&
                  before.find('?') == std::string::npos) {
                return error("errUnify", "type error: " + now + " != " + before, at);
              }
            }
          }
          return f.as_func()(args);
        });
      }
      case Expr::Kind::if_expr: {
        auto c = eval(e->items[0], scope);
        if (!c) return c;
        if (!c->is_bool()) {
          return error("errUnify", "an if condition must be bool, not " + c->type_name(),
                       e->items[0]->position);
        }
        return eval(c->as_bool() ? e->items[1] : e->items[2], scope);
      }
      case Expr::Kind::call_value: {
        auto f = eval(e->items[0], scope);
        if (!f) return f;
        if (!f->is_func()) {
          const std::string what = e->items[0]->kind == Expr::Kind::variable
                                       ? "$" + e->items[0]->text
                                       : std::string("the called value");
          return error("errUnify", what + " is a " + f->type_name() + ", not a func",
                       e->position);
        }
        std::vector<Value> args;
        for (std::size_t i = 1; i < e->items.size(); ++i) {
          auto v = eval(e->items[i], scope);
          if (!v) return v;
          args.push_back(*v);
        }
        auto r = f->as_func()(args);
        if (!r) return located(r.error(), e->position);
        return r;
      }
      case Expr::Kind::call: return call(*e, scope);
      case Expr::Kind::unary: {
        auto v = eval(e->items[0], scope);
        if (!v) return v;
        if (e->text == "not") {
          if (!v->is_bool()) return error("errUnify", "not needs a bool", e->position);
          return Value::of(!v->as_bool());
        }
        if (v->is_int()) return Value::of(-v->as_int());
        if (v->is_float()) return Value::of(-v->as_float());
        return error("errUnify", "- needs a number, not " + v->type_name(), e->position);
      }
      case Expr::Kind::binary: return binary(*e, scope);
      case Expr::Kind::index: {
        auto c = eval(e->items[0], scope);
        if (!c) return c;
        auto i = eval(e->items[1], scope);
        if (!i) return i;
        if (c->is_list() && i->is_int()) {
          auto n = i->as_int();
          if (n < 0 || n >= static_cast<int64_t>(c->as_list().size())) {
            return error("errStream", "index " + std::to_string(n) + " is out of range",
                         e->position);
          }
          return c->as_list()[static_cast<std::size_t>(n)];
        }
        if (c->is_map()) {
          for (const auto& [k, v] : c->as_map()) {
            if (k == *i) return v;
          }
          return error("errStream", "key " + i->str() + " is not in the map", e->position);
        }
        return error("errUnify", "cannot index a " + c->type_name() + " with a " +
                                     i->type_name(),
                     e->position);
      }
      case Expr::Kind::field: {
        auto s = eval(e->items[0], scope);
        if (!s) return s;
        if (!s->is_struct()) {
          return error("errUnify", "-> needs a struct, not " + s->type_name(), e->position);
        }
        for (const auto& [k, v] : s->as_struct()) {
          if (k == e->text) return v;
        }
        return error("errUnify", "the struct has no field " + e->text, e->position);
      }
    }
    return error("errInterpret", "unknown expression", e->position);
  }

  Result<Value> call(const Expr& e, const ScopePtr& scope) {
    std::vector<Value> args;
    for (const auto& a : e.items) {
      auto v = eval(a, scope);
      if (!v) return v;
      args.push_back(*v);
    }
    if (e.text == "__interpolate") {
      if (!args[0].is_str()) {
        return error("errUnify", "only a str can be interpolated, not " + args[0].type_name(),
                     e.position);
      }
      return args[0];
    }
    if (e.text == "panic") {
      if (args.size() == 1 && ((args[0].is_bool() && args[0].as_bool()) ||
                               (args[0].is_str() && !args[0].as_str().empty()))) {
        return error("errStream", "panic: " + args[0].str(), e.position);
      }
      return Value::of(false);
    }
    ScopePtr owner = scope;
    if (auto def = scope->find_func(e.text, &owner)) {
      if (active_funcs_.count(def.get())) {
        return error("errSetScope", "recursive reference while setting scope: not a dag: "
                                    "func " + e.text + " calls itself",
                     e.position);
      }
      active_funcs_.insert(def.get());
      auto f = make_lambda(def->params, def->value, owner, e.text, e.position);
      auto r = f.as_func()(args);
      active_funcs_.erase(def.get());
      if (!r) return located(r.error(), e.position);
      return r;
    }
    std::string name = e.text;
    if (auto dot = name.find('.'); dot != std::string::npos) {
      auto module = scope->module_of(name.substr(0, dot));
      if (!module) {
        return error("errSetScope", name + ": module " + name.substr(0, dot) +
                                        " is not imported; add `import \"" +
                                        name.substr(0, dot) + "\"`",
                     e.position);
      }
      name = *module + name.substr(dot);
    }
    // The deploy module reads the code's own files: "/" is the directory the code came from.
    if (name == "deploy.abspath" || name == "deploy.readfile" || name == "deploy.readfileabs") {
      if (args.size() != 1 || !args[0].is_str()) {
        return error("errUnify", name + " takes one str", e.position);
      }
      const std::string& given = args[0].as_str();
      const std::string path = name == "deploy.readfileabs" ? given : scope->prefix() + given;
      if (name == "deploy.abspath") return Value::of(path);
      std::ifstream in((dir_.empty() ? std::string(".") : dir_) + "/" + path, std::ios::binary);
      if (!in) return error("errStream", name + ": cannot read " + path + " in the deploy", e.position);
      std::ostringstream text;
      text << in.rdbuf();
      return Value::of(text.str());
    }
    if (name == "os.system") return os_system(args, scope, e.position);
    if (name == "history") return history(args, scope, e.position);
    if (name.rfind("test.", 0) == 0) return test_module(name, args, scope, e.position);
    if (name.rfind("world.", 0) == 0 || name.rfind("world/", 0) == 0 ||
        name.rfind("local.", 0) == 0 ||
        name.rfind("value.", 0) == 0) {
      return agent_module(name, args, e.position);
    }
    // Streams: what was read that may change, for whoever runs the program to watch.
    if (sources_ != nullptr) {
      if (name == "os.readfile" && args.size() == 1 && args[0].is_str()) {
        std::error_code ec;
        auto full = std::filesystem::absolute(args[0].as_str(), ec);
        sources_->files.insert(ec ? args[0].as_str() : full.lexically_normal().string());
      }
      if (name == "os.file_exists" && args.size() == 1 && args[0].is_str()) {
        std::error_code ec;
        auto full = std::filesystem::absolute(args[0].as_str(), ec);
        sources_->files.insert(ec ? args[0].as_str() : full.lexically_normal().string());
      }
      if (name == "datetime.now" || name == "datetime.str_now" || name == "sys.uptime" ||
          name == "datetime.weekday_fast") {
        sources_->clock = true;
      }
    }
    const Func* f = find_builtin(name);
    if (!f) return error("errSetScope", "func " + e.text + " is not defined", e.position);
    auto r = (*f)(args);
    if (!r) return located(r.error(), e.position);
    return r;
  }

  // A send/recv edge: the sender's kind sends that key, the receiver's kind receives that
  // field, their types agree, the sender is not hidden, and no field receives twice.
  Result<void> check_send_recv(const EdgeSpec& e, const std::set<std::string>& hidden,
                               std::set<std::string>& received, Position p) {
    const std::string from = e.from_kind + "[" + e.from_name + "]";
    const std::string to = e.to_kind + "[" + e.to_name + "]";
    const std::string what = "cannot send/recv from " + from + "." + e.send + " to " + to + "." +
                             e.recv + ": ";
    const auto* sender = agent::resources::find_kind(e.from_kind);
    const auto* receiver = agent::resources::find_kind(e.to_kind);
    if (!sender || !receiver) return error("errInterpret", what + "unknown kind", p);
    auto sent = sender->sends.find(e.send);
    if (sent == sender->sends.end()) {
      return error("errUnify", what + "key not found in send struct", p);
    }
    if (!receiver->receives.count(e.recv)) {
      return error("errUnify", what + e.to_kind + " cannot receive its " + e.recv, p);
    }
    const auto* field = receiver->field(e.recv);
    // `any` (the value resource) sends and takes every type; the engine checks the value.
    if (field && field->type != sent->second && field->type != "any" && sent->second != "any") {
      return error("errUnify", what + "type mismatch: " + sent->second + " != " + field->type,
                   p);
    }
    if (hidden.count(from)) {
      return error("errInterpret", "cannot send from hidden resource: " + from, p);
    }
    if (!received.insert(to + "." + e.recv).second) {
      return error("errInterpret", "resource: `" + to + "` has duplicate receive on: `" +
                                       e.recv + "` param",
                   p);
    }
    return ok();
  }

  std::string hostname() const {
    if (runtime_ && !runtime_->hostname.empty()) return runtime_->hostname;
    return machine_hostname();
  }

  // A call site that keeps state across runs: where it is in the code, and which of the
  // calls made there in this run (a loop or a function body calls it more than once).
  std::string site_of(const ScopePtr& scope, Position p) {
    std::string key = scope->prefix() + "@" + std::to_string(p.row) + ":" + std::to_string(p.col);
    return key + "#" + std::to_string(site_calls_[key]++);
  }

  // os.system(cmd): the latest line the shell command printed (see command_lines.h).
  Result<Value> os_system(const std::vector<Value>& args, const ScopePtr& scope, Position p) {
    if (args.size() != 1 || !args[0].is_str()) {
      return error("errUnify", "os.system takes one str, the shell command", p);
    }
    const std::string site = site_of(scope, p);
    if (runtime_ && runtime_->check_only) return Value::of(std::string());
    CommandLines* commands = runtime_ && runtime_->commands ? runtime_->commands.get() : nullptr;
    if (!commands) {
      // Without an agent: the command's first line, and the command is stopped after the run.
      if (!own_commands_) own_commands_ = std::make_unique<CommandLines>();
      commands = own_commands_.get();
    }
    if (sources_) sources_->command_sites.insert(site);
    return Value::of(commands->latest(site, args[0].as_str()));
  }

  // history(value, ms): the value `ms` milliseconds ago (see history_book.h).
  Result<Value> history(const std::vector<Value>& args, const ScopePtr& scope, Position p) {
    if (args.size() != 2 || !args[1].is_int()) {
      return error("errUnify", "history takes a value and an int (milliseconds ago)", p);
    }
    if (args[1].as_int() < 0) {
      return error("errStream", "history: can't use a negative interval of " +
                                    std::to_string(args[1].as_int()),
                   p);
    }
    const std::string site = site_of(scope, p);
    if (!runtime_ || !runtime_->history) return args[0];  // no past yet
    std::optional<HistoryBook::Clock::time_point> due;
    Value v = runtime_->history->remember(site, args[0], std::chrono::milliseconds(args[1].as_int()),
                                          HistoryBook::Clock::now(), &due);
    if (sources_ && due && (!sources_->wake_at || *due < *sources_->wake_at)) {
      sources_->wake_at = due;
    }
    return v;
  }

  // `world` (the cluster store: world.getval, world.kvlookup) and `local` (this host's own
  // state: local.vardir, local.pool), from the running agent (runtime_).
  Result<Value> agent_module(const std::string& name, const std::vector<Value>& args,
                             Position p) {
    // Without an agent (mgmt graph, the check before a deploy) the program sees a fresh
    // cluster and host: nothing in the store, a state directory not made yet, the first
    // number of a pool. Nothing is changed.
    const bool dry = runtime_ == nullptr || !runtime_->get;
    auto one_str = [&]() -> Result<std::string> {
      if (args.size() != 1 || !args[0].is_str()) {
        return error("errUnify", name + " takes one str", p);
      }
      return args[0].as_str();
    };
    if (name == "world.getval") {
      auto key = one_str();
      if (!key) return fail(key.error());
      const std::string full = "/_mgmt/strings/" + *key;
      if (sources_) sources_->store_keys.insert(full);
      if (dry) return Value::structure({{"value", Value::of(std::string())},
                                        {"exists", Value::of(false)}});
      auto got = runtime_->get(full);
      if (!got) return error("errStream", name + ": " + got.error().message(), p);
      return Value::structure({{"value", Value::of(got->value_or(""))},
                               {"exists", Value::of(got->has_value())}});
    }
    if (name == "world.kvlookup") {
      auto ns = one_str();
      if (!ns) return fail(ns.error());
      const std::string prefix = "/_mgmt/strmap/" + *ns + "/";
      if (sources_) sources_->store_prefixes.insert(prefix);
      if (dry) return Value::map({});
      auto got = runtime_->get_prefix(prefix);
      if (!got) return error("errStream", name + ": " + got.error().message(), p);
      Map out;
      for (const auto& [key, value] : *got) {
        out.emplace_back(Value::of(key.substr(prefix.size())), Value::of(value));
      }
      return Value::map(std::move(out));
    }
    if (name == "world.schedule") return world_schedule(args, dry, p);
    if (name == "world/collect.res") {
      if (args.size() != 1 || !args[0].is_str()) {
        return error("errUnify", "collect.res takes one str, the kind", p);
      }
      auto exported = exported_here(p);
      if (!exported) return fail(exported.error());
      std::set<std::pair<std::string, std::string>> found;
      for (const auto& e : *exported) {
        if (e.kind == args[0].as_str()) found.emplace(e.name, e.host);
      }
      List out;
      for (const auto& [n, h] : found) {
        out.push_back(Value::structure({{"name", Value::of(n)}, {"host", Value::of(h)}}));
      }
      return Value::list(std::move(out));
    }
    if (name.rfind("value.get_", 0) == 0) return value_get(name, args, dry, p);
    if (name == "local.vardir") {
      auto rel = one_str();
      if (!rel) return fail(rel.error());
      const std::filesystem::path clean = std::filesystem::path(*rel).lexically_normal();
      if (rel->empty() || clean.is_absolute() || *clean.begin() == "..") {
        return error("errStream", name + ": \"" + *rel + "\" must be a relative path inside "
                                                            "the agent's state",
                     p);
      }
      if (dry) return Value::of("/var/lib/mgmt/lang/local/" + clean.string() + "/");
      const auto dir = std::filesystem::path(runtime_->var_dir) / "local" / clean;
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return error("errStream", name + ": cannot make " + dir.string(), p);
      return Value::of(dir.string() + "/");
    }
    if (name == "local.pool") {
      if (args.size() != 2 || !args[0].is_str() || !args[1].is_str()) {
        return error("errUnify", name + " takes a namespace and a uid, both str", p);
      }
      if (dry) return Value::of(int64_t{1});
      return local_pool(args[0].as_str(), args[1].as_str(), p);
    }
    return error("errSetScope", "func " + name + " is not defined", p);
  }

  // world.schedule(ns): the hosts scheduled in a namespace by schedule resources (see
  // agent/resources/schedule.cpp): requests in the order they were made, the first `max`.
  Result<Value> world_schedule(const std::vector<Value>& args, bool dry, Position p) {
    const std::string name = "world.schedule";
    if (args.size() != 1 || !args[0].is_str()) {
      return error("errUnify", name + " takes one str, the namespace", p);
    }
    const std::string prefix = "/_mgmt/schedule/" + args[0].as_str() + "/";
    if (sources_) sources_->store_prefixes.insert(prefix);
    if (dry || !runtime_->list_prefix) return Value::list({});
    auto got = runtime_->list_prefix(prefix);
    if (!got) return error("errStream", name + ": " + got.error().message(), p);
    struct Request {
      int64_t since;
      std::string host;
      int64_t max;
    };
    std::vector<Request> requests;
    for (const auto& [key, entry] : *got) {
      auto request = nlohmann::json::parse(entry.first, nullptr, false);
      int64_t max = 1;
      if (request.is_object() && request.contains("max") && request["max"].is_number_integer()) {
        max = request["max"].get<int64_t>();
      }
      requests.push_back({entry.second, key.substr(prefix.size()), max});
    }
    std::sort(requests.begin(), requests.end(), [](const Request& a, const Request& b) {
      return std::tie(a.since, a.host) < std::tie(b.since, b.host);
    });
    List hosts;
    const int64_t max = requests.empty() ? 0 : requests.front().max;
    for (const auto& r : requests) {
      if (static_cast<int64_t>(hosts.size()) >= max) break;
      hosts.push_back(Value::of(r.host));
    }
    return Value::list(std::move(hosts));
  }

  // value.get_str/get_int/get_bool/get_float(name): struct{value T; ready bool}, what the
  // value resource of that name keeps on this host; not ready (and the zero value) before it
  // has run, or when it keeps another type.
  Result<Value> value_get(const std::string& name, const std::vector<Value>& args, bool dry,
                          Position p) {
    if (args.size() != 1 || !args[0].is_str()) {
      return error("errUnify", name + " takes one str, the value resource's name", p);
    }
    const std::string type = name.substr(std::string("value.get_").size());
    Value zero;
    if (type == "str") {
      zero = Value::of(std::string());
    } else if (type == "int") {
      zero = Value::of(int64_t{0});
    } else if (type == "bool") {
      zero = Value::of(false);
    } else if (type == "float") {
      zero = Value::of(0.0);
    } else {
      return error("errSetScope", "func " + name + " is not defined", p);
    }
    auto not_ready = Value::structure({{"value", zero}, {"ready", Value::of(false)}});
    if (dry || runtime_->value_dir.empty()) return not_ready;
    if (sources_) {
      sources_->files.insert(agent::resources::value_path(runtime_->value_dir, args[0].as_str()));
    }
    auto kept = agent::resources::read_value(runtime_->value_dir, args[0].as_str());
    if (!kept) return error("errStream", name + ": " + kept.error().message(), p);
    if (!*kept) return not_ready;
    const nlohmann::json& v = **kept;
    Value got;
    if (type == "str" && v.is_string()) {
      got = Value::of(v.get<std::string>());
    } else if (type == "int" && v.is_number_integer()) {
      got = Value::of(v.get<int64_t>());
    } else if (type == "bool" && v.is_boolean()) {
      got = Value::of(v.get<bool>());
    } else if (type == "float" && v.is_number()) {
      got = Value::of(v.get<double>());
    } else {
      return not_ready;
    }
    return Value::structure({{"value", got}, {"ready", Value::of(true)}});
  }

  // local.pool: a small number per uid in a namespace (1, 2, ...), the same every time for
  // the same uid, kept in the agent's state (var_dir/local-pool/NAMESPACE.json).
  Result<Value> local_pool(const std::string& ns, const std::string& uid, Position p) {
    const std::string name = "local.pool";
    if (ns.empty() || ns.find('/') != std::string::npos || ns.find("..") != std::string::npos) {
      return error("errStream", name + ": the namespace must be a plain name", p);
    }
    const auto dir = std::filesystem::path(runtime_->var_dir) / "local-pool";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    const auto file = dir / (ns + ".json");
    nlohmann::json pool = nlohmann::json::object();
    if (std::ifstream in(file); in) {
      pool = nlohmann::json::parse(in, nullptr, false);
      if (pool.is_discarded() || !pool.is_object()) {
        return error("errStream", name + ": " + file.string() + " is damaged; move it away",
                     p);
      }
    }
    if (pool.contains(uid)) return Value::of(pool[uid].get<int64_t>());
    int64_t next = 1;
    std::set<int64_t> used;
    for (const auto& [k, v] : pool.items()) used.insert(v.get<int64_t>());
    while (used.count(next)) ++next;
    pool[uid] = next;
    const auto tmp = file.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << json_text(pool, 1) << "\n";
      if (!out) return error("errStream", name + ": cannot write " + tmp, p);
    }
    std::filesystem::rename(tmp, file, ec);
    if (ec) return error("errStream", name + ": cannot replace " + file.string(), p);
    return Value::of(next);
  }

  // The reference's `test` module, which its corpus uses to check the function engine: each
  // one_instance_* function may be set up once per program (a bind or an argument used twice
  // shares one instance; we evaluate each once), one_stream takes one input.
  Result<Value> test_module(const std::string& name, const std::vector<Value>& args,
                            const ScopePtr& scope, Position p) {
    const std::string fn = name.substr(5);
    // A string, five seconds later (to show that `<|>` runs its right side only when needed).
    if (fn == "slow_string") {
      if (!args.empty()) return error("errUnify", name + " takes no arguments", p);
      std::this_thread::sleep_for(std::chrono::seconds(5));
      return Value::of(std::string("five seconds has elapsed"));
    }
    // A count that goes up as fast as the program can run again (0 without an agent).
    if (fn == "fastcount") {
      if (!args.empty()) return error("errUnify", name + " takes no arguments", p);
      const std::string site = site_of(scope, p);
      if (!runtime_ || !runtime_->history) return Value::of(int64_t{0});
      if (sources_) sources_->wake_at = HistoryBook::Clock::now();
      return Value::of(runtime_->history->next_count(site));
    }
    if (fn.rfind("one_instance_", 0) == 0 && fn.size() == 14 && fn[13] >= 'a' &&
        fn[13] <= 'h') {
      if (!args.empty()) return error("errUnify", name + " takes no arguments", p);
      if (++test_instances_[fn] > 1) {
        return error("errStream", name + " was set up twice; one instance was expected", p);
      }
      return Value::of(std::string("hello"));
    }
    if (fn == "one_stream") {
      if (args.size() != 1 || !args[0].is_int() || args[0].as_int() < 0) {
        return error("errUnify", name + " takes one int of at least 0", p);
      }
      if (++test_instances_[fn] > 1) {
        return error("errStream", name + ": only a single input is allowed", p);
      }
      return Value::of(std::string(static_cast<std::size_t>(args[0].as_int()), 'x'));
    }
    if (fn == "forkvloop") {
      if (!args.empty()) return error("errUnify", name + " takes no arguments", p);
      return Value::map({{Value::of(std::string("foo")), Value::of(std::string("bar"))}});
    }
    return error("errSetScope", "func " + name + " is not defined", p);
  }

  Result<Value> binary(const Expr& e, const ScopePtr& scope) {
    const std::string& op = e.text;
    auto a = eval(e.items[0], scope);
    if (op == "<|>") {
      // The left side, unless it failed while running (an index or key that is not there),
      // or it looks up a field its struct does not have (a default for a missing field).
      if (a) return a;
      const std::string& why = a.error().message();
      const bool missing_field = e.items[0]->kind == Expr::Kind::field &&
                                 why.find("has no field") != std::string::npos;
      if (why.rfind("errStream", 0) != 0 && !missing_field) return a;
      return eval(e.items[1], scope);
    }
    if (!a) return a;
    if (op == "and" || op == "or") {
      if (!a->is_bool()) return error("errUnify", op + " needs bools", e.position);
      auto b = eval(e.items[1], scope);
      if (!b) return b;
      if (!b->is_bool()) return error("errUnify", op + " needs bools", e.position);
      return Value::of(op == "and" ? a->as_bool() && b->as_bool() : a->as_bool() || b->as_bool());
    }
    auto b = eval(e.items[1], scope);
    if (!b) return b;
    if (op == "in") {
      if (b->is_list()) {
        for (const auto& v : b->as_list()) {
          if (v == *a) return Value::of(true);
        }
        return Value::of(false);
      }
      if (b->is_map()) {
        for (const auto& [k, v] : b->as_map()) {
          if (k == *a) return Value::of(true);
        }
        return Value::of(false);
      }
      if (b->is_str() && a->is_str()) {
        return Value::of(b->as_str().find(a->as_str()) != std::string::npos);
      }
      return error("errUnify", "in needs a list, map or str on the right", e.position);
    }
    if (a->type_name() != b->type_name()) {
      return error("errUnify", "cannot " + op + " a " + a->type_name() + " and a " +
                                   b->type_name(),
                   e.position);
    }
    if (op == "==") return Value::of(*a == *b);
    if (op == "!=") return Value::of(!(*a == *b));
    if (op == "+" && a->is_str()) return Value::of(a->as_str() + b->as_str());
    if (op == "+" && a->is_list()) {
      List l = a->as_list();
      l.insert(l.end(), b->as_list().begin(), b->as_list().end());
      return Value::list(l);
    }
    if (a->is_int()) {
      int64_t x = a->as_int(), y = b->as_int();
      if (op == "+") return Value::of(x + y);
      if (op == "-") return Value::of(x - y);
      if (op == "*") return Value::of(x * y);
      if (op == "/") {
        if (y == 0) return error("errStream", "division by zero", e.position);
        return Value::of(x / y);
      }
      if (op == "<") return Value::of(x < y);
      if (op == ">") return Value::of(x > y);
      if (op == "<=") return Value::of(x <= y);
      if (op == ">=") return Value::of(x >= y);
    }
    if (a->is_float()) {
      double x = a->as_float(), y = b->as_float();
      if (op == "+") return Value::of(x + y);
      if (op == "-") return Value::of(x - y);
      if (op == "*") return Value::of(x * y);
      if (op == "/") return Value::of(x / y);
      if (op == "<") return Value::of(x < y);
      if (op == ">") return Value::of(x > y);
      if (op == "<=") return Value::of(x <= y);
      if (op == ">=") return Value::of(x >= y);
    }
    if (a->is_str() && (op == "<" || op == ">" || op == "<=" || op == ">=")) {
      int c = a->as_str().compare(b->as_str());
      return Value::of(op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0);
    }
    return error("errUnify", "cannot " + op + " a " + a->type_name(), e.position);
  }

  std::string file_;
  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  }

  ScopePtr new_scope() {
    scopes_.push_back(std::make_shared<Scope>());
    return scopes_.back();
  }

  std::string dir_;
  StreamSources* sources_ = nullptr;  // not owned; may be null
  const LangRuntime* runtime_ = nullptr;  // not owned; null outside an agent
  std::vector<ScopePtr> scopes_;      // every scope made, emptied by the destructor
  std::vector<Position> edge_positions_;  // of graph_.edges, one each
  std::set<std::pair<const Expr*, const Scope*>> active_;  // closures running now
  std::set<const Stmt*> including_;                         // classes being included now
  std::set<const Stmt*> active_funcs_;                      // named funcs running now
  std::map<std::string, int> test_instances_;               // the test module's set-ups
  GraphSpec graph_;
  std::map<std::string, std::size_t> seen_;  // resource id -> index in graph_.resources
  int depth_ = 0;
  std::map<std::string, int> site_calls_;        // calls per code position in this run
  std::unique_ptr<CommandLines> own_commands_;   // os.system without an agent
};

}  // namespace

Result<GraphSpec> interpret(const std::vector<StmtPtr>& program, const std::string& file,
                            const std::string& dir, StreamSources* sources,
                            const LangRuntime* runtime) {
  Interpreter interpreter(file, dir, sources, runtime);
  return interpreter.run(program);
}

}  // namespace mgmt::frontends::lang
