// go_template.cpp: see go_template.h. The template is parsed into a tree of nodes once, then
// run against the data; variables live in a stack of scopes as Go's do.
#include "frontends/lang/go_template.h"

#include "frontends/lang/builtins.h"

#include <cctype>
#include <map>
#include <memory>
#include <vector>

namespace mgmt::frontends::lang {
namespace {

auto bad(const std::string& what) {
  return fail(Code::invalid_argument, "errStream: golang.template: " + what);
}

struct Node {
  enum class Kind { text, action, range, if_block } kind = Kind::text;
  std::string text;                   // text, or the action's pipeline source
  std::string key_var, value_var;     // range $k, $v := ...
  std::vector<Node> body, otherwise;  // range/if: body; if: else branch
};

// Splits "{{ ... }}" actions from text and builds the tree.
class TreeBuilder {
 public:
  explicit TreeBuilder(const std::string& t) : t_(t) {}

  Result<std::vector<Node>> build() {
    std::string stop;
    auto nodes = block(&stop);
    if (!nodes) return nodes;
    if (!stop.empty()) return bad("{{" + stop + "}} without a range or if");
    return nodes;
  }

 private:
  // Nodes until {{ end }} or {{ else }} (returned in *stop) or the end of the text.
  Result<std::vector<Node>> block(std::string* stop) {
    std::vector<Node> out;
    while (at_ < t_.size()) {
      const auto open = t_.find("{{", at_);
      if (open == std::string::npos) {
        out.push_back(Node{Node::Kind::text, t_.substr(at_), {}, {}, {}, {}});
        at_ = t_.size();
        break;
      }
      if (open > at_) {
        out.push_back(Node{Node::Kind::text, t_.substr(at_, open - at_), {}, {}, {}, {}});
      }
      const auto close = t_.find("}}", open);
      if (close == std::string::npos) return bad("an unclosed {{");
      std::string action = trim(t_.substr(open + 2, close - open - 2));
      at_ = close + 2;
      if (action == "end" || action == "else") {
        *stop = action;
        return out;
      }
      if (action.rfind("range ", 0) == 0 || action.rfind("if ", 0) == 0) {
        const bool is_range = action[0] == 'r';
        Node n;
        n.kind = is_range ? Node::Kind::range : Node::Kind::if_block;
        n.text = trim(action.substr(is_range ? 6 : 3));
        if (is_range) {
          if (auto assign = n.text.find(":="); assign != std::string::npos) {
            std::string vars = n.text.substr(0, assign);
            n.text = trim(n.text.substr(assign + 2));
            const auto comma = vars.find(',');
            if (comma == std::string::npos) {
              n.value_var = trim(vars);
            } else {
              n.key_var = trim(vars.substr(0, comma));
              n.value_var = trim(vars.substr(comma + 1));
            }
          }
        }
        std::string inner;
        auto body = block(&inner);
        if (!body) return body;
        n.body = std::move(*body);
        if (inner == "else") {
          auto other = block(&inner);
          if (!other) return other;
          n.otherwise = std::move(*other);
        }
        if (inner != "end") return bad("{{" + action + "}} has no {{end}}");
        out.push_back(std::move(n));
        continue;
      }
      out.push_back(Node{Node::Kind::action, action, {}, {}, {}, {}});
    }
    return out;
  }

  static std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\n-");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\n-") - b + 1);
  }

  const std::string& t_;
  std::size_t at_ = 0;
};

bool truthy(const Value& v) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int() != 0;
  if (v.is_float()) return v.as_float() != 0;
  if (v.is_str()) return !v.as_str().empty();
  if (v.is_list()) return !v.as_list().empty();
  if (v.is_map()) return !v.as_map().empty();
  return true;
}

// The mcl function a template calls by the reference's name: "golang_strings_join" is
// "golang/strings.join", "datetime_print" is "datetime.print".
const Func* template_function(const std::string& name) {
  static const std::vector<std::string> modules = {"golang/strings", "strings", "datetime",
                                                   "net", "fmt", "math", "convert", "encoding",
                                                   "sys", "os", "iter"};
  for (const auto& m : modules) {
    std::string prefix = m;
    for (char& c : prefix) {
      if (c == '/') c = '_';
    }
    if (name.rfind(prefix + "_", 0) != 0) continue;
    if (const Func* f = find_builtin(m + "." + name.substr(prefix.size() + 1))) return f;
  }
  return nullptr;
}

