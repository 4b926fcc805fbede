// auth_service.cpp: etcd's Auth service as etcd answers it with auth disabled: AuthStatus says
// so, Authenticate fails with etcd's "authentication is not enabled", AuthDisable is a no-op,
// and AuthEnable is refused because mgmt's store does not implement users and roles.
#include "store/server/etcd_errors.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

class AuthService final : public etcdserverpb::Auth::Service {
 public:
  explicit AuthService(ServiceContext& context) : context_(context) {}

  grpc::Status AuthStatus(grpc::ServerContext*, const etcdserverpb::AuthStatusRequest*,
                          etcdserverpb::AuthStatusResponse* response) override {
    context_.fill(response->mutable_header());
    response->set_enabled(false);
    return grpc::Status::OK;
  }
  grpc::Status Authenticate(grpc::ServerContext*, const etcdserverpb::AuthenticateRequest*,
                            etcdserverpb::AuthenticateResponse*) override {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kErrAuthNotEnabled);
  }
  grpc::Status AuthDisable(grpc::ServerContext*, const etcdserverpb::AuthDisableRequest*,
                           etcdserverpb::AuthDisableResponse* response) override {
    context_.fill(response->mutable_header());
    return grpc::Status::OK;
  }
  grpc::Status AuthEnable(grpc::ServerContext*, const etcdserverpb::AuthEnableRequest*,
                          etcdserverpb::AuthEnableResponse*) override {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "mgmt: the store does not implement users and roles; keep auth off and "
                        "protect the client port with the network");
  }

 private:
  ServiceContext& context_;
};

}  // namespace

std::unique_ptr<etcdserverpb::Auth::Service> make_auth_service(ServiceContext& context) {
  return std::make_unique<AuthService>(context);
}

}  // namespace mgmt::store::server
