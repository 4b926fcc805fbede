// peer_transport.h: Raft messages between members over gRPC (proto/raft/peer.proto).
// Sending: one long-lived stream per peer (RaftPeer.Stream) on gRPC's callback client API, so
// that a message costs a frame, not a call, and no thread waits on the network. send() (whoever
// runs the Raft host's round) starts a write when none is in flight; what is sent meanwhile
// queues, and the write's completion sends it as one batch. The stream reads the receiver's
// notices: a refusal ends the stream, and "removed" is reported at once. A stream that ends (a
// failed write, the peer's refusal, a lost connection) drops what was queued (Raft
// retransmits), reports the peer unreachable, and for 100 ms no new stream is dialled (messages
// meanwhile are dropped); the next send() after that dials again. A full queue drops the oldest
// messages. A snapshot goes alone in a Send call of its own; if it fails, the core hears
// snapshot failed.
// Receiving: PeerService reads each stream with gRPC's callback API and hands each message to a
// callback; messages from a member that was removed are refused with kErrMemberRemoved.
// Thread-safety: send() from one thread at a time (the Raft host's round); stop() from any; the
// hooks are called from gRPC's threads (and report() also from send()), never with a lock of
// ours held.
#pragma once

#include "store/raft/driver.h"
#include "store/rpc/rpc_server.h"

#include "raft/peer.grpc.pb.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace mgmt::store::server {

class PeerTransport : public raft::Transport {
 public:
  struct Hooks {
    // The peer URL of a member (empty when unknown).
    std::function<std::string(raft::NodeId)> peer_url;
    // Delivery failed: the core should hear unreachable / snapshot failed (a local message).
    std::function<void(const raft::Message&)> report;
    // A peer answered that this member was removed from the cluster.
    std::function<void()> removed;
  };
  PeerTransport(uint64_t cluster_id, Hooks hooks);
  ~PeerTransport() override;

  void send(const raft::Message& m) override;
  // Cancels every call and waits until gRPC is done with them; send() drops messages after.
  void stop();

 private:
  struct Peer;
  class PeerStream;
  struct SnapshotCall;
  // The peer's stub for `url`, made anew when the URL changed (peer.mutex held).
  void connect(Peer& peer, const std::string& url);
  void send_snapshot(Peer& peer, const raft::Message& m);
  // What a stream or snapshot call that ended tells the core and the log (no lock held).
  void ended(Peer& peer, const std::string& url, const grpc::Status& status, bool cancelled,
             const raft::Message* snapshot);
  void call_done();

  uint64_t cluster_id_;
  Hooks hooks_;
  std::mutex mutex_;  // guards peers_, stopped_, live_calls_
  std::condition_variable calls_done_;
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers_;
  bool stopped_ = false;
  int live_calls_ = 0;  // streams and snapshot calls gRPC has not finished with
};

// Served by our RPC server (store/rpc/rpc_server.h) on the peer URLs: a batch is handed over on
// its I/O thread, as it was read, with no thread parked per stream; so is a snapshot (Send).
class PeerService final {
 public:
  // `was_removed`: whether a sender was removed from the cluster (it is told so, once per
  // batch, with kErrMemberRemoved).
  PeerService(uint64_t cluster_id, std::function<void(raft::Message)> deliver,
              std::function<bool(uint64_t)> was_removed = nullptr)
      : cluster_id_(cluster_id),
        deliver_(std::move(deliver)),
        was_removed_(std::move(was_removed)) {}
  // Registers Send and Stream on `server` (before it starts); this outlives it.
  void add_to(rpc::RpcServer& server);

  // Checks a batch and hands its messages over; an error status refuses the rest.
  grpc::Status receive(const mgmtraft::MessageBatch& batch);

 private:
  uint64_t cluster_id_;
  std::function<void(raft::Message)> deliver_;
  std::function<bool(uint64_t)> was_removed_;
};

// What a removed member hears from its former peers (etcd's words).
inline constexpr const char* kErrMemberRemoved =
    "the member has been permanently removed from the cluster";

}  // namespace mgmt::store::server
