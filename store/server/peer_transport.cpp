// peer_transport.cpp: see peer_transport.h.
#include "store/server/peer_transport.h"

#include "common/log.h"
#include "store/raft/codec.h"
#include "store/server/store_server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

namespace mgmt::store::server {
namespace {

constexpr size_t kMaxQueued = 4096;
constexpr size_t kMaxBatch = 64;

}  // namespace

struct PeerTransport::Peer {
  raft::NodeId id = 0;
  std::mutex mutex;  // guards queue, stopping, stream_context (the sender thread owns the rest)
  std::condition_variable wake;
  std::deque<raft::Message> queue;
  std::thread thread;
  std::string url;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<mgmtraft::RaftPeer::Stub> stub;
  std::unique_ptr<grpc::ClientContext> stream_context;
  std::unique_ptr<grpc::ClientWriter<mgmtraft::MessageBatch>> stream;
  mgmtraft::SendAck stream_ack;
  bool stopping = false;
  bool reported_down = false;
};

PeerTransport::PeerTransport(uint64_t cluster_id, Hooks hooks)
    : cluster_id_(cluster_id), hooks_(std::move(hooks)) {}

PeerTransport::~PeerTransport() { stop(); }

void PeerTransport::stop() {
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    peers.swap(peers_);
  }
  for (auto& [id, p] : peers) {
    {
      std::lock_guard lock(p->mutex);
      p->stopping = true;
      // A write blocked on a peer that stopped reading returns at once.
      if (p->stream_context) p->stream_context->TryCancel();
    }
    p->wake.notify_all();
  }
  for (auto& [id, p] : peers) {
    if (p->thread.joinable()) p->thread.join();
  }
}

void PeerTransport::send(const raft::Message& m) {
  Peer* peer = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    auto& slot = peers_[m.to];
    if (!slot) {
      slot = std::make_unique<Peer>();
      slot->id = m.to;
      Peer* p = slot.get();
      p->thread = std::thread([this, p] { run(*p); });
    }
    peer = slot.get();
  }
  {
    std::lock_guard lock(peer->mutex);
    if (peer->queue.size() >= kMaxQueued) peer->queue.pop_front();
    peer->queue.push_back(m);
  }
  peer->wake.notify_one();
}

void PeerTransport::run(Peer& peer) {
  for (;;) {
    std::vector<raft::Message> batch;
    {
      std::unique_lock lock(peer.mutex);
      peer.wake.wait(lock, [&] { return peer.stopping || !peer.queue.empty(); });
      if (peer.stopping) return;
      while (!peer.queue.empty() && batch.size() < kMaxBatch) {
        const bool snap = peer.queue.front().type == raft::MessageType::snapshot;
        if (snap && !batch.empty()) break;  // a snapshot travels alone
        batch.push_back(std::move(peer.queue.front()));
        peer.queue.pop_front();
        if (snap) break;
      }
    }
    const std::string url = hooks_.peer_url(peer.id);
    bool sent = false;
    if (!url.empty()) {
      const grpc::Status status = deliver(peer, url, batch);
      sent = status.ok();
      if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
          status.error_message() == kErrMemberRemoved && hooks_.removed) {
        hooks_.removed();
      }
      if (!sent && !peer.reported_down) {
        log::get("raft")->info("peer {:x} at {} unreachable: {}", peer.id, url,
                               status.error_message());
      }
      if (sent && peer.reported_down) log::get("raft")->info("peer {:x} reachable", peer.id);
      peer.reported_down = !sent;
    }
    if (!sent) {
      for (const auto& m : batch) {
        if (m.type == raft::MessageType::snapshot) {
          hooks_.report(raft::Message{.type = raft::MessageType::snapshot_status,
                                      .from = m.to, .reject = true});
        }
      }
      hooks_.report(raft::Message{.type = raft::MessageType::unreachable, .from = peer.id});
      // Back off a little so a dead peer does not spin this thread.
      std::unique_lock lock(peer.mutex);
      peer.wake.wait_for(lock, std::chrono::milliseconds(100), [&] { return peer.stopping; });
      if (peer.stopping) {
        lock.unlock();
        close_stream(peer);
        return;
      }
    }
  }
}

