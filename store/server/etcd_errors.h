// etcd_errors.h: the gRPC statuses etcd 3.4 answers with, byte for byte, because Go clients
// match on the message text (rpctypes). Errors from the MVCC store and the lessor already carry
// etcd's message and a canonical code; to_status() sends them unchanged (with the
// "etcdserver: mvcc: ..." form for compaction errors), and the constants here cover what only
// the server decides.
// Thread-safety: pure functions.
#pragma once

#include "common/result.h"

#include <grpcpp/support/status.h>

#include <cstddef>

namespace mgmt::store::server {

inline constexpr const char* kErrNoSpace = "etcdserver: mvcc: database space exceeded";
// rpctypes.ErrGRPCCorrupt, gRPC DataLoss: a CORRUPT alarm is raised.
inline constexpr const char* kErrCorrupt = "etcdserver: corrupt cluster";
inline constexpr const char* kErrRequestTooLarge = "etcdserver: request is too large";
inline constexpr const char* kErrAuthNotEnabled = "etcdserver: authentication is not enabled";
// auth.ErrUserNotFound / ErrRoleNotFound (gRPC FailedPrecondition), ErrUserEmpty / ErrRoleEmpty
// (InvalidArgument).
inline constexpr const char* kErrUserNotFound = "etcdserver: user name not found";
inline constexpr const char* kErrRoleNotFound = "etcdserver: role name not found";
inline constexpr const char* kErrUserEmpty = "etcdserver: user name is empty";
inline constexpr const char* kErrRoleEmpty = "etcdserver: role name is empty";
inline constexpr const char* kErrBadLeaderTransferee = "etcdserver: bad leader transferee";
inline constexpr const char* kErrMemberNotFound = "etcdserver: member not found";
inline constexpr const char* kErrMemberNotLearner = "etcdserver: can only promote a learner member";
inline constexpr const char* kErrLearnerNotReady =
    "etcdserver: can only promote a learner member which is in sync with leader";
inline constexpr const char* kErrPeerUrlExists = "etcdserver: Peer URLs already exists";
// rpctypes.ErrGRPCMemberBadURLs, gRPC InvalidArgument.
inline constexpr const char* kErrMemberBadURLs = "etcdserver: given member URLs are invalid";
inline constexpr const char* kErrTimeout = "etcdserver: request timed out";
inline constexpr const char* kErrNoLeader = "etcdserver: no leader";
inline constexpr const char* kErrNotEnoughStartedMembers =
    "etcdserver: re-configuration failed due to not enough started members";

// etcd's default --max-request-bytes.
inline constexpr std::size_t kMaxRequestBytes = 1536 * 1024;
// What gRPC itself may receive: the request limit plus etcd's allowance for gRPC overhead.
inline constexpr int kMaxReceiveMessageBytes = static_cast<int>(kMaxRequestBytes) + 512 * 1024;

grpc::Status to_status(const Error& error);
grpc::Status request_too_large();

}  // namespace mgmt::store::server
