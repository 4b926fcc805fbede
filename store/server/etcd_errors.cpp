// etcd_errors.cpp: see etcd_errors.h.
#include "store/server/etcd_errors.h"

#include "store/mvcc/errors.h"

namespace mgmt::store::server {

grpc::Status to_status(const Error& error) {
  return grpc::Status(static_cast<grpc::StatusCode>(error.code()), mvcc::wire_message(error));
}

grpc::Status request_too_large() {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, kErrRequestTooLarge);
}

}  // namespace mgmt::store::server
