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
  std::mutex mutex;  // guards queue, url
  std::condition_variable wake;
  std::deque<raft::Message> queue;
  std::thread thread;
  std::string url;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<mgmtraft::RaftPeer::Stub> stub;
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
      if (url != peer.url || !peer.stub) {
        auto address = listen_address(url);
        if (address) {
          grpc::ChannelArguments args;
          args.SetMaxSendMessageSize(-1);
          args.SetMaxReceiveMessageSize(-1);
          peer.channel = grpc::CreateCustomChannel(*address, grpc::InsecureChannelCredentials(),
                                                   args);
          peer.stub = mgmtraft::RaftPeer::NewStub(peer.channel);
          peer.url = url;
        }
      }
      if (peer.stub) {
        mgmtraft::MessageBatch request;
        request.set_cluster_id(cluster_id_);
        for (const auto& m : batch) request.add_messages(raft::codec::encode(m));
        mgmtraft::SendAck ack;
        grpc::ClientContext ctx;
        const bool big = batch.size() == 1 && batch[0].type == raft::MessageType::snapshot;
        ctx.set_deadline(std::chrono::system_clock::now() +
                         (big ? std::chrono::seconds(60) : std::chrono::seconds(2)));
        const grpc::Status status = peer.stub->Send(&ctx, request, &ack);
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
      if (peer.stopping) return;
    }
  }
}

grpc::Status PeerService::Send(grpc::ServerContext*, const mgmtraft::MessageBatch* batch,
                               mgmtraft::SendAck*) {
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
