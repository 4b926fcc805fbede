// invariants.h: the local invariants of one Raft node, as code (LogCabin's habit). Tests and the
// simulator call check_invariants() after every step; production calls it under --debug-raft.
#pragma once

#include "common/result.h"
#include "store/raft/node.h"

namespace mgmt::store::raft {

// Ok, or Code::internal naming the first invariant that does not hold.
Result<void> check_invariants(const Node& node);

}  // namespace mgmt::store::raft
