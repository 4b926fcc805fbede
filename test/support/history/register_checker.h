// register_checker.h: linearizability of a history of operations on one key, against the model
// of a register (absent or a value) with put, get and compare-and-set. The search is Wing &
// Gong's with Lowe's memoisation (the algorithm of Knossos and Porcupine): linearize any
// pending call whose effect the model accepts, backtrack on a return that cannot be explained.
// An operation whose outcome is unknown (the client saw a timeout or an error) returns at
// infinity: it may take effect at any point after its call, or never.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mgmt::test::history {

struct RegisterOp {
  enum class Kind { put, get, cas };
  Kind kind = Kind::get;
  std::string value;                    // put/cas: the value written
  std::optional<std::string> expect;    // cas: the value required (nullopt: key absent)
  std::optional<std::string> observed;  // get: what was read (nullopt: absent)
  bool succeeded = true;                // cas: whether the compare held
  bool unknown = false;                 // the outcome is not known (write ops only)
  int64_t call = 0;                     // invocation time (any monotonic unit)
  int64_t ret = 0;                      // completion time (ignored when unknown)
  int client = 0;
};

struct CheckResult {
  bool linearizable = true;
  // False when the search gave up (more states than its budget): then `linearizable` says
  // nothing. Unknown outcomes can make the number of orders explode.
  bool decided = true;
  std::string explanation;  // when not linearizable or not decided: why
};

// Past `budget` states the search tries again without the unknown writes whose values nobody
// observed (sound: they can always take effect last); if that is not conclusive either, the
// result is undecided rather than a wrong verdict or an endless search.
CheckResult check_register(const std::vector<RegisterOp>& ops, size_t budget = 2'000'000);

std::string describe(const RegisterOp& op);

}  // namespace mgmt::test::history
