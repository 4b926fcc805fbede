// validate.h: request validation done before a request is proposed to Raft (etcd's v3rpc
// checkRangeRequest/checkPutRequest/checkDeleteRequest/checkTxnRequest/checkIntervals), with
// etcd's exact messages (errors.h). A request that passes may still fail at apply time with
// kErrKeyNotFound, kErrLeaseNotFound, kErrCompacted or kErrFutureRev.
// Thread-safety: pure functions.
#pragma once

#include "common/result.h"
#include "store/mvcc/types.h"

#include <cstddef>

namespace mgmt::store::mvcc {

// etcd's default --max-txn-ops.
inline constexpr std::size_t kMaxTxnOps = 128;

[[nodiscard]] Result<void> validate_range(const RangeRequest& r);
[[nodiscard]] Result<void> validate_put(const PutRequest& r);
[[nodiscard]] Result<void> validate_delete_range(const DeleteRangeRequest& r);
// Too many ops (max of compares/success/failure > max_ops, nested txns count against the rest),
// empty keys, put flags, then the duplicate-key rule on success and on failure (a key put twice in
// one branch, or put and deleted in one branch, nested txns included).
[[nodiscard]] Result<void> validate_txn(const TxnRequest& r, std::size_t max_ops = kMaxTxnOps);

}  // namespace mgmt::store::mvcc
