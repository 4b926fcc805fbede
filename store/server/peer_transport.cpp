// peer_transport.cpp: see peer_transport.h.
#include "store/server/peer_transport.h"

#include "store/server/grpc_lifetime.h"

#include "common/log.h"
#include "store/raft/codec.h"
#include "store/server/store_server.h"

#include <grpcpp/grpcpp.h>

#include <set>

namespace mgmt::store::server {
namespace {

constexpr size_t kMaxQueued = 4096;
constexpr int kMaxBatch = 64;
// After a stream to a peer failed, no new one is dialled for this long.
constexpr auto kRetryAfter = std::chrono::milliseconds(100);
// How often a peer's URL is looked up again (a member update may change it).
constexpr auto kUrlCheckEvery = std::chrono::seconds(1);

// The refusal a removed member hears (receive() makes it; the sender and the stream act on it).
bool is_removal(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         s.error_message() == kErrMemberRemoved;
}

}  // namespace

struct PeerTransport::Peer {
  raft::NodeId id = 0;
  // Touched only by send() (one caller at a time): the URL dialled, its channel and stub.
  std::string url;
  std::chrono::steady_clock::time_point url_checked;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<mgmtraft::RaftPeer::Stub> stub;

  std::mutex mutex;  // guards the rest
  PeerStream* stream = nullptr;  // the open stream; gRPC keeps it while it is set
  bool writing = false;           // the stream has a write in flight
  std::deque<raft::Message> queue;  // for the stream's next write
  std::chrono::steady_clock::time_point retry_at;  // no new stream before this
  bool reported_down = false;
  std::set<SnapshotCall*> snapshots;  // in flight
};

// One stream to a peer. It holds itself open (a hold) until retired, so that the peer can
// start writes on it under its mutex; once retired, gRPC ends it when its operations are done
// and OnDone deletes it.
class PeerTransport::PeerStream final
    : public grpc::ClientBidiReactor<mgmtraft::MessageBatch, mgmtraft::StreamNotice> {
 public:
  // peer.mutex held.
  PeerStream(PeerTransport& transport, Peer& peer)
      : transport_(transport), peer_(peer), url_(peer.url) {
    peer.stub->async()->Stream(&context_, this);
    AddHold();
    StartRead(&notice_);
    StartCall();
  }

  // Writes what is queued, up to a batch (peer.mutex held, no write in flight).
  void write_queued() {
    out_.Clear();
    out_.set_cluster_id(transport_.cluster_id_);
    while (!peer_.queue.empty() && out_.messages_size() < kMaxBatch) {
      out_.add_messages(raft::codec::encode(peer_.queue.front()));
      peer_.queue.pop_front();
    }
    peer_.writing = true;
    StartWrite(&out_);
  }

  // The peer writes no more on this stream (peer.mutex held). `cancel`: our own ending (stop,
  // a new URL), not the peer's failure; a failure drops what is queued and delays the next
  // stream.
  void retire(bool cancel) {
    if (retired_) return;
    retired_ = true;
    cancelled_ = cancel;
    if (peer_.stream == this) {
      peer_.stream = nullptr;
      peer_.writing = false;
      if (!cancel) {
        peer_.queue.clear();
        peer_.retry_at = std::chrono::steady_clock::now() + kRetryAfter;
      }
    }
    if (cancel) context_.TryCancel();
    RemoveHold();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(peer_.mutex);
    if (retired_) return;
    if (!ok) return retire(false);  // the call is over; its status comes with OnDone
    if (peer_.reported_down) {
      peer_.reported_down = false;
      log::get("raft")->info("peer {:x} reachable", peer_.id);
    }
    if (peer_.queue.empty()) {
      peer_.writing = false;
    } else {
      write_queued();
    }
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      if (notice_.removed() && transport_.hooks_.removed) transport_.hooks_.removed();
      return StartRead(&notice_);
    }
    std::lock_guard lock(peer_.mutex);
    retire(false);
  }

