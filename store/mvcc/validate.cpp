// validate.cpp: etcd 3.4's v3rpc request checks (key.go), same order, same messages; plus
// 3.6's check of a range's sort options.
#include "store/mvcc/validate.h"

#include "store/mvcc/errors.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mgmt::store::mvcc {
namespace {

Error invalid(const char* text) { return Error(Code::invalid_argument, text); }

Result<void> validate_op(const RequestOp& op, std::size_t max_ops);

Result<void> validate_txn_ops(const TxnRequest& r, std::size_t max_ops) {
  std::size_t opc = r.compare.size();
  opc = std::max(opc, r.success.size());
  opc = std::max(opc, r.failure.size());
  if (opc > max_ops) return fail(invalid(kErrTooManyOps));
  for (const auto& c : r.compare) {
    if (c.key.empty()) return fail(invalid(kErrEmptyKey));
  }
  for (const auto& op : r.success) {
    if (auto v = validate_op(op, max_ops - opc); !v) return v;
  }
  for (const auto& op : r.failure) {
    if (auto v = validate_op(op, max_ops - opc); !v) return v;
  }
  return ok();
}

Result<void> validate_op(const RequestOp& op, std::size_t max_ops) {
  switch (op.kind) {
    case RequestOp::Kind::range:
      return validate_range(op.range);
    case RequestOp::Kind::put:
      return validate_put(op.put);
    case RequestOp::Kind::delete_range:
      return validate_delete_range(op.delete_range);
    case RequestOp::Kind::txn:
      if (!op.txn) return ok();
      return validate_txn_ops(*op.txn, max_ops);
  }
  return ok();
}

// Deleted intervals [begin, end); a point delete is [k, k + "\0").
struct Dels {
  std::vector<std::pair<std::string, std::string>> intervals;
  bool contains(const std::string& k) const {
    for (const auto& [b, e] : intervals) {
      if (b <= k && k < e) return true;
    }
    return false;
  }
};

// etcd's checkIntervals: puts and deletes of one branch must not overlap; nested txns' branches
// count as part of this branch (their then and else may share a key with each other).
Result<void> check_intervals(const std::vector<RequestOp>& ops, std::set<std::string>* puts,
                             Dels* dels) {
  for (const auto& op : ops) {
    if (op.kind != RequestOp::Kind::delete_range) continue;
    const auto& d = op.delete_range;
    if (!d.range_end.empty()) {
      dels->intervals.emplace_back(d.key, d.range_end);
    } else {
      dels->intervals.emplace_back(d.key, d.key + std::string(1, '\0'));
    }
  }
  for (const auto& op : ops) {
    if (op.kind != RequestOp::Kind::txn || !op.txn) continue;
    std::set<std::string> puts_then, puts_else;
    Dels dels_then, dels_else;
    if (auto v = check_intervals(op.txn->success, &puts_then, &dels_then); !v) return v;
    if (auto v = check_intervals(op.txn->failure, &puts_else, &dels_else); !v) return v;
    for (const auto& k : puts_then) {
      if (puts->count(k) || dels->contains(k)) return fail(invalid(kErrDuplicateKey));
      puts->insert(k);
    }
    for (const auto& k : puts_else) {
      if (puts->count(k) && !puts_then.count(k)) return fail(invalid(kErrDuplicateKey));
      if (dels->contains(k)) return fail(invalid(kErrDuplicateKey));
      puts->insert(k);
    }
    for (auto& iv : dels_then.intervals) dels->intervals.push_back(iv);
    for (auto& iv : dels_else.intervals) dels->intervals.push_back(iv);
  }
  for (const auto& op : ops) {
    if (op.kind != RequestOp::Kind::put) continue;
    const std::string& k = op.put.key;
    if (puts->count(k) || dels->contains(k)) return fail(invalid(kErrDuplicateKey));
    puts->insert(k);
  }
  return ok();
}

}  // namespace

Result<void> validate_range(const RangeRequest& r) {
  if (r.key.empty()) return fail(invalid(kErrEmptyKey));
  // A client can send any number for an enum. etcd 3.4 left the keys unsorted for an order it
  // did not know and crashed on such a target; 3.6 refuses both, as here.
  const int order = static_cast<int>(r.sort_order);
  const int target = static_cast<int>(r.sort_target);
  if (order < static_cast<int>(RangeRequest::SortOrder::none) ||
      order > static_cast<int>(RangeRequest::SortOrder::descend) ||
      target < static_cast<int>(RangeRequest::SortTarget::key) ||
      target > static_cast<int>(RangeRequest::SortTarget::value)) {
    return fail(invalid(kErrInvalidSortOption));
  }
  return ok();
}

Result<void> validate_put(const PutRequest& r) {
  if (r.key.empty()) return fail(invalid(kErrEmptyKey));
  if (r.ignore_value && !r.value.empty()) return fail(invalid(kErrValueProvided));
  if (r.ignore_lease && r.lease != kNoLease) return fail(invalid(kErrLeaseProvided));
  return ok();
}

Result<void> validate_delete_range(const DeleteRangeRequest& r) {
  if (r.key.empty()) return fail(invalid(kErrEmptyKey));
  return ok();
}

Result<void> validate_txn(const TxnRequest& r, std::size_t max_ops) {
  if (auto v = validate_txn_ops(r, max_ops); !v) return v;
  {
    std::set<std::string> puts;
    Dels dels;
    if (auto v = check_intervals(r.success, &puts, &dels); !v) return v;
  }
  {
    std::set<std::string> puts;
    Dels dels;
    if (auto v = check_intervals(r.failure, &puts, &dels); !v) return v;
  }
  return ok();
}

}  // namespace mgmt::store::mvcc
