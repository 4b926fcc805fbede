// version.h: the version of this build and the git commit it was built from.
#pragma once

namespace mgmt {
const char* version();       // e.g. "0.1.0"
const char* build_commit();  // `git describe --always --dirty` at configure time, or "unknown"
}  // namespace mgmt
