// cluster_service.cpp: etcd's Cluster service. This member serves alone until the Raft driver
// lands, so MemberList names it and membership changes are refused with UNIMPLEMENTED and a
// message saying why, rather than pretending.
#include "store/server/etcd_errors.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

grpc::Status membership_unavailable() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "mgmt: membership changes need the Raft-replicated store, which is not "
                      "built yet; this member serves alone");
}

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  explicit ClusterService(ServiceContext& context) : context_(context) {}

  grpc::Status MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse* response) override {
    context_.fill(response->mutable_header());
    auto* m = response->add_members();
    m->set_id(context_.backend.member_id());
    m->set_name(context_.member.name);
    for (const auto& u : context_.member.peer_urls) m->add_peerurls(u);
    for (const auto& u : context_.member.client_urls) m->add_clienturls(u);
    return grpc::Status::OK;
  }

  grpc::Status MemberAdd(grpc::ServerContext*, const etcdserverpb::MemberAddRequest*,
                         etcdserverpb::MemberAddResponse*) override {
    return membership_unavailable();
  }
  grpc::Status MemberRemove(grpc::ServerContext*, const etcdserverpb::MemberRemoveRequest* request,
                            etcdserverpb::MemberRemoveResponse*) override {
    if (request->id() != context_.backend.member_id()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    return membership_unavailable();
  }
  grpc::Status MemberUpdate(grpc::ServerContext*, const etcdserverpb::MemberUpdateRequest* request,
                            etcdserverpb::MemberUpdateResponse*) override {
    if (request->id() != context_.backend.member_id()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    return membership_unavailable();
  }
  grpc::Status MemberPromote(grpc::ServerContext*,
                             const etcdserverpb::MemberPromoteRequest* request,
                             etcdserverpb::MemberPromoteResponse*) override {
    if (request->id() != context_.backend.member_id()) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "etcdserver: can only promote a learner member");
  }

 private:
  ServiceContext& context_;
};

}  // namespace

std::unique_ptr<etcdserverpb::Cluster::Service> make_cluster_service(ServiceContext& context) {
  return std::make_unique<ClusterService>(context);
}

}  // namespace mgmt::store::server