grpc::Status PeerTransport::deliver(Peer& peer, const std::string& url,
                                    std::vector<raft::Message>& batch) {
  if (url != peer.url || !peer.stub) {
    close_stream(peer);
    auto address = listen_address(url);
    if (!address) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, address.error().message());
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);
    args.SetMaxReceiveMessageSize(-1);
    // A peer that stops answering (paused, cut off) is noticed by pings, which ends the stream.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    peer.channel = grpc::CreateCustomChannel(*address, grpc::InsecureChannelCredentials(), args);
    peer.stub = mgmtraft::RaftPeer::NewStub(peer.channel);
    peer.url = url;
  }
  mgmtraft::MessageBatch request;
  request.set_cluster_id(cluster_id_);
  for (const auto& m : batch) request.add_messages(raft::codec::encode(m));
  if (batch.size() == 1 && batch[0].type == raft::MessageType::snapshot) {
    mgmtraft::SendAck ack;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return peer.stub->Send(&ctx, request, &ack);
  }
  if (!peer.stream) {
    auto context = std::make_unique<grpc::ClientContext>();
    {
      std::lock_guard lock(peer.mutex);
      if (peer.stopping) return grpc::Status(grpc::StatusCode::CANCELLED, "stopping");
      peer.stream_context = std::move(context);
    }
    peer.stream = peer.stub->Stream(peer.stream_context.get(), &peer.stream_ack);
  }
  if (peer.stream->Write(request)) return grpc::Status::OK;
  // The stream broke: its status says why (the peer's refusal, or the connection).
  grpc::Status status = peer.stream->Finish();
  peer.stream.reset();
  close_stream(peer);
  if (status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the stream ended");
  return status;
}

void PeerTransport::close_stream(Peer& peer) {
  if (peer.stream) {
    peer.stream_context->TryCancel();
    (void)peer.stream->Finish();
    peer.stream.reset();
  }
  std::lock_guard lock(peer.mutex);
  peer.stream_context.reset();
}

grpc::Status PeerService::Send(grpc::ServerContext*, const mgmtraft::MessageBatch* batch,
                               mgmtraft::SendAck*) {
  return receive(*batch);
}

namespace {

// One incoming stream: reads a batch, hands it over, reads the next; ends at the sender's end
// or at the first refused batch. Deletes itself when gRPC is done with it.
class StreamReader final : public grpc::ServerReadReactor<mgmtraft::MessageBatch> {
 public:
  explicit StreamReader(PeerService& service) : service_(service) { StartRead(&batch_); }
  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    if (grpc::Status status = service_.receive(batch_); !status.ok()) return Finish(status);
    StartRead(&batch_);
  }
  void OnDone() override { delete this; }

 private:
  PeerService& service_;
  mgmtraft::MessageBatch batch_;
};

}  // namespace

grpc::ServerReadReactor<mgmtraft::MessageBatch>* PeerService::Stream(
    grpc::CallbackServerContext*, mgmtraft::SendAck*) {
  return new StreamReader(*this);
}

grpc::Status PeerService::receive(const mgmtraft::MessageBatch& batch_ref) {
  const mgmtraft::MessageBatch* batch = &batch_ref;
  if (batch->cluster_id() != cluster_id_) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "mgmt: message from another cluster (id mismatch)");
  }
  for (const auto& bytes : batch->messages()) {
    auto m = raft::codec::decode_message(bytes);
    if (!m) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, m.error().message());
    if (raft::is_local(m->type)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "mgmt: local message from a peer");
    }
    if (was_removed_ && was_removed_(m->from)) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kErrMemberRemoved);
    }
    deliver_(std::move(*m));
  }
  return grpc::Status::OK;
}

}  // namespace mgmt::store::server
