// peer_transport.cpp: see peer_transport.h.
#include "store/server/peer_transport.h"

#include "common/log.h"
#include "common/thread_name.h"
#include "store/raft/codec.h"
#include "store/server/store_server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

namespace mgmt::store::server {
namespace {

constexpr size_t kMaxQueued = 4096;
constexpr size_t kMaxBatch = 64;

// The refusal a removed member hears (receive() makes it; the sender and the stream act on it).
bool is_removal(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         s.error_message() == kErrMemberRemoved;
}

using Stream = grpc::ClientReaderWriter<mgmtraft::MessageBatch, mgmtraft::StreamNotice>;

}  // namespace

struct PeerTransport::Peer {
  raft::NodeId id = 0;
  std::mutex mutex;  // guards queue, stopping, context, stream_ended
  std::condition_variable wake;
  std::deque<raft::Message> queue;
  std::thread thread;
  bool stopping = false;
  // The open stream: its context (stop() cancels it, so that a write blocked on a peer that
  // stopped reading returns), the stream, its reader thread, and whether the reader saw its end.
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<Stream> stream;
  std::thread reader;
  bool stream_ended = false;
  // Owned by the sender thread.
  std::string url;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<mgmtraft::RaftPeer::Stub> stub;
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
      if (p->context) p->context->TryCancel();
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
  name_this_thread(fmt::format("peer-send-{:x}", peer.id));
  for (;;) {
    std::vector<raft::Message> batch;
    {
      std::unique_lock lock(peer.mutex);
      peer.wake.wait(lock, [&] { return peer.stopping || !peer.queue.empty(); });
      if (peer.stopping) break;
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
      if (!sent) {
        std::lock_guard lock(peer.mutex);
        if (peer.stopping) break;  // our own cancel, not the peer's failure
      }
      if (is_removal(status) && hooks_.removed) hooks_.removed();
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
      if (peer.stopping) break;
    }
  }
  (void)close_stream(peer, true);
}

grpc::Status PeerTransport::deliver(Peer& peer, const std::string& url,
                                    const std::vector<raft::Message>& batch) {
  if (url != peer.url || !peer.stub) {
    (void)close_stream(peer, true);
    auto address = listen_address(url);
    if (!address) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, address.error().message());
    }
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);
    args.SetMaxReceiveMessageSize(-1);
    // A peer that stops answering (paused, cut off) is noticed by pings, which end the stream
    // (and a write blocked on it).
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
    log::get("raft")->info("sending a snapshot at index {} ({} bytes) to member {:x}: it is "
                           "behind the compacted log",
                           batch[0].snapshot->meta.index, batch[0].snapshot->data.size(), peer.id);
    mgmtraft::SendAck ack;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return peer.stub->Send(&ctx, request, &ack);
  }
  if (peer.stream) {
    bool ended = false;
    {
      std::lock_guard lock(peer.mutex);
      ended = peer.stream_ended;
    }
    if (ended) {
      // The receiver ended the stream (a refusal, a restart): say why once, then open a new one.
      grpc::Status status = close_stream(peer, false);
      if (!status.ok()) return status;
    }
  }
  if (!peer.stream) open_stream(peer);
  if (peer.stream && peer.stream->Write(request)) return grpc::Status::OK;
  // The stream broke: its status says why (the peer's refusal, or the connection).
  grpc::Status status = close_stream(peer, false);
  if (status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the stream ended");
  return status;
}

void PeerTransport::open_stream(Peer& peer) {
  {
    std::lock_guard lock(peer.mutex);
    if (peer.stopping) return;
    peer.context = std::make_unique<grpc::ClientContext>();
    peer.stream_ended = false;
  }
  peer.stream = peer.stub->Stream(peer.context.get());
  peer.reader = std::thread([this, &peer, stream = peer.stream.get()] {
    name_this_thread(fmt::format("peer-read-{:x}", peer.id));
    mgmtraft::StreamNotice notice;
    while (stream->Read(&notice)) {
      if (notice.removed() && hooks_.removed) hooks_.removed();
    }
    std::lock_guard lock(peer.mutex);
    peer.stream_ended = true;
  });
}

grpc::Status PeerTransport::close_stream(Peer& peer, bool cancel) {
  if (!peer.stream) return grpc::Status::OK;
  if (cancel) {
    std::lock_guard lock(peer.mutex);
    peer.context->TryCancel();
  }
  // The reader ends with the call (a failed write means the call is over).
  if (peer.reader.joinable()) peer.reader.join();
  grpc::Status status = peer.stream->Finish();
  peer.stream.reset();
  std::lock_guard lock(peer.mutex);
  peer.context.reset();
  peer.stream_ended = false;
  return status;
}

grpc::Status PeerService::Send(grpc::ServerContext*, const mgmtraft::MessageBatch* batch,
                               mgmtraft::SendAck*) {
  return receive(*batch);
}

namespace {

// One incoming stream: reads a batch, hands it over, reads the next. Ends at the sender's end,
// or at the first refused batch: a member that was removed hears a notice first. Deletes
// itself when gRPC is done with it.
class StreamReceiver final
    : public grpc::ServerBidiReactor<mgmtraft::MessageBatch, mgmtraft::StreamNotice> {
 public:
  explicit StreamReceiver(PeerService& service) : service_(service) { StartRead(&batch_); }
  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);
    grpc::Status status = service_.receive(batch_);
    if (status.ok()) return StartRead(&batch_);
    if (is_removal(status)) {
      refusal_ = status;
      notice_.set_removed(true);
      return StartWrite(&notice_);
    }
    Finish(status);
  }
  void OnWriteDone(bool) override { Finish(refusal_); }
  void OnDone() override { delete this; }

 private:
  PeerService& service_;
  mgmtraft::MessageBatch batch_;
  mgmtraft::StreamNotice notice_;
  grpc::Status refusal_;
};

}  // namespace

grpc::ServerBidiReactor<mgmtraft::MessageBatch, mgmtraft::StreamNotice>* PeerService::Stream(
    grpc::CallbackServerContext*) {
  return new StreamReceiver(*this);
}

grpc::Status PeerService::receive(const mgmtraft::MessageBatch& batch) {
  if (batch.cluster_id() != cluster_id_) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "mgmt: message from another cluster (id mismatch)");
  }
  for (const auto& bytes : batch.messages()) {
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
