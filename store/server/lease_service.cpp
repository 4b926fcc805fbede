// lease_service.cpp: etcd's Lease service. Grant and revoke go through the Backend's write
// path (Raft); keep-alive and time-to-live are answered by the leader, which alone keeps the
// deadlines: a follower forwards them to it. An unknown lease in TimeToLive answers TTL -1 and in
// KeepAlive TTL 0, as etcd 3.4 does.
#include "store/server/etcd_errors.h"
#include "store/server/leader_forward.h"
#include "store/server/raft_host.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

class LeaseService final : public etcdserverpb::Lease::Service {
 public:
  explicit LeaseService(ServiceContext& context) : context_(context) {}

  grpc::Status LeaseGrant(grpc::ServerContext*, const etcdserverpb::LeaseGrantRequest* request,
                          etcdserverpb::LeaseGrantResponse* response) override {
    auto info = context_.backend.lease_grant(request->id(), request->ttl());
    if (!info) return to_status(info.error());
    context_.fill(response->mutable_header());
    response->set_id(info->id);
    response->set_ttl(info->granted_ttl_seconds);
    return grpc::Status::OK;
  }

  grpc::Status LeaseRevoke(grpc::ServerContext*, const etcdserverpb::LeaseRevokeRequest* request,
                           etcdserverpb::LeaseRevokeResponse* response) override {
    auto revision = context_.backend.lease_revoke(request->id());
    if (!revision) return to_status(revision.error());
    context_.fill(response->mutable_header(), *revision);
    return grpc::Status::OK;
  }

  grpc::Status LeaseKeepAlive(grpc::ServerContext*,
                              grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse,
                                                       etcdserverpb::LeaseKeepAliveRequest>*
                                  stream) override {
    etcdserverpb::LeaseKeepAliveRequest request;
    // A stream to the leader, opened when this member is not the leader.
    std::unique_ptr<etcdserverpb::Lease::Stub> stub;
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                             etcdserverpb::LeaseKeepAliveResponse>> upstream;
    uint64_t upstream_leader = 0;
    while (!context_.stopping && stream->Read(&request)) {
      etcdserverpb::LeaseKeepAliveResponse response;
      if (context_.backend.is_leader()) {
        upstream.reset();
        auto ttl = context_.backend.lease_renew(request.id());
        context_.fill(response.mutable_header());
        response.set_id(request.id());
        response.set_ttl(ttl ? *ttl : 0);
      } else {
        const uint64_t lead = context_.host ? context_.host->leader_id() : 0;
        if (!upstream || upstream_leader != lead) {
          upstream.reset();
          auto channel = leader_channel(context_.backend, lead);
          if (!channel) return grpc::Status(grpc::StatusCode::UNAVAILABLE, channel.error().message());
          stub = etcdserverpb::Lease::NewStub(*channel);
          ctx = std::make_unique<grpc::ClientContext>();
          upstream = stub->LeaseKeepAlive(ctx.get());
          upstream_leader = lead;
        }
        if (!upstream->Write(request) || !upstream->Read(&response)) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "etcdserver: the leader did not answer the keep-alive; retry");
        }
      }
      if (!stream->Write(response)) break;
    }
    if (upstream) {
      upstream->WritesDone();
      ctx->TryCancel();
    }
    return grpc::Status::OK;
  }

  grpc::Status LeaseTimeToLive(grpc::ServerContext*,
                               const etcdserverpb::LeaseTimeToLiveRequest* request,
                               etcdserverpb::LeaseTimeToLiveResponse* response) override {
    if (!context_.backend.is_leader()) {
      const uint64_t lead = context_.host ? context_.host->leader_id() : 0;
      return forward_to_leader<etcdserverpb::Lease>(
          context_.backend, lead,
          [&](auto& stub, auto& ctx) { return stub.LeaseTimeToLive(&ctx, *request, response); });
    }
    context_.fill(response->mutable_header());
    response->set_id(request->id());
    auto info = context_.backend.lease_time_to_live(request->id(), request->keys());
    if (!info) {
      response->set_ttl(-1);
      return grpc::Status::OK;
    }
    response->set_ttl(info->ttl_seconds);
    response->set_grantedttl(info->granted_ttl_seconds);
    for (const auto& key : info->keys) response->add_keys(key);
    return grpc::Status::OK;
  }

  grpc::Status LeaseLeases(grpc::ServerContext*, const etcdserverpb::LeaseLeasesRequest*,
                           etcdserverpb::LeaseLeasesResponse* response) override {
    context_.fill(response->mutable_header());
    for (auto id : context_.backend.lessor().list()) response->add_leases()->set_id(id);
    return grpc::Status::OK;
  }

 private:
  ServiceContext& context_;
};

}  // namespace

std::unique_ptr<etcdserverpb::Lease::Service> make_lease_service(ServiceContext& context) {
  return std::make_unique<LeaseService>(context);
}

}  // namespace mgmt::store::server
