// errors.h: the errors of the key/value API with etcd 3.4's exact message text and the gRPC code
// etcd answers with (Go clients match on the text, so never reword these).
// Thread-safety: plain functions.
#pragma once

#include "common/result.h"

#include <string>

namespace mgmt::store::mvcc {

// mvcc.ErrCompacted, gRPC OutOfRange.
inline constexpr const char* kErrCompacted = "mvcc: required revision has been compacted";
// mvcc.ErrFutureRev, gRPC OutOfRange.
inline constexpr const char* kErrFutureRev = "mvcc: required revision is a future revision";
// etcdserver.ErrKeyNotFound (ignore_value/ignore_lease on a missing key), gRPC InvalidArgument.
inline constexpr const char* kErrKeyNotFound = "etcdserver: key not found";
// lease.ErrLeaseNotFound, gRPC NotFound.
inline constexpr const char* kErrLeaseNotFound = "etcdserver: requested lease not found";
// Request validation (rpctypes.ErrGRPC*), all gRPC InvalidArgument.
inline constexpr const char* kErrEmptyKey = "etcdserver: key is not provided";
inline constexpr const char* kErrValueProvided = "etcdserver: value is provided";
inline constexpr const char* kErrLeaseProvided = "etcdserver: lease is provided";
inline constexpr const char* kErrTooManyOps = "etcdserver: too many operations in txn request";
inline constexpr const char* kErrDuplicateKey = "etcdserver: duplicate key given in txn request";
// A sort order or target outside the enum (etcd 3.6; etcd 3.4 crashed on such a target).
inline constexpr const char* kErrInvalidSortOption = "etcdserver: invalid sort option";

// On the gRPC wire etcd prefixes the two mvcc errors (rpctypes.ErrGRPCCompacted/FutureRev); every
// other message above goes out unchanged. store/server should send wire_message(error).
inline constexpr const char* kWireErrCompacted =
    "etcdserver: mvcc: required revision has been compacted";
inline constexpr const char* kWireErrFutureRev =
    "etcdserver: mvcc: required revision is a future revision";

inline std::string wire_message(const Error& e) {
  if (e.message() == kErrCompacted) return kWireErrCompacted;
  if (e.message() == kErrFutureRev) return kWireErrFutureRev;
  return e.message();
}

inline Error err_compacted() { return Error(Code::out_of_range, kErrCompacted); }
inline Error err_future_rev() { return Error(Code::out_of_range, kErrFutureRev); }
inline Error err_key_not_found() { return Error(Code::invalid_argument, kErrKeyNotFound); }
inline Error err_lease_not_found() { return Error(Code::not_found, kErrLeaseNotFound); }

}  // namespace mgmt::store::mvcc
