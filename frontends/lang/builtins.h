// builtins.h: the functions mcl code can call without defining them: top-level ones (len,
// contains, ...) and those of the core modules (fmt, strings, encoding, convert, math, sys,
// os, iter), looked up by their full name ("fmt.printf"). A module's functions need
// `import "fmt"` first; the interpreter checks that.
// A builtin returns a Value or a one-line error whose text starts with its class
// (errUnify for a wrong argument type, errStream for a failure while running).
// Thread-safety: the table is built once and read-only afterwards.
#pragma once

#include "frontends/lang/value.h"

#include <string>

namespace mgmt::frontends::lang {

// Nothing when no builtin has this name.
const Func* find_builtin(const std::string& name);

}  // namespace mgmt::frontends::lang
