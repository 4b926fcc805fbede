// metaparams.h: the metaparameters every resource accepts (`Meta:` in lang, `meta:` in yaml),
// parsed and checked once per resource. Names and meanings follow the reference's
// docs/documentation.md: noop, retry, delay, poll, limit, burst, sema, realize, hidden,
// autoedge, autogroup, reverse; rewatch and export are accepted and documented as not acted on.
// Invariant: a parsed Meta is valid (limit > 0; a finite limit has a burst of at least 1;
// every semaphore has a size of at least 1).
#pragma once

#include "common/result.h"
#include "frontends/graph_spec.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace mgmt::agent::engine {

struct Meta {
  bool noop = false;
  int64_t retry = 0;     // attempts after an error; -1 forever
  int64_t delay_ms = 0;  // between retries
  int64_t poll_s = 0;    // > 0: check every poll_s seconds (kinds without events)
  double limit = std::numeric_limits<double>::infinity();  // check_apply runs per second
  int64_t burst = 0;                                        // runs allowed at once past limit
  std::vector<std::pair<std::string, int64_t>> sema;        // (id, size), sorted by id
  bool realize = false;  // converge at least once before a swap removes or changes it
  bool hidden = false;   // in the graph (edges pass through it) but never run
  bool reverse = false;  // undo its changes when a graph no longer has it (reversals.h)
  bool autoedge = true;
  bool autogroup = true;
};

// "kind[name]: metaparameter \"limit\" ..." on a wrong name, type or value.
[[nodiscard]] Result<Meta> parse_meta(const frontends::ResourceSpec& spec);

// A sema id as the reference writes it: "name" (size 1) or "name:N" (size N, N >= 1).
[[nodiscard]] Result<std::pair<std::string, int64_t>> parse_sema(const std::string& text);

}  // namespace mgmt::agent::engine
