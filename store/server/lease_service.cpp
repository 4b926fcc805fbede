// lease_service.cpp: etcd's Lease service. Grant and revoke go through the Backend's write
// path (Raft); keep-alive and time-to-live are answered by the leader, which alone keeps the
// deadlines: a follower forwards them to it. An unknown lease in TimeToLive answers TTL -1 and in
// KeepAlive TTL 0, as etcd 3.4 does.
#include <functional>
#include <memory>
#include <mutex>

#include "store/server/etcd_errors.h"
#include "store/server/grpc_lifetime.h"
#include "store/server/leader_forward.h"
#include "store/server/raft_host.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

using KeepAliveRequest = etcdserverpb::LeaseKeepAliveRequest;
using KeepAliveResponse = etcdserverpb::LeaseKeepAliveResponse;

// One keep-alive sent on to the leader, on a stream of its own with a deadline (gRPC's callback
// client API: no thread waits for the leader). `done` gets the leader's answer, or the status
// that says why there is none. Deletes itself when the call is over.
class ForwardedKeepAlive final
    : public grpc::ClientBidiReactor<KeepAliveRequest, KeepAliveResponse> {
 public:
  using Done = std::function<void(const grpc::Status&, const KeepAliveResponse&)>;

  static void start(std::shared_ptr<grpc::Channel> channel, const KeepAliveRequest& request,
                    Done done) {
    keep_grpc_initialised();  // gRPC 1.51 may abort when its last callback call's queue goes
    auto* f = new ForwardedKeepAlive(std::move(channel), request, std::move(done));
    f->stub_->async()->LeaseKeepAlive(&f->context_, f);
    f->StartWrite(&f->request_);
    f->StartRead(&f->response_);
    f->StartCall();
  }

  void OnWriteDone(bool ok) override {
    if (ok) StartWritesDone();  // the leader ends the stream once it has answered
  }
  void OnReadDone(bool ok) override { answered_ = ok; }
  void OnDone(const grpc::Status& status) override {
    if (status.ok() && !answered_) {
      done_(grpc::Status(grpc::StatusCode::UNAVAILABLE, "it ended the stream unanswered"),
            response_);
    } else {
      done_(status, response_);
    }
    delete this;
  }

 private:
  ForwardedKeepAlive(std::shared_ptr<grpc::Channel> channel, const KeepAliveRequest& request,
                     Done done)
      : stub_(etcdserverpb::Lease::NewStub(std::move(channel))),  // the stub keeps the channel
        request_(request),
        done_(std::move(done)) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  std::unique_ptr<etcdserverpb::Lease::Stub> stub_;
  grpc::ClientContext context_;
  KeepAliveRequest request_;
  KeepAliveResponse response_;
  bool answered_ = false;
  Done done_;
};

// One LeaseKeepAlive stream, driven by the RPC server's I/O thread: no thread of its own. Each
// request is answered in turn (the leader renews the lease; a follower sends it on to the leader
// and answers with the leader's answer). It ends when the client half-closes, cancels or
// leaves, or the leader cannot be reached (UNAVAILABLE, which clients retry); it finishes only
// once no write and no forwarded request is out, so OnDone never comes before an answer.
class KeepAliveStream final : public rpc::BidiReactor<KeepAliveRequest, KeepAliveResponse> {
 public:
  explicit KeepAliveStream(ServiceContext& context) : context_(context) {}

