// lexer.h: mcl source text to tokens, with the reference's traps: statements end at newlines,
// `5-3` is two integers (5 and -3), `#` starts a comment, strings take Go escapes and `${var}`
// interpolation (kept raw here; the parser splits it), capitalised identifiers name resource
// fields and metaparams (`Meta`), dotted names call into modules (`fmt.printf`).
// Every token has its row and column (1-based) for error messages.
// Thread-safety: pure functions.
#pragma once

#include "common/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mgmt::frontends::lang {

struct Position {
  int row = 1;
  int col = 1;
};

enum class TokenKind {
  end, newline, identifier, variable /* $name */, string, integer, floating,
  keyword, symbol
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string text;  // identifier/keyword/symbol text, variable name without '$', string value
  int64_t integer = 0;
  double floating = 0;
  Position position;
};

// Errors are "errLexParse: <what> (<file> @ row:col)".
[[nodiscard]] Result<std::vector<Token>> lex(const std::string& source, const std::string& file);

}  // namespace mgmt::frontends::lang
