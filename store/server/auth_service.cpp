// auth_service.cpp: etcd's Auth service as etcd answers it with auth disabled: AuthStatus says
// so, Authenticate fails with etcd's "authentication is not enabled", AuthDisable is a no-op,
// and AuthEnable is refused because mgmt's store does not implement users and roles.
#include "store/server/etcd_errors.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

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
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "mgmt: the store does not implement users and roles; keep auth off and "
                        "protect the client port with the network");
  }

 private:
  ServiceContext& context_;
};

}  // namespace

void add_auth_service(ServiceContext& context, rpc::RpcServer& server) {
  auto service = std::make_shared<AuthService>(context);
  const std::string at = "/etcdserverpb.Auth/";
  add_blocking(server, at + "AuthStatus", service, &AuthService::AuthStatus);
  add_blocking(server, at + "Authenticate", service, &AuthService::Authenticate);
  add_blocking(server, at + "AuthDisable", service, &AuthService::AuthDisable);
  add_blocking(server, at + "AuthEnable", service, &AuthService::AuthEnable);
}

}  // namespace mgmt::store::server
