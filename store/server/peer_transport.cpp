// peer_transport.cpp: see peer_transport.h.
// The sender's state is a Core shared with the jobs it posts to the loop and the handlers of its
// connections, so that a job that runs after the transport is gone finds it stopped. Per peer,
// `incoming` (under the peer's mutex) is what send() queued; everything else is the loop's.
#include "store/server/peer_transport.h"

#include "common/log.h"
#include "store/raft/codec.h"
#include "store/rpc/grpc_wire.h"
#include "store/rpc/rpc_client.h"
#include "store/server/store_server.h"

#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace mgmt::store::server {
namespace {

constexpr std::size_t kMaxQueued = 4096;
constexpr int kMaxBatch = 64;
// While this much of a stream waits for the socket, messages wait in the peer's queue.
constexpr std::size_t kMaxPendingBytes = 1 << 20;
// After a stream to a peer failed, no new one is started for this long.
constexpr auto kRetryAfter = std::chrono::milliseconds(100);
// How often a peer's URL is looked up again (a member update may change it).
constexpr auto kUrlCheckEvery = std::chrono::seconds(1);
constexpr auto kSnapshotDeadline = std::chrono::seconds(60);
constexpr const char* kStreamPath = "/mgmtraft.RaftPeer/Stream";
constexpr const char* kSendPath = "/mgmtraft.RaftPeer/Send";

// The refusal a removed member hears (receive() makes it; the sender and the stream act on it).
bool is_removal(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
         s.error_message() == kErrMemberRemoved;
}

}  // namespace

class PeerTransport::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(uint64_t cluster_id, Hooks hooks, std::shared_ptr<rpc::EventLoop> loop)
      : cluster_id_(cluster_id), hooks_(std::move(hooks)), loop_(std::move(loop)) {}

  void send(raft::Message m);
  void dispatch();
  std::optional<std::chrono::steady_clock::time_point> active_since(raft::NodeId id);
  void stop();

 private:
  struct Peer {
    raft::NodeId id = 0;
    // send()'s (one caller at a time): the URL last looked up, and when.
    std::string url_seen;
    std::chrono::steady_clock::time_point url_checked;

    std::mutex mutex;  // guards incoming, wanted_url, scheduled
    std::vector<raft::Message> incoming;
    std::string wanted_url;
    bool scheduled = false;  // a pump of this peer is due on the loop

    // The loop's.
    std::string url;  // the connection's
    std::shared_ptr<rpc::ClientConnection> connection;
    rpc::ClientConnection::CallId stream = 0;
    std::deque<raft::Message> queue;  // for the stream, while its socket is behind
    std::chrono::steady_clock::time_point retry_at;
    bool reported_down = false;
    // When the connection came up (steady clock, ns); 0 while there is none. Read anywhere.
    std::atomic<int64_t> active_since_ns{0};
  };

  Peer& peer(raft::NodeId id);
  // Loop: takes what send() queued for the peer and writes it.
  void pump(Peer& p);
  void pump_due();
  // Loop: a connection to the peer's URL, dialled unless within the pause after a failure.
  bool connect(Peer& p);
  bool start_stream(Peer& p);
  void write_queued(Peer& p);
  // Loop: encodes a snapshot on a thread of its own (it copies the whole store three times:
  // the message, the batch, the gRPC frame), so that the loop goes on serving the ports and the
  // other peers meanwhile; then, back on the loop, sends it in a call of its own.
  void send_snapshot(Peer& p, raft::Message m);
  void start_snapshot_call(Peer& p, std::string framed);
  // Loop: a stream or snapshot call that ended, not by our own doing.
  void stream_ended(Peer& p, rpc::ClientConnection::CallId call, const grpc::Status& status);
  void failed(Peer& p, const grpc::Status& status, bool snapshot);

  const uint64_t cluster_id_;
  const Hooks hooks_;
  const std::shared_ptr<rpc::EventLoop> loop_;
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;  // guards peers_ (the map; a Peer lives as long as the Core)
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers_;
  std::vector<Peer*> due_;  // the loop's: peers with a pump due (dispatch() runs them)
  struct Encoder {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex encoders_mutex_;  // guards encoders_
  std::vector<Encoder> encoders_;  // snapshots being encoded; the next one or stop() joins them
};

PeerTransport::Core::Peer& PeerTransport::Core::peer(raft::NodeId id) {
  std::lock_guard lock(mutex_);
  auto& slot = peers_[id];
  if (!slot) {
    slot = std::make_unique<Peer>();
    slot->id = id;
  }
  return *slot;
}

void PeerTransport::Core::send(raft::Message m) {
  if (stopped_) return;
  Peer& p = peer(m.to);
  const auto now = std::chrono::steady_clock::now();
  if (p.url_seen.empty() || now - p.url_checked >= kUrlCheckEvery) {
    p.url_seen = hooks_.peer_url(m.to);
    p.url_checked = now;
  }
  bool post = false;
  {
    std::lock_guard lock(p.mutex);
    if (p.incoming.size() >= kMaxQueued) p.incoming.erase(p.incoming.begin());
    p.incoming.push_back(std::move(m));
    p.wanted_url = p.url_seen;
    post = !p.scheduled;
    p.scheduled = true;
  }
  if (!post) return;
  if (loop_->on_this_thread()) {
    // dispatch() at the end of the round writes it; the posted job is for a round that ends
    // without one.
    due_.push_back(&p);
  }
  loop_->post([core = shared_from_this(), &p] { core->pump(p); });
}

