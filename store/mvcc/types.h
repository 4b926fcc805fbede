// types.h: etcd 3.4's key/value data model in plain C++ types (mvccpb.KeyValue, mvccpb.Event and
// the etcdserverpb KV requests), so store/server translates protobuf field by field and nothing
// here depends on protobuf.
// Conventions, as in etcd:
//   - Keys and values are byte strings (std::string may hold any byte, including '\0').
//   - range_end: empty = the single key `key`; "\0" (one zero byte) = every key >= key; otherwise
//     the half-open interval [key, range_end). A prefix range's end is computed by the caller
//     (etcd clientv3's GetPrefixRangeEnd); key "\0" with range_end "\0" is the whole keyspace.
//   - Revisions are int64; a fresh store is at revision 1; 0 in a request means "current".
//   - Enum values carry the protobuf numbers, so the server may static_cast.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mgmt::store::mvcc {

using LeaseId = int64_t;
inline constexpr LeaseId kNoLease = 0;

// mvccpb.KeyValue. create_revision/mod_revision are main revisions; version counts puts since the
// key was (re)created (1 after the first put); lease is 0 when none.
struct KeyValue {
  std::string key;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  std::string value;
  int64_t lease = 0;

  bool operator==(const KeyValue&) const = default;
};

// mvccpb.Event. For a DELETE, kv holds the key and mod_revision = the deleting revision (other
// fields zero, as etcd); prev_kv is the value before the event (absent for a put that created the
// key), filled only when the watcher asked for prev_kv.
struct Event {
  enum class Type : int { put = 0, del = 1 };
  Type type = Type::put;
  KeyValue kv;
  std::optional<KeyValue> prev_kv;

  bool operator==(const Event&) const = default;
};

// etcdserverpb.RangeRequest.
struct RangeRequest {
  enum class SortOrder : int { none = 0, ascend = 1, descend = 2 };
  enum class SortTarget : int { key = 0, version = 1, create = 2, mod = 3, value = 4 };

  std::string key;
  std::string range_end;
  int64_t limit = 0;     // 0 = no limit
  int64_t revision = 0;  // 0 = current; else read at this past revision
  SortOrder sort_order = SortOrder::none;
  SortTarget sort_target = SortTarget::key;
  bool serializable = false;  // for the server (local read); ignored here
  bool keys_only = false;
  bool count_only = false;
  int64_t min_mod_revision = 0;
  int64_t max_mod_revision = 0;
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;
};

// etcdserverpb.RangeResponse (header.revision as `revision`).
struct RangeResponse {
  int64_t revision = 0;  // the store revision the read was served at (etcd's header.revision)
  std::vector<KeyValue> kvs;
  bool more = false;   // more keys than `limit` matched
  int64_t count = 0;   // keys in the range at that revision, before min/max filters and limit
};

// etcdserverpb.PutRequest.
struct PutRequest {
  std::string key;
  std::string value;
  LeaseId lease = kNoLease;
  bool prev_kv = false;
  bool ignore_value = false;  // keep the current value (key must exist; value must be empty)
  bool ignore_lease = false;  // keep the current lease (key must exist; lease must be 0)
};

struct PutResponse {
  int64_t revision = 0;  // the revision of this write
  std::optional<KeyValue> prev_kv;
};

// etcdserverpb.DeleteRangeRequest.
struct DeleteRangeRequest {
  std::string key;
  std::string range_end;
  bool prev_kv = false;
};

struct DeleteRangeResponse {
  int64_t revision = 0;  // store revision after the request (unchanged if nothing was deleted)
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

// etcdserverpb.Compare. The operand used is the one matching `target`.
struct Compare {
  enum class Result : int { equal = 0, greater = 1, less = 2, not_equal = 3 };
  enum class Target : int { version = 0, create = 1, mod = 2, value = 3, lease = 4 };

  Result result = Result::equal;
  Target target = Target::version;
  std::string key;
  std::string range_end;  // as in RangeRequest; every key in the range must satisfy the compare
  int64_t version = 0;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  std::string value;
  int64_t lease = 0;
};

struct TxnRequest;
struct TxnResponse;

// etcdserverpb.RequestOp: exactly one of the four.
struct RequestOp {
  enum class Kind : int { range, put, delete_range, txn };
  Kind kind = Kind::range;
  RangeRequest range;
  PutRequest put;
  DeleteRangeRequest delete_range;
  std::shared_ptr<TxnRequest> txn;  // set when kind == txn

  static RequestOp make_range(RangeRequest r);
  static RequestOp make_put(PutRequest r);
  static RequestOp make_delete(DeleteRangeRequest r);
  static RequestOp make_txn(TxnRequest r);
};

struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

// etcdserverpb.ResponseOp: `kind` mirrors the request op at the same position.
struct ResponseOp {
  RequestOp::Kind kind = RequestOp::Kind::range;
  RangeResponse range;
  PutResponse put;
  DeleteRangeResponse delete_range;
  std::shared_ptr<TxnResponse> txn;
};

struct TxnResponse {
  int64_t revision = 0;  // store revision after the txn (bumped once if it wrote anything)
  bool succeeded = false;
  std::vector<ResponseOp> responses;
};

// etcdserverpb.CompactionRequest's outcome.
struct CompactResponse {
  int64_t revision = 0;  // current store revision (compaction does not bump it)
};

}  // namespace mgmt::store::mvcc
