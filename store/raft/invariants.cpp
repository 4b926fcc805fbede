// invariants.cpp: see invariants.h.
#include "store/raft/invariants.h"

#include <string>

namespace mgmt::store::raft {
namespace {

Result<void> broken(const Node& n, const std::string& what) {
  return fail(Code::internal, "raft invariant broken on node " + std::to_string(n.id()) + ": " +
                                  what);
}

}  // namespace

Result<void> check_invariants(const Node& n) {
  const RaftLog& log = n.log();
  if (log.applied() > log.committed()) {
    return broken(n, "applied " + std::to_string(log.applied()) + " > committed " +
                         std::to_string(log.committed()));
  }
  if (log.committed() > log.last_index()) {
    return broken(n, "committed " + std::to_string(log.committed()) + " > last index " +
                         std::to_string(log.last_index()));
  }
  if (log.last_term() > n.term()) {
    return broken(n, "last log term " + std::to_string(log.last_term()) + " > term " +
                         std::to_string(n.term()));
  }
  if (n.role() == Role::leader) {
    if (n.lead() != n.id()) return broken(n, "a leader whose lead is another node");
    if (!n.tracker().is_voter(n.id())) return broken(n, "a leader that is not a voter");
  }
  if (n.role() == Role::candidate && n.vote() != n.id()) {
    return broken(n, "a candidate that did not vote for itself");
  }
  if (n.pending_conf_index() > log.last_index()) {
    return broken(n, "pending membership change past the log");
  }
  const auto& un = log.unstable_entries();
  uint64_t prev_term = un.empty() ? 0 : log.term_or_zero(un.front().index - 1);
  for (size_t i = 0; i < un.size(); ++i) {
    if (i > 0 && un[i].index != un[i - 1].index + 1) return broken(n, "unstable entries gap");
    if (un[i].term < prev_term) return broken(n, "terms decrease along the log");
    prev_term = un[i].term;
  }
  if (n.role() == Role::leader) {
    for (const auto& [id, pr] : n.tracker().progress()) {
      if (pr.match >= pr.next) {
        return broken(n, "progress of " + std::to_string(id) + " has match >= next");
      }
      uint64_t last = 0;
      for (uint64_t v : pr.inflight) {
        if (v <= last) return broken(n, "in-flight window not increasing");
        last = v;
      }
    }
  }
  return ok();
}

}  // namespace mgmt::store::raft