  void OnDone(const grpc::Status& status) override {
    bool cancelled = false;
    {
      std::lock_guard lock(peer_.mutex);
      cancelled = cancelled_;
    }
    transport_.ended(peer_, url_, status, cancelled, nullptr);
    transport_.call_done();  // the transport may be gone after this
    delete this;
  }

 private:
  PeerTransport& transport_;
  Peer& peer_;
  const std::string url_;
  grpc::ClientContext context_;
  mgmtraft::MessageBatch out_;
  mgmtraft::StreamNotice notice_;
  bool retired_ = false;  // guarded by peer_.mutex
  bool cancelled_ = false;
};

struct PeerTransport::SnapshotCall {
  grpc::ClientContext context;
  mgmtraft::MessageBatch request;
  mgmtraft::SendAck ack;
  std::string url;
  bool cancelled = false;  // guarded by the peer's mutex
};

PeerTransport::PeerTransport(uint64_t cluster_id, Hooks hooks)
    : cluster_id_(cluster_id), hooks_(std::move(hooks)) {
  keep_grpc_initialised();
}

PeerTransport::~PeerTransport() { stop(); }

void PeerTransport::stop() {
  std::vector<Peer*> peers;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& [id, p] : peers_) peers.push_back(p.get());
  }
  for (Peer* p : peers) {
    std::lock_guard lock(p->mutex);
    if (p->stream) p->stream->retire(true);
    for (SnapshotCall* call : p->snapshots) {
      call->cancelled = true;
      call->context.TryCancel();
    }
  }
  std::unique_lock lock(mutex_);
  calls_done_.wait(lock, [&] { return live_calls_ == 0; });
}

void PeerTransport::call_done() {
  std::lock_guard lock(mutex_);
  --live_calls_;
  calls_done_.notify_all();
}

void PeerTransport::connect(Peer& peer, const std::string& url) {
  peer.url = url;
  peer.channel.reset();
  peer.stub.reset();
  auto address = listen_address(url);
  if (!address) return;
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(-1);
  // A peer that stops answering (paused, cut off) is noticed by pings, which end the stream.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // A peer that comes back is dialled within a second, however long it was away (gRPC's
  // default backoff grows to two minutes).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  peer.channel = grpc::CreateCustomChannel(*address, grpc::InsecureChannelCredentials(), args);
  peer.stub = mgmtraft::RaftPeer::NewStub(peer.channel);
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
    }
    peer = slot.get();
  }
  const auto now = std::chrono::steady_clock::now();
  std::string url = peer->url;
  if (url.empty() || now - peer->url_checked >= kUrlCheckEvery) {
    url = hooks_.peer_url(m.to);
    peer->url_checked = now;
  }
  const bool snapshot = m.type == raft::MessageType::snapshot;
  {
    std::lock_guard lock(peer->mutex);
    if (url != peer->url) {
      if (peer->stream) peer->stream->retire(true);
      connect(*peer, url);
    }
    if (peer->stub && snapshot) return send_snapshot(*peer, m);
    if (peer->stub && !peer->stream && now >= peer->retry_at) {
      {
        std::lock_guard transport_lock(mutex_);
        if (stopped_) return;
        ++live_calls_;
      }
      peer->stream = new PeerStream(*this, *peer);
    }
    if (peer->stream) {
      if (peer->queue.size() >= kMaxQueued) peer->queue.pop_front();
      peer->queue.push_back(m);
      if (!peer->writing) peer->stream->write_queued();
      return;
    }
  }
  // No URL, or within the pause after a failure: dropped (Raft retransmits).
  if (snapshot) {
    hooks_.report(raft::Message{.type = raft::MessageType::snapshot_status, .from = m.to,
                                .reject = true});
  }
}

