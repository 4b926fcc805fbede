// init_check.h: the reference's init stage (errInit), between parsing and scoping: checks a
// parsed program needs no values for. A map literal naming a literal key twice or mixing key
// kinds, a list or map literal as a map key (not hashable), a struct literal naming a field
// twice, an import inside a for loop.
#pragma once

#include "common/result.h"
#include "frontends/lang/ast.h"

#include <string>
#include <vector>

namespace mgmt::frontends::lang {

// "errInit: <what> (file @ row:col)" for the first problem found.
[[nodiscard]] Result<void> init_check(const std::vector<StmtPtr>& program,
                                      const std::string& file);

}  // namespace mgmt::frontends::lang
