// log_store.h: the durable Raft log as the core sees it: read-only. The driver writes it (after
// a Ready) and the core learns of new durable state only through Node::advance().
// Implementations: MemoryLogStore (tests, simulator), the RocksDB adapter (store/server).
// Invariants: entries present are exactly [first_index(), last_index()]; first_index() - 1 is
// the snapshot index (its term is answered by term()); a fresh log has first_index() == 1 and
// last_index() == 0.
#pragma once

#include "common/result.h"
#include "store/raft/types.h"

#include <cstdint>
#include <vector>

namespace mgmt::store::raft {

struct InitialState {
  HardState hard_state;
  ConfState conf_state;  // the membership as of the snapshot (later changes replay from the log)
};

class LogStore {
 public:
  virtual ~LogStore() = default;

  virtual InitialState initial_state() const = 0;
  virtual uint64_t first_index() const = 0;
  virtual uint64_t last_index() const = 0;
  // Code::out_of_range when compacted (i < first_index() - 1), Code::unavailable when
  // i > last_index().
  virtual Result<uint64_t> term(uint64_t index) const = 0;
  // Entries [lo, hi): at most max_bytes of data, but always at least one. Errors as term().
  virtual Result<std::vector<Entry>> entries(uint64_t lo, uint64_t hi,
                                             uint64_t max_bytes) const = 0;
  // The newest snapshot. Code::unavailable means "not ready yet, ask again later".
  virtual Result<Snapshot> snapshot() const = 0;
};

}  // namespace mgmt::store::raft
