// parser.cpp: a recursive-descent parser with precedence climbing; see parser.h.
#include "frontends/lang/parser.h"

#include <set>
#include <utility>

namespace mgmt::frontends::lang {
namespace {

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string file)
      : tokens_(std::move(tokens)), file_(std::move(file)) {}

  Result<std::vector<StmtPtr>> program() {
    std::vector<StmtPtr> out;
    if (!statements(out, /*until_brace=*/false)) return fail(*error_);
    return out;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(at_ + ahead, tokens_.size() - 1)];
  }
  const Token& take() { return tokens_[std::min(at_++, tokens_.size() - 1)]; }
  bool is(const std::string& symbol) const {
    return (peek().kind == TokenKind::symbol || peek().kind == TokenKind::keyword) &&
           peek().text == symbol;
  }
  bool accept(const std::string& symbol) {
    if (!is(symbol)) return false;
    take();
    return true;
  }
  void skip_newlines() {
    while (peek().kind == TokenKind::newline) take();
  }
  bool fail_at(const Token& t, const std::string& what, const std::string& cls = "errLexParse") {
    if (!error_) {
      error_ = Error(Code::invalid_argument, cls + ": " + what + " (" + file_ + " @ " +
                                                 std::to_string(t.position.row) + ":" +
                                                 std::to_string(t.position.col) + ")");
    }
    return false;
  }
  std::string describe(const Token& t) const {
    if (t.kind == TokenKind::end) return "the end of the file";
    if (t.kind == TokenKind::newline) return "a new line";
    return "\"" + t.text + "\"";
  }
  bool expect(const std::string& symbol) {
    if (accept(symbol)) return true;
    return fail_at(peek(), "expected \"" + symbol + "\", found " + describe(peek()));
  }

  bool statements(std::vector<StmtPtr>& out, bool until_brace) {
    for (;;) {
      skip_newlines();
      if (until_brace && is("}")) return true;
      if (peek().kind == TokenKind::end) {
        return until_brace ? fail_at(peek(), "expected \"}\", found the end of the file") : true;
      }
      auto s = statement();
      if (!s) return false;
      out.push_back(s);
      if (!(peek().kind == TokenKind::newline || peek().kind == TokenKind::end ||
            (until_brace && is("}")))) {
        return fail_at(peek(), "expected a new line after a statement, found " +
                                   describe(peek()));
      }
    }
  }

  StmtPtr statement() {
    auto s = std::make_shared<Stmt>();
    const Token& first = peek();
    s->position = first.position;
    if (first.kind == TokenKind::keyword && first.text == "import") {
      take();
      if (peek().kind != TokenKind::string) return fail_at(peek(), "import needs a string"), nullptr;
      s->kind = Stmt::Kind::import;
      s->name = take().text;
      if (accept("as")) {
        if (peek().kind != TokenKind::identifier && !is("*")) {
          return fail_at(peek(), "expected a name after \"as\""), nullptr;
        }
        s->alias = take().text;
      }
      return s;
    }
    if (first.kind == TokenKind::variable) {
      take();
      s->kind = Stmt::Kind::bind;
      s->name = first.text;
      if (peek().kind == TokenKind::identifier || is("[") || is("map") || is("struct") ||
          is("func")) {
        if (!skip_type()) return nullptr;
      }
      if (!expect("=")) return nullptr;
      s->value = expression();
      return s->value ? s : nullptr;
    }
    if (first.kind == TokenKind::keyword && first.text == "if") {
      take();
      s->kind = Stmt::Kind::if_stmt;
      s->value = expression();
      if (!s->value || !expect("{") || !statements(s->body, true) || !expect("}")) return nullptr;
      if (accept("else")) {
        if (is("if")) {
          auto nested = statement();
          if (!nested) return nullptr;
          s->otherwise.push_back(nested);
        } else if (!expect("{") || !statements(s->otherwise, true) || !expect("}")) {
          return nullptr;
        }
      }
      return s;
    }
    if (first.kind == TokenKind::keyword && first.text == "func") {
      take();
      if (peek().kind != TokenKind::identifier) {
        return fail_at(peek(), "expected a function name after \"func\""), nullptr;
      }
      s->kind = Stmt::Kind::func_def;
      s->name = take().text;
      if (!params(s->params)) return nullptr;
      if (!is("{") && !skip_type()) return nullptr;
      if (!expect("{")) return nullptr;
      skip_newlines();
      s->value = expression();
      skip_newlines();
      if (!s->value || !expect("}")) return nullptr;
      return s;
    }
    if (first.kind == TokenKind::keyword && first.text == "class") {
      take();
      if (peek().kind != TokenKind::identifier) {
        return fail_at(peek(), "expected a class name after \"class\""), nullptr;
      }
      s->kind = Stmt::Kind::class_def;
      s->name = take().text;
      // `class base:inner` is sugar for class inner defined inside class base.
      while (is(":") && peek(1).kind == TokenKind::identifier) {
        take();
        s->name += ":" + take().text;
      }
      if (is("(") && !params(s->params)) return nullptr;
      if (!expect("{") || !statements(s->body, true) || !expect("}")) return nullptr;
      return s;
    }
    if (first.kind == TokenKind::keyword && first.text == "include") {
      take();
      if (peek().kind != TokenKind::identifier) {
        return fail_at(peek(), "expected a class name after \"include\""), nullptr;
      }
      s->kind = Stmt::Kind::include;
      s->name = take().text;
      if (accept("(")) {
        skip_newlines();
        while (!is(")")) {
          auto a = expression();
          if (!a) return nullptr;
          s->args.push_back(a);
          skip_newlines();
          if (!accept(",")) break;
          skip_newlines();
        }
        if (!expect(")")) return nullptr;
      }
      if (accept("as")) s->alias = take().text;
      return s;
    }
    if (first.kind == TokenKind::keyword && (first.text == "for" || first.text == "forkv")) {
      take();
      s->kind = first.text == "for" ? Stmt::Kind::for_loop : Stmt::Kind::forkv_loop;
      for (int i = 0; i < 2; ++i) {
        if (peek().kind != TokenKind::variable) {
          return fail_at(peek(), "expected a loop variable like $x, found " + describe(peek())),
                 nullptr;
        }
        s->params.push_back(take().text);
        if (i == 0 && !expect(",")) return nullptr;
      }
      if (!expect("in")) return nullptr;
      s->value = expression();
      if (!s->value || !expect("{") || !statements(s->body, true) || !expect("}")) return nullptr;
      return s;
    }
    if (first.kind == TokenKind::keyword && first.text == "panic") {
      take();
      s->kind = Stmt::Kind::panic;
      if (!expect("(")) return nullptr;
      s->value = expression();
      if (!s->value || !expect(")")) return nullptr;
      return s;
    }
    if (first.kind == TokenKind::identifier) {
      if (is_kind_ref(at_) && is_edge()) return edge(s);
      return resource(s);
    }
    // `collect KIND NAMES { fields }`: resources other hosts exported to this one.
    if (first.kind == TokenKind::keyword && first.text == "collect") {
      take();
      if (peek().kind != TokenKind::identifier) {
        return fail_at(peek(), "expected a resource kind after collect, found " +
                                   describe(peek())),
               nullptr;
      }
      s->collect = true;
      return resource(s);
    }
    fail_at(first, "expected a statement, found " + describe(first));
    return nullptr;
  }

  // `kind[...]` starts an edge when the matching ']' is followed by '->' or '.', and a
  // resource with a computed name (`test ["a", "b"] {}`) when it is followed by '{'.
  // How many tokens a resource kind takes from `k`: Kind, or Kind:Part:Part (http:server).
  std::size_t kind_length(std::size_t k) const {
    std::size_t n = 1;
    while (k + n + 1 < tokens_.size() && tokens_[k + n].kind == TokenKind::symbol &&
           tokens_[k + n].text == ":" && tokens_[k + n + 1].kind == TokenKind::identifier) {
      n += 2;
    }
    return n;
  }
  // Whether a kind followed by "[" starts at `k` (an edge end, `Kind["name"]`).
  bool is_kind_ref(std::size_t k) const {
    if (k >= tokens_.size() || tokens_[k].kind != TokenKind::identifier) return false;
    const std::size_t after = k + kind_length(k);
    return after < tokens_.size() && tokens_[after].kind == TokenKind::symbol &&
           tokens_[after].text == "[";
  }
  std::string take_kind() {
    std::string kind = take().text;
    while (is(":") && peek(1).kind == TokenKind::identifier) {
      take();
      kind += ":" + take().text;
    }
    return kind;
  }

  bool is_edge() const {
    int depth = 0;
    for (std::size_t k = at_ + 1; k < tokens_.size(); ++k) {
      const Token& t = tokens_[k];
      if (t.kind == TokenKind::end) return false;
      if (t.kind == TokenKind::symbol && (t.text == "[" || t.text == "(" || t.text == "{")) ++depth;
      if (t.kind == TokenKind::symbol && (t.text == "]" || t.text == ")" || t.text == "}")) {
        if (--depth == 0) {
          const Token& next = tokens_[std::min(k + 1, tokens_.size() - 1)];
          return next.kind == TokenKind::symbol && (next.text == "->" || next.text == ".");
        }
      }
    }
    return false;
  }

  // Types are checked at run time by this frontend; their syntax is skipped here, but for
  // what the reference refuses while parsing: a struct type naming a field twice.
  bool skip_type() {
    int depth = 0;
    std::vector<std::pair<int, std::set<std::string>>> structs;  // open struct{: depth, fields
    while (peek().kind != TokenKind::end) {
      if (depth == 0 && (is("=") || is(",") || is(")") || is("{"))) {
        // `map{`/`struct{` open a type, not a body.
        if (is("{") && at_ > 0 &&
            (tokens_[at_ - 1].text == "map" || tokens_[at_ - 1].text == "struct")) {
        } else {
          return true;
        }
      }
      if (is("{") && at_ > 0 && tokens_[at_ - 1].text == "struct") {
        structs.emplace_back(depth + 1, std::set<std::string>());
      } else if (peek().kind == TokenKind::identifier && !structs.empty() &&
                 structs.back().first == depth && at_ > 0 &&
                 (tokens_[at_ - 1].text == "{" || tokens_[at_ - 1].text == ";")) {
        if (!structs.back().second.insert(peek().text).second) {
          return fail_at(peek(), "duplicate struct field " + peek().text + " in a struct type");
        }
      }
      if (is("{") || is("(") || is("[")) ++depth;
      if (is("}") || is(")") || is("]")) {
        if (!structs.empty() && structs.back().first == depth) structs.pop_back();
        --depth;
      }
      take();
    }
    return true;
  }

  bool params(std::vector<std::string>& out) {
    if (!expect("(")) return false;
    skip_newlines();
    while (!is(")")) {
      if (peek().kind != TokenKind::variable) {
        return fail_at(peek(), "expected a parameter like $name, found " + describe(peek()));
      }
      if (peek().text == "in") {
        return fail_at(peek(), "\"in\" is a keyword; a parameter cannot be called $in");
      }
      out.push_back(take().text);
      if (!is(",") && !is(")") && !skip_type()) return false;
      skip_newlines();
      if (!accept(",")) break;
      skip_newlines();
    }
    return expect(")");
  }

  StmtPtr edge(std::shared_ptr<Stmt> s) {
    s->kind = Stmt::Kind::edge;
    for (;;) {
      EdgeEnd end;
      end.position = peek().position;
      if (peek().kind != TokenKind::identifier) {
        return fail_at(peek(), "expected a resource kind in an edge"), nullptr;
      }
      end.kind = take_kind();
      if (!expect("[")) return nullptr;
      end.name = expression();
      if (!end.name || !expect("]")) return nullptr;
      if (accept(".")) {  // send/recv: Kind["name"].field
        if (peek().kind != TokenKind::identifier && peek().kind != TokenKind::keyword) {
          return fail_at(peek(), "expected a field name after \".\""), nullptr;
        }
        end.field = take().text;
      }
      s->chain.push_back(end);
      if (!accept("->")) break;
      skip_newlines();
    }
    if (s->chain.size() < 2) return fail_at(peek(), "an edge needs \"->\" and a second resource"), nullptr;
    return s;
  }

  StmtPtr resource(std::shared_ptr<Stmt> s) {
    s->kind = Stmt::Kind::resource;
    s->name = take_kind();  // some kinds have parts joined by ':' (http:server:flag)
    s->value = expression();
    if (!s->value || !expect("{")) return nullptr;
    skip_newlines();
    while (!is("}")) {
      Field f;
      f.position = peek().position;
      if (peek().kind != TokenKind::identifier && peek().kind != TokenKind::keyword) {
        return fail_at(peek(), "expected a field name, found " + describe(peek())), nullptr;
      }
      f.name = take().text;
      if (accept(":")) f.name += ":" + take().text;  // Meta:noop
      if (!expect("=>")) return nullptr;
      // Edge properties: Depend, Before, Notify, Listen => Kind[name]
      if (f.name == "Depend" || f.name == "Before" || f.name == "Notify" ||
          f.name == "Listen") {
        Stmt::EdgeProp prop;
        prop.property = f.name;
        if (!is_kind_ref(at_)) {
          prop.condition = expression();  // `$cond ?: Kind[...]`
          if (!prop.condition || !expect("?:")) return nullptr;
        }
        if (!is_kind_ref(at_)) {
          return fail_at(peek(), "expected a resource like Kind[\"name\"] after " + f.name),
                 nullptr;
        }
        prop.end.position = peek().position;
        prop.end.kind = take_kind();
        take();  // [
        prop.end.name = expression();
        if (!prop.end.name || !expect("]")) return nullptr;
        s->edge_props.push_back(std::move(prop));
        skip_newlines();
        if (!accept(",")) {
          skip_newlines();
          if (!is("}")) return fail_at(peek(), "expected \",\" after a field"), nullptr;
        }
        skip_newlines();
        continue;
      }
      auto value = expression();
      if (!value) return nullptr;
      if (accept("?:")) {
        f.condition = value;
        value = expression();
        if (!value) return nullptr;
      }
      f.value = value;
      s->fields.push_back(f);
      skip_newlines();
      if (!accept(",")) {
        skip_newlines();
        if (!is("}")) return fail_at(peek(), "expected \",\" after a field"), nullptr;
      }
      skip_newlines();
    }
    if (!expect("}")) return nullptr;
    return s;
  }

  // ---- expressions ----
  ExprPtr expression() { return binary(0); }

  static int precedence(const Token& t) {
    if (t.kind != TokenKind::symbol && t.kind != TokenKind::keyword) return -1;
    const std::string& o = t.text;
    if (o == "<|>") return 0;
    if (o == "or" || o == "||") return 1;
    if (o == "and" || o == "&&") return 2;
    if (o == "==" || o == "!=" || o == "<" || o == ">" || o == "<=" || o == ">=" || o == "in") {
      return 3;
    }
    if (o == "+" || o == "-") return 4;
    if (o == "*" || o == "/") return 5;
    return -1;
  }

  ExprPtr binary(int min_precedence) {
    auto left = unary();
    if (!left) return nullptr;
    for (;;) {
      const Token& op = peek();
      int p = precedence(op);
      // `5 -3`: the lexer made `-3` an integer; a number right after a value is a subtraction.
      if (p < 0 && (op.kind == TokenKind::integer || op.kind == TokenKind::floating) &&
          !op.text.empty() && op.text[0] == '-') {
        if (4 < min_precedence) return left;
        auto e = std::make_shared<Expr>();
        e->kind = Expr::Kind::binary;
        e->text = "-";
        e->position = op.position;
        Token positive = take();
        auto right = std::make_shared<Expr>();
        right->kind = op.kind == TokenKind::integer ? Expr::Kind::integer : Expr::Kind::floating;
        right->integer = -positive.integer;
        right->floating = -positive.floating;
        right->position = positive.position;
        e->items = {left, right};
        left = e;
        continue;
      }
      if (p < 0 || p < min_precedence) return left;
      take();
      skip_newlines();
      auto right = binary(p + 1);
      if (!right) return nullptr;
      auto e = std::make_shared<Expr>();
      e->kind = Expr::Kind::binary;
      e->text = op.text == "&&" ? "and" : op.text == "||" ? "or" : op.text;
      e->position = op.position;
      e->items = {left, right};
      left = e;
    }
  }

  ExprPtr unary() {
    if (is("not") || is("!") || is("-")) {
      Token op = take();
      auto operand = unary();
      if (!operand) return nullptr;
      auto e = std::make_shared<Expr>();
      e->kind = Expr::Kind::unary;
      e->text = op.text == "!" ? "not" : op.text;
      e->position = op.position;
      e->items = {operand};
      return e;
    }
    return postfix();
  }

  ExprPtr postfix() {
    auto e = primary();
    while (e) {
      if (is("[")) {
        Token open = take();
        auto index = expression();
        if (!index || !expect("]")) return nullptr;
        auto x = std::make_shared<Expr>();
        x->kind = Expr::Kind::index;
        x->position = open.position;
        x->items = {e, index};
        e = x;
      } else if (is("->") && peek(1).kind == TokenKind::identifier) {
        Token arrow = take();
        auto x = std::make_shared<Expr>();
        x->kind = Expr::Kind::field;
        x->position = arrow.position;
        x->text = take().text;
        x->items = {e};
        e = x;
      } else if (is("(") && (e->kind == Expr::Kind::variable || e->kind == Expr::Kind::lambda ||
                             e->kind == Expr::Kind::call_value)) {
        // $f(x), an inline lambda func($x) {...}("a"), or a call of what a call returned.
        auto x = std::make_shared<Expr>();
        x->kind = Expr::Kind::call_value;
        x->position = e->position;
        x->items = {e};
        if (!arguments(x->items)) return nullptr;
        e = x;
      } else {
        break;
      }
    }
    return e;
  }

  bool arguments(std::vector<ExprPtr>& out) {
    if (!expect("(")) return false;
    skip_newlines();
    while (!is(")")) {
      auto a = expression();
      if (!a) return false;
      out.push_back(a);
      skip_newlines();
      if (!accept(",")) break;
      skip_newlines();
    }
    return expect(")");
  }

  ExprPtr interpolated(const Token& t) {
    // Split "a${x}b" into "a" + $x + "b"; `\$` stays a literal '$'.
    std::vector<ExprPtr> parts;
    std::string literal;
    const std::string& s = t.text;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '$') {
        literal += '$';
        ++i;
        continue;
      }
      if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
        auto close = s.find('}', i);
        if (close == std::string::npos) {
          fail_at(t, "\"${\" is not closed in a string", "errInterpolate");
          return nullptr;
        }
        std::string name = s.substr(i + 2, close - i - 2);
        if (!name.empty() && name[0] == '$') name = name.substr(1);
        if (name.empty()) {
          fail_at(t, "an empty ${} in a string", "errInterpolate");
          return nullptr;
        }
        if (!literal.empty()) parts.push_back(string_literal(literal, t.position));
        literal.clear();
        auto v = std::make_shared<Expr>();
        v->kind = Expr::Kind::variable;
        v->text = name;
        v->position = t.position;
        auto as_str = std::make_shared<Expr>();  // interpolation needs a str
        as_str->kind = Expr::Kind::call;
        as_str->text = "__interpolate";
        as_str->position = t.position;
        as_str->items = {v};
        parts.push_back(as_str);
        i = close;
        continue;
      }
      literal += s[i];
    }
    if (parts.empty() || !literal.empty()) parts.push_back(string_literal(literal, t.position));
    ExprPtr e = parts.front();
    for (std::size_t k = 1; k < parts.size(); ++k) {
      auto b = std::make_shared<Expr>();
      b->kind = Expr::Kind::binary;
      b->text = "+";
      b->position = t.position;
      b->items = {e, parts[k]};
      e = b;
    }
    return e;
  }

  static ExprPtr string_literal(const std::string& value, Position p) {
    auto e = std::make_shared<Expr>();
    e->kind = Expr::Kind::string;
    e->text = value;
    e->position = p;
    return e;
  }

  ExprPtr primary() {
    const Token& t = peek();
    auto e = std::make_shared<Expr>();
    e->position = t.position;
    switch (t.kind) {
      case TokenKind::integer:
        e->kind = Expr::Kind::integer;
        e->integer = take().integer;
        return e;
      case TokenKind::floating:
        e->kind = Expr::Kind::floating;
        e->floating = take().floating;
        return e;
      case TokenKind::string:
        return interpolated(take());
      case TokenKind::variable:
        e->kind = Expr::Kind::variable;
        e->text = take().text;
        return e;
      case TokenKind::identifier: {
        e->kind = Expr::Kind::call;
        e->text = take().text;
        if (!is("(")) {
          fail_at(t, "expected \"(\" to call " + t.text + ", found " + describe(peek()));
          return nullptr;
        }
        if (!arguments(e->items)) return nullptr;
        return e;
      }
      default:
        break;
    }
    if (accept("true") || (t.text == "false" && accept("false"))) {
      e->kind = Expr::Kind::boolean;
      e->boolean = t.text == "true";
      return e;
    }
    if (accept("(")) {
      skip_newlines();
      auto inner = expression();
      skip_newlines();
      if (!inner || !expect(")")) return nullptr;
      return inner;
    }
    if (accept("[")) {
      e->kind = Expr::Kind::list;
      skip_newlines();
      while (!is("]")) {
        auto item = expression();
        if (!item) return nullptr;
        e->items.push_back(item);
        skip_newlines();
        if (!accept(",")) break;
        skip_newlines();
      }
      if (!expect("]")) return nullptr;
      return e;
    }
    if (accept("{")) {
      e->kind = Expr::Kind::map;
      skip_newlines();
      while (!is("}")) {
        auto key = expression();
        if (!key || !expect("=>")) return nullptr;
        auto value = expression();
        if (!value) return nullptr;
        e->items.push_back(key);
        e->items.push_back(value);
        skip_newlines();
        if (!accept(",")) break;
        skip_newlines();
      }
      if (!expect("}")) return nullptr;
      return e;
    }
    if (accept("struct")) {
      e->kind = Expr::Kind::structure;
      if (!expect("{")) return nullptr;
      skip_newlines();
      while (!is("}")) {
        if (peek().kind != TokenKind::identifier) {
          fail_at(peek(), "expected a struct field name, found " + describe(peek()));
          return nullptr;
        }
        e->names.push_back(take().text);
        if (!expect("=>")) return nullptr;
        auto value = expression();
        if (!value) return nullptr;
        e->items.push_back(value);
        skip_newlines();
        if (!accept(",")) break;
        skip_newlines();
      }
      if (!expect("}")) return nullptr;
      return e;
    }
    if (accept("func")) {
      e->kind = Expr::Kind::lambda;
      if (!params(e->names)) return nullptr;
      if (!is("{") && !skip_type()) return nullptr;
      if (!expect("{")) return nullptr;
      skip_newlines();
      auto body = expression();
      skip_newlines();
      if (!body || !expect("}")) return nullptr;
      e->items.push_back(body);
      return e;
    }
    if (accept("if")) {
      e->kind = Expr::Kind::if_expr;
      auto c = expression();
      if (!c || !expect("{")) return nullptr;
      skip_newlines();
      auto a = expression();
      skip_newlines();
      if (!a || !expect("}") || !expect("else")) return nullptr;
      ExprPtr b;
      if (is("if")) {
        b = primary();
      } else {
        if (!expect("{")) return nullptr;
        skip_newlines();
        b = expression();
        skip_newlines();
        if (!b || !expect("}")) return nullptr;
      }
      if (!b) return nullptr;
      e->items = {c, a, b};
      return e;
    }
    fail_at(t, "expected a value, found " + describe(t));
    return nullptr;
  }

  std::vector<Token> tokens_;
  std::string file_;
  std::size_t at_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<std::vector<StmtPtr>> parse(const std::string& source, const std::string& file) {
  auto tokens = lex(source, file);
  if (!tokens) return fail(tokens.error());
  Parser parser(std::move(*tokens), file);
  return parser.program();
}

}  // namespace mgmt::frontends::lang