class Runner {
 public:
  Result<std::string> run(const std::vector<Node>& nodes, const Value& dot) {
    std::string out;
    for (const auto& n : nodes) {
      switch (n.kind) {
        case Node::Kind::text: out += n.text; break;
        case Node::Kind::action: {
          auto v = pipeline(n.text, dot);
          if (!v) return fail(v.error());
          out += v->str();
          break;
        }
        case Node::Kind::if_block: {
          auto v = pipeline(n.text, dot);
          if (!v) return fail(v.error());
          auto part = run(truthy(*v) ? n.body : n.otherwise, dot);
          if (!part) return part;
          out += *part;
          break;
        }
        case Node::Kind::range: {
          auto v = pipeline(n.text, dot);
          if (!v) return fail(v.error());
          std::vector<std::pair<Value, Value>> items;
          if (v->is_list()) {
            for (std::size_t i = 0; i < v->as_list().size(); ++i) {
              items.emplace_back(Value::of(static_cast<int64_t>(i)), v->as_list()[i]);
            }
          } else if (v->is_map()) {
            items.assign(v->as_map().begin(), v->as_map().end());
          } else {
            return bad("range needs a list or a map, not " + v->type_name());
          }
          if (items.empty()) {
            auto part = run(n.otherwise, dot);
            if (!part) return part;
            out += *part;
          }
          for (const auto& [k, item] : items) {
            vars_.emplace_back();
            if (!n.key_var.empty()) vars_.back()[n.key_var] = k;
            if (!n.value_var.empty()) vars_.back()[n.value_var] = item;
            auto part = run(n.body, item);
            vars_.pop_back();
            if (!part) return part;
            out += *part;
          }
          break;
        }
      }
    }
    return out;
  }

 private:
  // A pipeline is one command here: a term, or a function and its argument terms.
  Result<Value> pipeline(const std::string& src, const Value& dot) {
    std::vector<std::string> words;
    if (auto split = words_of(src, &words); !split) return fail(split.error());
    if (words.empty()) return bad("an empty action");
    const std::string& head = words[0];
    const bool call = std::isalpha(static_cast<unsigned char>(head[0])) && head != "true" &&
                      head != "false";
    if (!call) {
      if (words.size() != 1) return bad("\"" + src + "\" is not one value");
      return term(head, dot);
    }
    std::vector<Value> args;
    for (std::size_t i = 1; i < words.size(); ++i) {
      auto v = term(words[i], dot);
      if (!v) return v;
      args.push_back(*v);
    }
    if (head == "index") return index(args);
    if (head == "len") {
      if (args.size() != 1) return bad("len takes one value");
      const Value& v = args[0];
      if (v.is_str()) return Value::of(static_cast<int64_t>(v.as_str().size()));
      if (v.is_list()) return Value::of(static_cast<int64_t>(v.as_list().size()));
      if (v.is_map()) return Value::of(static_cast<int64_t>(v.as_map().size()));
      return bad("len of " + v.type_name());
    }
    const Func* f = template_function(head);
    if (f == nullptr) return bad("function \"" + head + "\" not defined");
    return (*f)(args);
  }

  static Result<void> words_of(const std::string& s, std::vector<std::string>* out) {
    std::size_t i = 0;
    while (i < s.size()) {
      if (std::isspace(static_cast<unsigned char>(s[i]))) {
        ++i;
        continue;
      }
      std::size_t start = i;
      if (s[i] == '"') {
        for (++i; i < s.size() && s[i] != '"'; ++i) {
          if (s[i] == '\\') ++i;
        }
        if (i >= s.size()) return bad("an unclosed string in \"" + s + "\"");
        ++i;
      } else if (s[i] == '(') {
        int depth = 0;
        for (; i < s.size(); ++i) {
          if (s[i] == '(') ++depth;
          if (s[i] == ')' && --depth == 0) break;
        }
        if (i >= s.size()) return bad("an unclosed ( in \"" + s + "\"");
        ++i;
      }
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      out->push_back(s.substr(start, i - start));
    }
    return ok();
  }

