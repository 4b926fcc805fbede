// store_server.h: one member of the coordination store, as `mgmt run` embeds it: the Backend
// (RocksDB, MVCC, leases) served over gRPC with etcd v3's API on the client URLs, so etcdctl
// and any etcd v3 client can use it.
// Members replicate through Raft (raft_host.h): the peer URL is served too (proto/raft), and a
// new member either starts a new cluster or joins the one that added it (StoreConfig::join).
// Life: open() opens the data dir (refusing a locked, foreign or damaged one with one line and
// deleting nothing), start() binds the client ports and serves, stop() (idempotent, also
// from the destructor) ends open streams, stops the lease timer and closes the database.
// Thread-safety: open/start/stop from one thread; the accessors from any.
#pragma once

#include "common/result.h"
#include "store/server/auto_compactor.h"

#include <chrono>
#include <functional>
#include <condition_variable>
#include <optional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mgmt::rpc {
class EventLoop;
class RpcServer;
}

namespace mgmt::store::server {

class Backend;
class ClientListener;
class HttpEndpoints;
class JsonGateway;
class ProgressTicker;
class RaftHost;
struct ServiceContext;

struct StoreConfig {
  std::string data_dir;
  std::string member_name = "default";
  std::vector<std::string> client_urls = {"http://127.0.0.1:2379"};  // port 0: pick a free one
  std::vector<std::string> peer_urls = {"http://127.0.0.1:2380"};
  // Set when the cluster added this member (MemberAdd): its ids; the log comes from the leader.
  std::optional<uint64_t> join_cluster_id;
  std::optional<uint64_t> join_member_id;
  // Peer URLs of the cluster's members when joining (from the MemberAdd answer).
  std::map<uint64_t, std::string> join_peers;
  // Never start a new cluster from an empty log (an agent given --seeds belongs to theirs).
  bool never_bootstrap = false;
  // The cluster the --seeds serve, when they answered: a data dir holding another cluster's
  // member is refused (it would run that cluster instead of joining the seeds').
  std::optional<uint64_t> seeds_cluster_id;
  std::string seeds;  // the --seeds as given, for that message
  // The leader promotes caught-up learners while fewer voters than this (--ideal-cluster-size).
  size_t ideal_voters = 5;
  // How long a member must have been connected to every voter before it adds a member
  // (etcd's HealthInterval, reconfig_checks.h).
  std::chrono::milliseconds health_interval{5000};
  // The leader removes a member silent this long (0: never) (--member-timeout).
  std::chrono::milliseconds member_timeout{0};
  // Called once when a former peer says this member was removed from the cluster.
  std::function<void()> on_removed;
  uint64_t snapshot_count = 10000;  // applied entries between log compactions
  // Applied entries a compaction keeps, so that a slow follower catches up from the log
  // rather than from a snapshot of the whole store (etcd's default: 5000).
  uint64_t snapshot_catchup_entries = 5000;
  // What other members and clients should use, when not the listening URLs.
  std::vector<std::string> advertise_client_urls;
  std::vector<std::string> advertise_peer_urls;
  std::chrono::milliseconds tick_interval{100};
  // The space quota (--quota-backend-bytes, space_quota.h): 0 for etcd's default of 2 GiB,
  // negative for none.
  int64_t quota_backend_bytes = 0;
  // Automatic compaction (auto_compactor.h); off by default, as etcd's.
  AutoCompaction auto_compaction;
  // How often a watcher created with progress_notify hears the current revision when no event
  // came for it (--watch-progress-notify-interval; etcd's default: 10 minutes).
  std::chrono::milliseconds watch_progress_notify_interval{10 * 60 * 1000};
};

// "http://127.0.0.1:2379" -> "127.0.0.1:2379" (gRPC's listen address), or an error naming it.
Result<std::string> listen_address(const std::string& url);

// "127.0.0.1:2379" -> {"127.0.0.1", "2379"}, "[::1]:2379" -> {"::1", "2379"}: a listen
// address's host (brackets off) and port, as a resolver takes them.
struct HostPort {
  std::string host;
  std::string port;
};
HostPort split_listen_address(const std::string& address);

// Whether every client and peer URL of `config` can be listened on now (each bound once and
// released): the first that cannot, as one line with the reason and the flag to change. Run
// before anything that a failed start should not leave behind (a new cluster in a fresh data
// dir, a learner added to a cluster).
[[nodiscard]] Result<void> check_listen(const StoreConfig& config);

class StoreServer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<StoreServer>> open(const StoreConfig& config);
  ~StoreServer();
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  // Binds every client URL; an address in use is an error naming it and the remedy.
  [[nodiscard]] Result<void> start();
  void stop();

  // The ports actually bound, in the order of the client URLs (after start()).
  const std::vector<int>& client_ports() const { return ports_; }
  // URLs clients can use, with the bound ports filled in.
  std::vector<std::string> client_endpoints() const;
  uint64_t member_id() const;
  uint64_t cluster_id() const;
  // The member leading the cluster (0: none known).
  uint64_t leader_id() const;
  // "voter" or "learner": this member's place in the cluster's membership.
  std::string role() const;
  // Whether a former peer said this member was removed from the cluster.
  bool removed() const;
  // Waits until the cluster has a leader this member knows of (false on timeout).
  bool wait_for_leader(std::chrono::milliseconds timeout);

 private:
  StoreServer() = default;
  void publish_loop();

  StoreConfig config_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<RaftHost> host_;
  std::unique_ptr<ProgressTicker> progress_ticker_;  // outlives the Watch streams (server_)
  std::unique_ptr<ServiceContext> context_;
  std::shared_ptr<rpc::EventLoop> loop_;  // the servers' and the peer transport's I/O thread
  std::unique_ptr<rpc::RpcServer> server_;     // the client services (connections: listener_)
  std::unique_ptr<rpc::RpcServer> peer_server_;  // the Raft peer service (peer_listener_)
  std::unique_ptr<JsonGateway> gateway_;
  std::unique_ptr<HttpEndpoints> http_;
  std::unique_ptr<ClientListener> listener_;  // the client URLs' sockets (gRPC and HTTP)
  std::unique_ptr<ClientListener> peer_listener_;  // the peer URLs' sockets
  std::vector<int> ports_;
  std::thread publisher_;  // publishes this member's client URLs once a leader is known
  std::unique_ptr<AutoCompactor> auto_compactor_;
  std::mutex mutex_;  // guards stopped_
  std::condition_variable wake_;
  bool stopped_ = false;
};

}  // namespace mgmt::store::server