void PeerTransport::Core::dispatch() {
  if (loop_->on_this_thread()) pump_due();
}

void PeerTransport::Core::pump_due() {
  auto due = std::move(due_);
  due_.clear();
  for (Peer* p : due) pump(*p);
}

void PeerTransport::Core::pump(Peer& p) {
  std::vector<raft::Message> taken;
  std::string url;
  {
    std::lock_guard lock(p.mutex);
    taken.swap(p.incoming);
    url = p.wanted_url;
    p.scheduled = false;
  }
  if (stopped_ || taken.empty()) return;
  if (url != p.url) {
    // A new URL (a member update): the old connection goes, without reports.
    if (auto old = std::move(p.connection)) {
      p.stream = 0;
      p.active_since_ns = 0;
      old->close(grpc::Status(grpc::StatusCode::CANCELLED, "the peer's URL changed"));
    }
    p.url = url;
    p.retry_at = {};
  }
  for (raft::Message& m : taken) {
    if (m.type == raft::MessageType::snapshot) {
      send_snapshot(p, std::move(m));
      continue;
    }
    if (p.queue.size() >= kMaxQueued) p.queue.pop_front();
    p.queue.push_back(std::move(m));
  }
  if (p.queue.empty()) return;
  if (!start_stream(p)) {
    p.queue.clear();  // no URL, or within the pause after a failure: Raft retransmits
    return;
  }
  write_queued(p);
  p.connection->flush();
}

bool PeerTransport::Core::connect(Peer& p) {
  if (p.connection && !p.connection->closed()) return true;
  p.connection.reset();
  p.stream = 0;
  if (std::chrono::steady_clock::now() < p.retry_at) return false;
  auto address = listen_address(p.url);
  if (!address) return false;
  const HostPort hp = split_listen_address(*address);
  rpc::ClientOptions options;
  options.on_connected = [weak = weak_from_this(), &p] {
    auto core = weak.lock();
    if (!core || core->stopped_) return;
    p.active_since_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    if (!p.reported_down) return;
    p.reported_down = false;
    log::get("raft")->info("peer {:x} reachable", p.id);
  };
  p.connection = rpc::ClientConnection::open(*loop_, hp.host, hp.port, std::move(options));
  return true;
}

bool PeerTransport::Core::start_stream(Peer& p) {
  if (p.stream != 0 && p.connection && !p.connection->closed()) return true;
  if (!connect(p)) return false;
  rpc::CallHandlers handlers;
  std::weak_ptr<Core> weak = weak_from_this();
  handlers.on_message = [weak](const std::string& bytes) {
    auto core = weak.lock();
    if (!core || core->stopped_) return;
    mgmtraft::StreamNotice notice;
    if (notice.ParseFromString(bytes) && notice.removed() && core->hooks_.removed) {
      core->hooks_.removed();
    }
  };
  handlers.on_drained = [weak, &p] {
    auto core = weak.lock();
    if (!core || core->stopped_ || p.stream == 0) return;
    core->write_queued(p);
  };
  // The call's id is known only once started: the handler finds it through `id`.
  auto id = std::make_shared<rpc::ClientConnection::CallId>(0);
  handlers.on_close = [weak, &p, id](const grpc::Status& status) {
    auto core = weak.lock();
    if (!core || core->stopped_) return;
    core->stream_ended(p, *id, status);
  };
  p.stream = p.connection->start_call(kStreamPath, std::move(handlers));
  *id = p.stream;
  return p.stream != 0;
}

void PeerTransport::Core::write_queued(Peer& p) {
  while (!p.queue.empty() && p.connection->pending(p.stream) < kMaxPendingBytes) {
    mgmtraft::MessageBatch batch;
    batch.set_cluster_id(cluster_id_);
    while (!p.queue.empty() && batch.messages_size() < kMaxBatch) {
      batch.add_messages(raft::codec::encode(p.queue.front()));
      p.queue.pop_front();
    }
    p.connection->write(p.stream, batch.SerializeAsString());
  }
}

