// space_quota.h: etcd's space quota (--quota-backend-bytes): a write that would take the
// member's state past the quota is refused with "etcdserver: mvcc: database space exceeded" and
// raises the NOSPACE alarm (alarms.h), so that a runaway writer stops at a known size instead of
// filling the host's disk (and, here, its memory: the index holds every value). The size is
// what the history holds, every key and value of every revision since the last compaction
// (KvStore::state_bytes; not the Raft log, as etcd counts its db and not its WAL), read for every
// write (an atomic counter). So deleting keys and compacting frees space at once; etcd also needs a
// defrag to shrink its file. Costs are etcd's: a put 256 bytes plus its key and value, a txn
// its costlier branch, a lease grant 64 bytes.
// Thread-safety: all methods are thread-safe.
#pragma once

#include "store/mvcc/types.h"

#include <cstdint>
#include <functional>

namespace mgmt::store::server {

class SpaceQuota {
 public:
  static constexpr int64_t kDefaultBytes = int64_t{2} << 30;  // etcd's default, 2 GiB
  static constexpr int64_t kMaxBytes = int64_t{8} << 30;      // etcd warns past 8 GiB

  // configured: etcd's flag (0: the default; negative: no quota). measure: the size now.
  SpaceQuota(std::function<int64_t()> measure, int64_t configured);

  int64_t limit() const { return limit_; }  // 0: none
  // Whether a write of this cost fits (always, for a cost of 0 or without a quota).
  bool available(int64_t cost);
  int64_t state_bytes();

  static int64_t cost(const mvcc::PutRequest& r);
  static int64_t cost(const mvcc::TxnRequest& r);
  static constexpr int64_t kLeaseCost = 64;

 private:
  std::function<int64_t()> measure_;
  int64_t limit_;
};

}  // namespace mgmt::store::server
