// peer_transport.h: Raft messages between members over gRPC (proto/raft/peer.proto).
// Sending: one sender thread per peer drains that peer's queue into batches written to one
// long-lived stream (RaftPeer.Stream), so the Raft thread never blocks on the network and a
// message costs a frame, not a call; a snapshot goes alone in a Send call. A reader thread per
// stream waits for the receiver's notice: a refusal ends the stream, and "removed" is reported
// at once (it does not wait for the next write). A failed write or an ended stream drops the
// batch (Raft retransmits), reports the peer unreachable (and a snapshot as failed), and the
// next batch opens a new stream; a full queue drops the oldest messages.
// Receiving: PeerService reads each stream with gRPC's callback API and hands each message to a
// callback; messages from a member that was removed are refused with kErrMemberRemoved.
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
  // Sends one batch to the peer; the status of the failure, if any.
  grpc::Status deliver(Peer& peer, const std::string& url, const std::vector<raft::Message>& batch);
  // Opens the stream to the peer and starts its reader.
  void open_stream(Peer& peer);
  // Ends the stream (cancels it first when `cancel`); its status.
  static grpc::Status close_stream(Peer& peer, bool cancel);

  uint64_t cluster_id_;
  Hooks hooks_;
  std::mutex mutex_;  // guards peers_, stopped_
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers_;
  bool stopped_ = false;
};

// Stream is served with gRPC's callback API: a batch is handed over on the gRPC thread that read
// it, with no server thread parked per stream. Send (snapshots) is synchronous.
class PeerService final
    : public mgmtraft::RaftPeer::WithCallbackMethod_Stream<mgmtraft::RaftPeer::Service> {
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
  grpc::ServerBidiReactor<mgmtraft::MessageBatch, mgmtraft::StreamNotice>* Stream(
      grpc::CallbackServerContext*) override;

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