  Result<Value> term(const std::string& w, const Value& dot) {
    if (w == ".") return dot;
    if (w[0] == '"') {
      std::string s;
      for (std::size_t i = 1; i + 1 < w.size(); ++i) {
        if (w[i] == '\\' && i + 2 < w.size()) ++i;
        s += w[i];
      }
      return Value::of(s);
    }
    if (std::isdigit(static_cast<unsigned char>(w[0])) || w[0] == '-') {
      try {
        if (w.find('.') != std::string::npos) return Value::of(std::stod(w));
        return Value::of(static_cast<int64_t>(std::stoll(w)));
      } catch (const std::exception&) {
        return bad("\"" + w + "\" is not a number");
      }
    }
    if (w == "true" || w == "false") return Value::of(w == "true");
    Value base = dot;
    std::string rest = w;
    if (w[0] == '(') {
      const auto close = w.rfind(')');
      auto v = pipeline(w.substr(1, close - 1), dot);
      if (!v) return v;
      base = *v;
      rest = w.substr(close + 1);
    } else if (w[0] == '$') {
      const auto dotted = w.find('.');
      const std::string name = w.substr(0, dotted);
      auto v = variable(name);
      if (!v) return bad("undefined variable " + name);
      base = *v;
      rest = dotted == std::string::npos ? "" : w.substr(dotted);
    }
    // .A.B: fields (structs, written capitalised) or keys (maps of str).
    std::size_t i = 0;
    while (i < rest.size()) {
      if (rest[i] != '.') return bad("cannot read \"" + w + "\"");
      const auto next = rest.find('.', i + 1);
      const std::string field = rest.substr(i + 1, next == std::string::npos ? std::string::npos
                                                                             : next - i - 1);
      auto v = member(base, field);
      if (!v) return v;
      base = *v;
      i = next == std::string::npos ? rest.size() : next;
    }
    return base;
  }

  static Result<Value> member(const Value& v, const std::string& field) {
    if (v.is_struct()) {
      for (const auto& [k, x] : v.as_struct()) {
        if (k == field || (!k.empty() && !field.empty() &&
                           std::tolower(static_cast<unsigned char>(field[0])) == k[0] &&
                           k.substr(1) == field.substr(1))) {
          return x;
        }
      }
      return bad("can't evaluate field " + field + " in " + v.type_name());
    }
    if (v.is_map()) {
      for (const auto& [k, x] : v.as_map()) {
        if (k.is_str() && k.as_str() == field) return x;
      }
      return bad("map has no entry for key \"" + field + "\"");
    }
    return bad("can't evaluate field " + field + " in " + v.type_name());
  }

  static Result<Value> index(const std::vector<Value>& args) {
    if (args.empty()) return bad("index needs a value");
    Value v = args[0];
    for (std::size_t i = 1; i < args.size(); ++i) {
      bool found = false;
      if (v.is_list() && args[i].is_int()) {
        const auto at = args[i].as_int();
        if (at < 0 || static_cast<std::size_t>(at) >= v.as_list().size()) {
          return bad("index " + std::to_string(at) + " out of range");
        }
        v = v.as_list()[static_cast<std::size_t>(at)];
        found = true;
      } else if (v.is_map()) {
        for (const auto& [k, x] : v.as_map()) {
          if (k == args[i]) {
            v = x;
            found = true;
            break;
          }
        }
      }
      if (!found) return bad("index of " + args[i].str() + " in " + v.type_name());
    }
    return v;
  }

  std::optional<Value> variable(const std::string& name) const {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (auto v = it->find(name); v != it->end()) return v->second;
    }
    return std::nullopt;
  }

  std::vector<std::map<std::string, Value>> vars_;
};

}  // namespace

Result<Value> run_go_template(const std::string& text, const Value& data) {
  auto tree = TreeBuilder(text).build();
  if (!tree) return fail(tree.error());
  Runner runner;
  auto out = runner.run(*tree, data);
  if (!out) return fail(out.error());
  return Value::of(*out);
}

}  // namespace mgmt::frontends::lang
