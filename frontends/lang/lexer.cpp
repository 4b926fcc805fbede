// lexer.cpp: see lexer.h.
#include "frontends/lang/lexer.h"

#include <cctype>
#include <set>

namespace mgmt::frontends::lang {
namespace {

const std::set<std::string> kKeywords = {"if", "else", "func", "class", "include", "import",
                                         "true", "false", "and", "or", "not", "in", "as",
                                         "for", "forkv", "panic", "struct", "collect"};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

Result<std::vector<Token>> lex(const std::string& src, const std::string& file) {
  std::vector<Token> tokens;
  Position pos;
  std::size_t i = 0;
  auto error = [&](const std::string& what, Position at) {
    return fail(Code::invalid_argument, "errLexParse: " + what + " (" + file + " @ " +
                                            std::to_string(at.row) + ":" +
                                            std::to_string(at.col) + ")");
  };
  auto advance = [&](std::size_t n = 1) {
    for (std::size_t k = 0; k < n && i < src.size(); ++k, ++i) {
      if (src[i] == '\n') {
        ++pos.row;
        pos.col = 1;
      } else {
        ++pos.col;
      }
    }
  };
  while (i < src.size()) {
    char c = src[i];
    Position start = pos;
    if (c == '\n') {
      tokens.push_back({TokenKind::newline, "\n", 0, 0, start});
      advance();
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      advance();
      continue;
    }
    if (c == '#') {
      while (i < src.size() && src[i] != '\n') advance();
      continue;
    }
    if (c == '$') {
      advance();
      std::string name;
      while (i < src.size() && (ident_char(src[i]) || src[i] == '.')) {
        name += src[i];
        advance();
      }
      if (name.empty()) return error("a '$' must be followed by a variable name", start);
      tokens.push_back({TokenKind::variable, name, 0, 0, start});
      continue;
    }
    if (c == '"') {
      advance();
      std::string value;
      bool closed = false;
      while (i < src.size()) {
        char d = src[i];
        if (d == '"') {
          advance();
          closed = true;
          break;
        }
        if (d == '\\' && i + 1 < src.size()) {
          char e = src[i + 1];
          switch (e) {
            case 'n': value += '\n'; break;
            case 't': value += '\t'; break;
            case 'r': value += '\r'; break;
            case '\\': value += '\\'; break;
            case '"': value += '"'; break;
            case '$': value += "\\$"; break;  // a literal '$': interpolation must skip it
            default: return error(std::string("unknown escape \\") + e + " in a string", pos);
          }
          advance(2);
          continue;
        }
        value += d;
        advance();
      }
      if (!closed) return error("a string is not closed", start);
      tokens.push_back({TokenKind::string, value, 0, 0, start});
      continue;
    }
    bool negative_number = c == '-' && i + 1 < src.size() &&
                           std::isdigit(static_cast<unsigned char>(src[i + 1])) &&
                           !tokens.empty() &&
                           (tokens.back().kind == TokenKind::integer ||
                            tokens.back().kind == TokenKind::floating);
    if (std::isdigit(static_cast<unsigned char>(c)) || negative_number) {
      std::string text;
      if (c == '-') {
        text += '-';
        advance();
      }
      bool is_float = false;
      while (i < src.size() && (std::isdigit(static_cast<unsigned char>(src[i])) ||
                                (src[i] == '.' && !is_float && i + 1 < src.size() &&
                                 std::isdigit(static_cast<unsigned char>(src[i + 1]))))) {
        if (src[i] == '.') is_float = true;
        text += src[i];
        advance();
      }
      Token t{is_float ? TokenKind::floating : TokenKind::integer, text, 0, 0, start};
      try {
        if (is_float) t.floating = std::stod(text);
        else t.integer = std::stoll(text);
      } catch (const std::exception&) {
        return error("number " + text + " is out of range", start);
      }
      // `5-3`: the reference lexes the `-3` as a negative integer right after an integer.
      tokens.push_back(t);
      continue;
    }
    if (ident_start(c)) {
      std::string name;
      while (i < src.size() && (ident_char(src[i]) || (src[i] == '.' && i + 1 < src.size() &&
                                                       ident_start(src[i + 1])))) {
        name += src[i];
        advance();
      }
      tokens.push_back({kKeywords.count(name) ? TokenKind::keyword : TokenKind::identifier, name,
                        0, 0, start});
      continue;
    }
    static const char* kSymbols[] = {"<|>", "=>", "->", "==", "!=", "<=", ">=", "&&", "||", "?:",
                                     "{", "}", "[", "]", "(", ")", ",", "=", "+", "-", "*",
                                     "/", "<", ">", ":", ";", "!", "."};
    bool matched = false;
    for (const char* s : kSymbols) {
      std::string sym(s);
      if (src.compare(i, sym.size(), sym) == 0) {
        tokens.push_back({TokenKind::symbol, sym, 0, 0, start});
        advance(sym.size());
        matched = true;
        break;
      }
    }
    if (!matched) return error(std::string("unexpected character '") + c + "'", start);
  }
  tokens.push_back({TokenKind::end, "", 0, 0, pos});
  return tokens;
}

}  // namespace mgmt::frontends::lang