  void OnRead(const KeepAliveRequest& request) override {
    if (context_.backend.is_leader()) {
      auto ttl = context_.backend.lease_renew(request.id());
      KeepAliveResponse response;
      context_.fill(response.mutable_header());
      response.set_id(request.id());
      response.set_ttl(ttl ? *ttl : 0);
      std::lock_guard lock(mutex_);
      write_locked(response);
      return;
    }
    const uint64_t lead = context_.host ? context_.host->leader_id() : 0;
    auto channel = leader_channel(context_.backend, lead);
    {
      std::lock_guard lock(mutex_);
      if (finishing_) return;
      if (!channel) {
        finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE, channel.error().message()));
        return;
      }
      ++forwarding_;
    }
    // Started outside the lock: its answer takes it.
    ForwardedKeepAlive::start(
        *channel, request, [this](const grpc::Status& status, const KeepAliveResponse& r) {
          std::lock_guard done_lock(mutex_);
          --forwarding_;
          if (status.ok()) return write_locked(r);
          // Unreachable, timed out, or gone: clients retry UNAVAILABLE.
          finish_locked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                     "etcdserver: the leader did not answer the keep-alive (" +
                                         status.error_message() + "); retry"));
        });
  }

  // As etcd, a client that sends no more keep-alives ends the stream.
  void OnHalfClose() override {
    std::lock_guard lock(mutex_);
    finish_locked(grpc::Status::OK);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    --writing_;
    if (!ok || finishing_) finish_locked(grpc::Status::OK);
  }

  void OnCancel() override {
    std::lock_guard lock(mutex_);
    finish_locked(grpc::Status::OK);
  }

  void OnDone() override { delete this; }

 private:
  void write_locked(const KeepAliveResponse& response) {
    if (finishing_) return finish_locked(grpc::Status::OK);
    ++writing_;
    StartWrite(&response);
  }
  // Finishes the call once nothing is out (a write or a forwarded request); until then, the
  // one that comes back calls this again.
  void finish_locked(const grpc::Status& status) {
    if (!finishing_) {
      finishing_ = true;
      status_ = status;
    }
    if (writing_ > 0 || forwarding_ > 0 || finished_) return;
    finished_ = true;
    Finish(status_);
  }

  ServiceContext& context_;
  std::mutex mutex_;  // guards what follows
  int writing_ = 0;
  int forwarding_ = 0;
  bool finishing_ = false;
  bool finished_ = false;
  grpc::Status status_;
};

class LeaseService final {
 public:
  explicit LeaseService(ServiceContext& context) : context_(context) {}

  grpc::Status LeaseGrant(const etcdserverpb::LeaseGrantRequest* request,
                          etcdserverpb::LeaseGrantResponse* response) {
    auto info = context_.backend.lease_grant(request->id(), request->ttl());
    if (!info) return to_status(info.error());
    context_.fill(response->mutable_header());
    response->set_id(info->id);
    response->set_ttl(info->granted_ttl_seconds);
    return grpc::Status::OK;
  }

  grpc::Status LeaseRevoke(const etcdserverpb::LeaseRevokeRequest* request,
                           etcdserverpb::LeaseRevokeResponse* response) {
    auto revision = context_.backend.lease_revoke(request->id());
    if (!revision) return to_status(revision.error());
    context_.fill(response->mutable_header(), *revision);
    return grpc::Status::OK;
  }

  grpc::Status LeaseTimeToLive(const etcdserverpb::LeaseTimeToLiveRequest* request,
                               etcdserverpb::LeaseTimeToLiveResponse* response) {
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

  grpc::Status LeaseLeases(const etcdserverpb::LeaseLeasesRequest*,
                           etcdserverpb::LeaseLeasesResponse* response) {
    context_.fill(response->mutable_header());
    for (auto id : context_.backend.lessor().list()) response->add_leases()->set_id(id);
    return grpc::Status::OK;
  }

 private:
  ServiceContext& context_;
};

}  // namespace

void add_lease_service(ServiceContext& context, rpc::RpcServer& server) {
  auto service = std::make_shared<LeaseService>(context);
  const std::string at = "/etcdserverpb.Lease/";
  add_blocking(server, at + "LeaseGrant", service, &LeaseService::LeaseGrant);
  add_blocking(server, at + "LeaseRevoke", service, &LeaseService::LeaseRevoke);
  add_blocking(server, at + "LeaseTimeToLive", service, &LeaseService::LeaseTimeToLive);
  add_blocking(server, at + "LeaseLeases", service, &LeaseService::LeaseLeases);
  server.add_bidi<KeepAliveRequest, KeepAliveResponse>(
      at + "LeaseKeepAlive",
      [&context](const rpc::CallInfo&) { return new KeepAliveStream(context); });
}

}  // namespace mgmt::store::server
