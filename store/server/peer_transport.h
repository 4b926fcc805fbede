// peer_transport.h: Raft messages between members over gRPC (proto/raft/peer.proto). One
// sender thread per peer drains that peer's queue into batched Send calls, so the Raft thread
// never blocks on the network. A failed send drops the batch (Raft retransmits) and reports the
// peer unreachable (and a snapshot as failed); a full queue drops the oldest messages.
// The receiving side is PeerService, which hands each message to a callback.
// Thread-safety: send() from the Raft thread; everything else is internal.
#pragma once

#include "store/raft/driver.h"

#include "raft/peer.grpc.pb.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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
  void stop();

 private:
  struct Peer;
  void run(Peer& peer);

  uint64_t cluster_id_;
  Hooks hooks_;
  std::mutex mutex_;  // guards peers_, stopped_
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers_;
  bool stopped_ = false;
};

class PeerService final : public mgmtraft::RaftPeer::Service {
 public:
  // `was_removed`: whether a sender was removed from the cluster (it is told so, once per
  // batch, with kErrMemberRemoved).
  PeerService(uint64_t cluster_id, std::function<void(raft::Message)> deliver,
              std::function<bool(uint64_t)> was_removed = nullptr)
      : cluster_id_(cluster_id),
        deliver_(std::move(deliver)),
        was_removed_(std::move(was_removed)) {}
  grpc::Status Send(grpc::ServerContext*, const mgmtraft::MessageBatch* batch,
                    mgmtraft::SendAck*) override;

 private:
  uint64_t cluster_id_;
  std::function<void(raft::Message)> deliver_;
  std::function<bool(uint64_t)> was_removed_;
};

// What a removed member hears from its former peers (etcd's words).
inline constexpr const char* kErrMemberRemoved =
    "the member has been permanently removed from the cluster";

}  // namespace mgmt::store::server
