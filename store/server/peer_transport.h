// peer_transport.h: Raft messages between members over gRPC (proto/raft/peer.proto).
// Sending: one long-lived stream per peer (RaftPeer.Stream), on our own client connection
// (store/rpc/rpc_client.h) run on the member's I/O loop (store/rpc/event_loop.h), the loop
// that also serves its client and peer ports and runs most Raft rounds. send() queues a message
// for its peer (from whichever thread runs the round); dispatch() at the end of the round's
// sends writes what is queued to the sockets at once when the round runs on the loop, so that a
// leader's appends leave before its own disk sync; from another thread (the Raft thread's
// ticks) the loop is asked to write them (one hand-off). Up to 64 messages go in one batch;
// while more than 1 MiB waits for a peer's socket, messages wait in a queue of at most 4096
// (the oldest dropped: Raft retransmits). The stream reads the receiver's notices: "removed" is
// reported at once. A stream that ends (a refusal, a lost connection, an unanswered ping: a
// paused peer is noticed in 2-4 s) drops what was queued, reports the peer unreachable, and for
// 100 ms no new stream is started (messages meanwhile are dropped); the next message after that
// dials again. A snapshot goes alone in a Send call of its own (60 s deadline); if it fails, the
// core hears snapshot failed.
// Receiving: PeerService reads each stream on the RPC server's I/O thread and hands each message
// to a callback; messages from a member that was removed are refused with kErrMemberRemoved.
// Thread-safety: send() and dispatch() from one thread at a time (the round's), stop() from any
// but the loop's; the hooks are called on the loop's thread, never with a lock of ours held.
#pragma once

#include "store/raft/driver.h"
#include "store/rpc/event_loop.h"
#include "store/rpc/rpc_server.h"

#include "raft/peer.pb.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
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
  // On `loop` (the member's, started by its owner and stopped only after stop()); without one,
  // on a loop of its own.
  PeerTransport(uint64_t cluster_id, Hooks hooks, std::shared_ptr<rpc::EventLoop> loop = nullptr);
  ~PeerTransport() override;

  void send(raft::Message m) override;
  void dispatch() override;
  // When the connection to a peer came up (nullopt: not connected now, or never dialled), as
  // etcd's ActiveSince; from any thread.
  std::optional<std::chrono::steady_clock::time_point> active_since(raft::NodeId id) const;
  // Ends every stream and call (no hook is called for them) and waits until the loop has;
  // send() drops messages after.
  void stop();

 private:
  class Core;
  std::shared_ptr<Core> core_;
  std::shared_ptr<rpc::EventLoop> owned_loop_;  // when given none
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
