// parser.h: tokens to a program (a list of statements), following the reference's grammar for
// the constructs this frontend supports (docs/lang.md lists them). Errors are errLexParse with
// the position.
// Thread-safety: pure functions.
#pragma once

#include "frontends/lang/ast.h"

namespace mgmt::frontends::lang {

[[nodiscard]] Result<std::vector<StmtPtr>> parse(const std::string& source,
                                                 const std::string& file);

}  // namespace mgmt::frontends::lang