void PeerTransport::Core::send_snapshot(Peer& p, raft::Message m) {
  if (!connect(p)) {
    return hooks_.report(raft::Message{.type = raft::MessageType::snapshot_status, .from = p.id,
                                       .reject = true});
  }
  log::get("raft")->info("sending a snapshot at index {} ({} bytes) to member {:x}: it is "
                         "behind the compacted log",
                         m.snapshot->meta.index, m.snapshot->data.size(), p.id);
  std::lock_guard lock(encoders_mutex_);
  if (stopped_) return;
  std::erase_if(encoders_, [](Encoder& e) {
    if (!*e.done) return false;
    e.thread.join();
    return true;
  });
  auto done = std::make_shared<std::atomic<bool>>(false);
  // A Peer lives as long as the Core, which the job holds only weakly.
  std::thread thread([weak = weak_from_this(), &p, cluster = cluster_id_, m = std::move(m),
                      done]() mutable {
    struct Done {
      std::atomic<bool>& flag;
      ~Done() { flag = true; }
    } mark{*done};
    std::string framed;
    {
      mgmtraft::MessageBatch request;
      request.set_cluster_id(cluster);
      request.add_messages(raft::codec::encode(m));
      m = raft::Message{};
      framed = rpc::frame_message(request.SerializeAsString());
    }
    auto core = weak.lock();
    if (!core || core->stopped_) return;
    core->loop_->post([weak, &p, framed = std::move(framed)]() mutable {
      auto on_loop = weak.lock();
      if (on_loop && !on_loop->stopped_) on_loop->start_snapshot_call(p, std::move(framed));
    });
  });
  encoders_.push_back(Encoder{std::move(thread), std::move(done)});
}

void PeerTransport::Core::start_snapshot_call(Peer& p, std::string framed) {
  if (!connect(p)) {
    return hooks_.report(raft::Message{.type = raft::MessageType::snapshot_status, .from = p.id,
                                       .reject = true});
  }
  rpc::CallHandlers handlers;
  handlers.on_close = [weak = weak_from_this(), &p](const grpc::Status& status) {
    auto core = weak.lock();
    if (!core || core->stopped_) return;
    if (is_removal(status) && core->hooks_.removed) core->hooks_.removed();
    if (!status.ok()) core->failed(p, status, true);
  };
  const auto call = p.connection->start_call(
      kSendPath, std::move(handlers), std::chrono::steady_clock::now() + kSnapshotDeadline);
  if (call == 0) {
    return hooks_.report(raft::Message{.type = raft::MessageType::snapshot_status, .from = p.id,
                                       .reject = true});
  }
  p.connection->write_framed(call, std::move(framed), true);
  p.connection->flush();
}

void PeerTransport::Core::stream_ended(Peer& p, rpc::ClientConnection::CallId call,
                                       const grpc::Status& status) {
  if (call == 0 || p.stream != call) return;  // one we ended ourselves
  p.stream = 0;
  p.active_since_ns = 0;
  p.queue.clear();
  p.retry_at = std::chrono::steady_clock::now() + kRetryAfter;
  if (is_removal(status) && hooks_.removed) hooks_.removed();
  failed(p, status, false);
}

void PeerTransport::Core::failed(Peer& p, const grpc::Status& status, bool snapshot) {
  if (!p.reported_down) {
    p.reported_down = true;
    log::get("raft")->info("peer {:x} at {} unreachable: {}", p.id, p.url,
                           status.ok() ? "the stream ended" : status.error_message());
  }
  if (snapshot) {
    hooks_.report(raft::Message{.type = raft::MessageType::snapshot_status, .from = p.id,
                                .reject = true});
  }
  hooks_.report(raft::Message{.type = raft::MessageType::unreachable, .from = p.id});
}

void PeerTransport::Core::stop() {
  if (stopped_.exchange(true)) return;
  std::vector<Encoder> encoders;
  {
    std::lock_guard lock(encoders_mutex_);
    encoders.swap(encoders_);
  }
  for (auto& e : encoders) e.thread.join();  // they post nothing once stopped
  auto end_all = [core = shared_from_this()] {
    std::vector<Peer*> peers;
    {
      std::lock_guard lock(core->mutex_);
      for (auto& [id, p] : core->peers_) peers.push_back(p.get());
    }
    for (Peer* p : peers) {
      p->stream = 0;
      p->queue.clear();
      if (auto connection = std::move(p->connection)) {
        connection->close(grpc::Status(grpc::StatusCode::CANCELLED, "the member is stopping"));
      }
    }
    core->due_.clear();
  };
  if (loop_->on_this_thread() || !loop_->running()) return end_all();
  std::promise<void> ended;
  loop_->post([&] {
    end_all();
    ended.set_value();
  });
  ended.get_future().wait();
}

PeerTransport::PeerTransport(uint64_t cluster_id, Hooks hooks,
                             std::shared_ptr<rpc::EventLoop> loop) {
  const bool own = !loop;
  if (own) loop = std::make_shared<rpc::EventLoop>();
  core_ = std::make_shared<Core>(cluster_id, std::move(hooks), loop);
  if (own) {
    loop->start();
    owned_loop_ = loop;
  }
}

PeerTransport::~PeerTransport() { stop(); }

std::optional<std::chrono::steady_clock::time_point> PeerTransport::Core::active_since(
    raft::NodeId id) {
  std::lock_guard lock(mutex_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return std::nullopt;
  const int64_t ns = it->second->active_since_ns.load();
  if (ns == 0) return std::nullopt;
  return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ns));
}

void PeerTransport::send(raft::Message m) { core_->send(std::move(m)); }
std::optional<std::chrono::steady_clock::time_point> PeerTransport::active_since(
    raft::NodeId id) const {
  return core_->active_since(id);
}
void PeerTransport::dispatch() { core_->dispatch(); }

void PeerTransport::stop() {
  core_->stop();
  if (owned_loop_) owned_loop_->stop();
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