void PeerTransport::send_snapshot(Peer& peer, const raft::Message& m) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    ++live_calls_;
  }
  log::get("raft")->info("sending a snapshot at index {} ({} bytes) to member {:x}: it is "
                         "behind the compacted log",
                         m.snapshot->meta.index, m.snapshot->data.size(), peer.id);
  auto* call = new SnapshotCall;
  call->url = peer.url;
  call->request.set_cluster_id(cluster_id_);
  call->request.add_messages(raft::codec::encode(m));
  call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  peer.snapshots.insert(call);
  peer.stub->async()->Send(&call->context, &call->request, &call->ack,
                           [this, &peer, call](grpc::Status status) {
                             bool cancelled = false;
                             {
                               std::lock_guard lock(peer.mutex);
                               peer.snapshots.erase(call);
                               cancelled = call->cancelled;
                             }
                             const raft::Message sent{.type = raft::MessageType::snapshot,
                                                      .to = peer.id};
                             ended(peer, call->url, status, cancelled, &sent);
                             delete call;
                             call_done();
                           });
}

void PeerTransport::ended(Peer& peer, const std::string& url, const grpc::Status& status,
                          bool cancelled, const raft::Message* snapshot) {
  if (cancelled) return;
  if (is_removal(status) && hooks_.removed) hooks_.removed();
  if (snapshot != nullptr && status.ok()) return;
  bool first = false;
  {
    std::lock_guard lock(peer.mutex);
    first = !peer.reported_down;
    peer.reported_down = true;
  }
  if (first) {
    log::get("raft")->info("peer {:x} at {} unreachable: {}", peer.id, url,
                           status.ok() ? "the stream ended" : status.error_message());
  }
  if (snapshot != nullptr) {
    hooks_.report(raft::Message{.type = raft::MessageType::snapshot_status, .from = peer.id,
                                .reject = true});
  }
  hooks_.report(raft::Message{.type = raft::MessageType::unreachable, .from = peer.id});
}

namespace {

// One incoming stream, on the RPC server's I/O thread: each batch is handed over as it is read.
// Ends at the sender's end, or at the first refused batch (what follows it is ignored): a
// member that was removed hears a notice first. Deletes itself at OnDone.
class StreamReceiver final
    : public rpc::BidiReactor<mgmtraft::MessageBatch, mgmtraft::StreamNotice> {
 public:
  explicit StreamReceiver(PeerService& service) : service_(service) {}
  void OnRead(const mgmtraft::MessageBatch& batch) override {
    if (ending_) return;
    grpc::Status status = service_.receive(batch);
    if (status.ok()) return;
    ending_ = true;
    if (is_removal(status)) {
      refusal_ = status;
      mgmtraft::StreamNotice notice;
      notice.set_removed(true);
      return StartWrite(&notice);
    }
    Finish(status);
  }
  void OnWriteDone(bool) override { Finish(refusal_); }
  void OnHalfClose() override { end(); }
  void OnCancel() override { end(); }
  void OnDone() override { delete this; }

 private:
  void end() {
    if (ending_) return;  // Finish comes from OnWriteDone, or came already
    ending_ = true;
    Finish(grpc::Status::OK);
  }

  PeerService& service_;
  bool ending_ = false;  // Finish called or due (all on the I/O thread)
  grpc::Status refusal_;
};

}  // namespace

void PeerService::add_to(rpc::RpcServer& server) {
  server.add_unary<mgmtraft::MessageBatch>(
      "/mgmtraft.RaftPeer/Send", [this](const mgmtraft::MessageBatch& batch, rpc::Responder r) {
        const grpc::Status status = receive(batch);
        if (!status.ok()) return r.fail(status);
        r.finish(mgmtraft::SendAck());
      });
  server.add_bidi<mgmtraft::MessageBatch, mgmtraft::StreamNotice>(
      "/mgmtraft.RaftPeer/Stream",
      [this](const rpc::CallInfo&) { return new StreamReceiver(*this); });
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
