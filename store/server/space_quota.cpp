// space_quota.cpp: see space_quota.h.
#include "store/server/space_quota.h"

#include <algorithm>
#include <utility>

namespace mgmt::store::server {
namespace {

constexpr int64_t kKvOverhead = 256;

int64_t ops_cost(const std::vector<mvcc::RequestOp>& ops) {
  int64_t total = 0;
  for (const auto& op : ops) {
    if (op.kind == mvcc::RequestOp::Kind::put) total += SpaceQuota::cost(op.put);
    if (op.kind == mvcc::RequestOp::Kind::txn && op.txn) total += SpaceQuota::cost(*op.txn);
  }
  return total;
}

}  // namespace

SpaceQuota::SpaceQuota(std::function<int64_t()> measure, int64_t configured)
    : measure_(std::move(measure)),
      limit_(configured == 0 ? kDefaultBytes : std::max<int64_t>(0, configured)) {}

int64_t SpaceQuota::state_bytes() { return measure_(); }

bool SpaceQuota::available(int64_t cost) {
  if (limit_ == 0 || cost == 0) return true;
  return state_bytes() + cost < limit_;
}

int64_t SpaceQuota::cost(const mvcc::PutRequest& r) {
  return kKvOverhead + static_cast<int64_t>(r.key.size() + r.value.size());
}

int64_t SpaceQuota::cost(const mvcc::TxnRequest& r) {
  return std::max(ops_cost(r.success), ops_cost(r.failure));
}

}  // namespace mgmt::store::server
