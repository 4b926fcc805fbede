// auth_service.cpp: etcd's Auth service as etcd 3.4 answers it with auth disabled and no user
// or role defined, which is what mgmt's store always is: AuthStatus says auth is off,
// Authenticate fails with "authentication is not enabled", AuthDisable is a no-op, UserList and
// RoleList are empty, and every request naming a user or a role gets etcd's "user name not
// found" or "role name not found" (as etcd answers for one that was never added; a role "root"
// is not built in before auth is enabled). What would create users or roles (UserAdd, RoleAdd)
// and AuthEnable are refused, in one line naming why and what to do instead: mgmt's store does
// not implement users and roles. Invariant: every method of etcdserverpb.Auth is answered; none
// is "unknown method".
#include "store/server/etcd_errors.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

constexpr const char* kNoUsersAndRoles =
    "mgmt: the store does not implement users and roles; keep auth off and protect the client "
    "port with the network";

class AuthService final {
 public:
  explicit AuthService(ServiceContext& context) : context_(context) {}

  grpc::Status AuthStatus(const etcdserverpb::AuthStatusRequest*,
                          etcdserverpb::AuthStatusResponse* response) {
    context_.fill(response->mutable_header());
    response->set_enabled(false);
    return grpc::Status::OK;
  }
  grpc::Status Authenticate(const etcdserverpb::AuthenticateRequest*,
                            etcdserverpb::AuthenticateResponse*) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kErrAuthNotEnabled);
  }
  grpc::Status AuthDisable(const etcdserverpb::AuthDisableRequest*,
                           etcdserverpb::AuthDisableResponse* response) {
    context_.fill(response->mutable_header());
    return grpc::Status::OK;
  }
  grpc::Status AuthEnable(const etcdserverpb::AuthEnableRequest*,
                          etcdserverpb::AuthEnableResponse*) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, kNoUsersAndRoles);
  }

  // What would add a user or a role: etcd's check of the name first, then the refusal.
  grpc::Status UserAdd(const etcdserverpb::AuthUserAddRequest* request,
                       etcdserverpb::AuthUserAddResponse*) {
    if (request->name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, kErrUserEmpty);
    }
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, kNoUsersAndRoles);
  }
  grpc::Status RoleAdd(const etcdserverpb::AuthRoleAddRequest* request,
                       etcdserverpb::AuthRoleAddResponse*) {
    if (request->name().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, kErrRoleEmpty);
    }
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, kNoUsersAndRoles);
  }

  // The lists: none defined.
  grpc::Status UserList(const etcdserverpb::AuthUserListRequest*,
                        etcdserverpb::AuthUserListResponse* response) {
    context_.fill(response->mutable_header());
    return grpc::Status::OK;
  }
  grpc::Status RoleList(const etcdserverpb::AuthRoleListRequest*,
                        etcdserverpb::AuthRoleListResponse* response) {
    context_.fill(response->mutable_header());
    return grpc::Status::OK;
  }


 private:
  ServiceContext& context_;
};

// A request about one user or one role names one that does not exist: refused from the I/O
// thread, with etcd's "not found" (`message`), once the request has parsed.
template <typename Request>
void add_not_found(rpc::RpcServer& server, const std::string& path, const char* message) {
  server.add_unary<Request>(path, [message](const Request&, rpc::Responder responder) {
    responder.fail(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, message));
  });
}

}  // namespace

void add_auth_service(ServiceContext& context, rpc::RpcServer& server) {
  using namespace etcdserverpb;
  using S = AuthService;
  auto service = std::make_shared<AuthService>(context);
  const std::string at = "/etcdserverpb.Auth/";
  add_blocking(server, at + "AuthStatus", service, &S::AuthStatus);
  add_blocking(server, at + "Authenticate", service, &S::Authenticate);
  add_blocking(server, at + "AuthDisable", service, &S::AuthDisable);
  add_blocking(server, at + "AuthEnable", service, &S::AuthEnable);
  add_blocking(server, at + "UserAdd", service, &S::UserAdd);
  add_blocking(server, at + "RoleAdd", service, &S::RoleAdd);
  add_blocking(server, at + "UserList", service, &S::UserList);
  add_blocking(server, at + "RoleList", service, &S::RoleList);
  add_not_found<AuthUserGetRequest>(server, at + "UserGet", kErrUserNotFound);
  add_not_found<AuthUserDeleteRequest>(server, at + "UserDelete", kErrUserNotFound);
  add_not_found<AuthUserChangePasswordRequest>(server, at + "UserChangePassword",
                                               kErrUserNotFound);
  add_not_found<AuthUserGrantRoleRequest>(server, at + "UserGrantRole", kErrUserNotFound);
  add_not_found<AuthUserRevokeRoleRequest>(server, at + "UserRevokeRole", kErrUserNotFound);
  add_not_found<AuthRoleGetRequest>(server, at + "RoleGet", kErrRoleNotFound);
  add_not_found<AuthRoleDeleteRequest>(server, at + "RoleDelete", kErrRoleNotFound);
  add_not_found<AuthRoleGrantPermissionRequest>(server, at + "RoleGrantPermission",
                                                kErrRoleNotFound);
  add_not_found<AuthRoleRevokePermissionRequest>(server, at + "RoleRevokePermission",
                                                 kErrRoleNotFound);
}

}  // namespace mgmt::store::server
