// cluster_service.cpp: etcd's Cluster service: the membership as applied through Raft.
// MemberList answers locally; MemberAdd/Remove/Update/Promote are membership changes the
// leader proposes, so a follower forwards them to the leader.
#include "store/server/etcd_errors.h"
#include "store/server/leader_forward.h"
#include "store/server/raft_host.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

void to_pb(const Backend::Member& m, etcdserverpb::Member* out) {
  out->set_id(m.id());
  out->set_name(m.name());
  for (const auto& u : m.peer_urls()) out->add_peerurls(u);
  for (const auto& u : m.client_urls()) out->add_clienturls(u);
  out->set_islearner(m.is_learner());
}

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  explicit ClusterService(ServiceContext& context) : context_(context) {}

  // As etcd 3.4's cluster server: cluster id, member id and raft term, no revision.
  void fill(etcdserverpb::ResponseHeader* header) const {
    context_.fill(header);
    header->clear_revision();
  }

  grpc::Status MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse* response) override {
    fill(response->mutable_header());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberAdd(grpc::ServerContext*, const etcdserverpb::MemberAddRequest* request,
                         etcdserverpb::MemberAddResponse* response) override {
    if (!leader()) {
      return forward([&](auto& stub, auto& ctx) { return stub.MemberAdd(&ctx, *request, response); });
    }
    std::vector<std::string> urls(request->peerurls().begin(), request->peerurls().end());
    if (urls.empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "etcdserver: a member needs at least one peer URL");
    }
    auto m = context_.backend.add_member(urls, request->islearner());
    if (!m) return to_status(m.error());
    fill(response->mutable_header());
    to_pb(*m, response->mutable_member());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberRemove(grpc::ServerContext*, const etcdserverpb::MemberRemoveRequest* request,
                            etcdserverpb::MemberRemoveResponse* response) override {
    if (!context_.backend.member(request->id())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    if (!leader()) {
      return forward(
          [&](auto& stub, auto& ctx) { return stub.MemberRemove(&ctx, *request, response); });
    }
    if (auto r = context_.backend.remove_member(request->id()); !r) return to_status(r.error());
    fill(response->mutable_header());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberUpdate(grpc::ServerContext*, const etcdserverpb::MemberUpdateRequest* request,
                            etcdserverpb::MemberUpdateResponse* response) override {
    if (!context_.backend.member(request->id())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    if (!leader()) {
      return forward(
          [&](auto& stub, auto& ctx) { return stub.MemberUpdate(&ctx, *request, response); });
    }
    std::vector<std::string> urls(request->peerurls().begin(), request->peerurls().end());
    if (auto r = context_.backend.update_member(request->id(), urls); !r) {
      return to_status(r.error());
    }
    fill(response->mutable_header());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberPromote(grpc::ServerContext*,
                             const etcdserverpb::MemberPromoteRequest* request,
                             etcdserverpb::MemberPromoteResponse* response) override {
    if (!context_.backend.member(request->id())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    if (!leader()) {
      return forward(
          [&](auto& stub, auto& ctx) { return stub.MemberPromote(&ctx, *request, response); });
    }
    if (auto r = context_.backend.promote_member(request->id()); !r) return to_status(r.error());
    fill(response->mutable_header());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

 private:
  bool leader() const { return context_.backend.is_leader(); }

  template <typename Call>
  grpc::Status forward(Call&& call) {
    const uint64_t lead = context_.host ? context_.host->leader_id() : 0;
    return forward_to_leader<etcdserverpb::Cluster>(context_.backend, lead,
                                                     std::forward<Call>(call));
  }

  void list(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* out) const {
    for (const auto& m : context_.backend.members()) to_pb(m, out->Add());
  }

  ServiceContext& context_;
};

}  // namespace

std::unique_ptr<etcdserverpb::Cluster::Service> make_cluster_service(ServiceContext& context) {
  return std::make_unique<ClusterService>(context);
}

}  // namespace mgmt::store::server
