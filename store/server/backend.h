// backend.h: the store's state machine behind the gRPC services of one member: the RocksDB
// storage, the MVCC key/value store, the lessor and the membership, and the two paths a
// request takes.
//
// Writes (put, delete, txn, compaction, lease grant/revoke, member changes) are proposed to
// Raft through a Replicator and applied by apply() on every member in log order; the member that
// proposed a request waits for its own apply to produce the response. Applying an entry writes
// its changes and its index in ONE storage batch (not synced: the Raft log, synced before any
// ack, can replay it; the log is compacted only by a synced write, which also syncs every apply
// before it).
// Reads: linearizable ones wait for a ReadIndex and for apply to reach it; serializable ones
// read the local state at once.
// Ids: the member id and cluster id are made on the first start of a new cluster, given by the
// cluster when joining, stored in the meta column and read back on every later start.
// Thread-safety: all methods are thread-safe; apply()/restore() come from the Raft thread.
#pragma once

#include "common/histogram.h"
#include "common/result.h"
#include "store/lease/lessor.h"
#include "store/mvcc/kv_store.h"
#include "store/raft/types.h"
#include "store/server/alarms.h"
#include "store/server/etcd_errors.h"
#include "store/server/reconfig_checks.h"
#include "store/server/space_quota.h"
#include "store/storage/storage.h"

#include "raft/peer.pb.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace boost::asio {
class thread_pool;
}
namespace rocksdb {
class Env;
}

namespace mgmt::store::server {

// Meta records of the membership: each member (a Member proto), and each member removed from
// the cluster, kept so that one coming back is told (etcd does the same).
inline constexpr const char* kMemberPrefix = "member/";
inline constexpr const char* kRemovedPrefix = "removed/";

// What the backend needs from the Raft host (store/server/raft_host.h).
class Replicator {
 public:
  virtual ~Replicator() = default;
  // Hands the bytes to Raft and returns at once; `rejected` is called (from the Raft thread)
  // when this member cannot propose them now (no leader, stopping).
  virtual void propose(std::string data, std::function<void(Error)> rejected) = 0;
  virtual Result<void> propose_member_change(const raft::ConfChange& change) = 0;
  // A linearizable read point: `done` is called once, with the index this member must have
  // applied before it reads, or with why there is none (no leader, the timeout passed). Called
  // from whichever thread learns it, never with a lock of the caller's held.
  virtual void read_index_async(std::chrono::milliseconds timeout,
                                std::function<void(Result<uint64_t>)> done) = 0;
  // The same, waited for (up to the timeout).
  Result<uint64_t> read_index(std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<Result<uint64_t>>>();
    auto outcome = promise->get_future();
    read_index_async(timeout, [promise](Result<uint64_t> r) { promise->set_value(std::move(r)); });
    if (outcome.wait_for(timeout) != std::future_status::ready) {
      return fail(Code::unavailable, kErrTimeout);
    }
    return outcome.get();
  }
  virtual uint64_t leader_id() const = 0;
  virtual uint64_t term() const = 0;
  // Raft's view of a member's replication (for promoting learners): its matched index and the
  // leader's commit index, when this member leads.
  virtual std::optional<std::pair<uint64_t, uint64_t>> progress(uint64_t member_id) const = 0;
  // When this member's connection to a peer came up (nullopt: not connected now), for the
  // membership checks (reconfig_checks.h).
  virtual std::optional<std::chrono::steady_clock::time_point> peer_active_since(
      uint64_t /*member_id*/) const {
    return std::nullopt;
  }
};

struct BackendConfig {
  std::string data_dir;
  // The RocksDB Env of the storage: nullptr for the disk; tests and fuzzers may pass an
  // in-memory one (rocksdb::NewMemEnv), which has no directory to lock.
  rocksdb::Env* storage_env = nullptr;
  std::string member_name = "default";
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  // Joining an existing cluster: the ids it gave us (else a new cluster is made on first start).
  std::optional<uint64_t> join_cluster_id;
  std::optional<uint64_t> join_member_id;
  // The cluster the --seeds serve, when known (see StoreConfig); a data dir holding a member of
  // another cluster than this or join_cluster_id is refused, naming `seeds`.
  std::optional<uint64_t> seeds_cluster_id;
  std::string seeds;
  std::chrono::milliseconds request_timeout{7000};  // etcd's default request timeout is 7 s
  // How long this member must have been connected to every voter before it adds a member
  // (etcd's HealthInterval, reconfig_checks.h).
  std::chrono::milliseconds health_interval{5000};
  // etcd's --quota-backend-bytes: 0 for its default (2 GiB), negative for no quota.
  int64_t quota_backend_bytes = 0;
};

class Backend {
 public:
  using Member = mgmtraft::Member;

  [[nodiscard]] static Result<std::unique_ptr<Backend>> open(const BackendConfig& config);
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  void attach(Replicator* replicator) { replicator_ = replicator; }

  uint64_t cluster_id() const { return cluster_id_; }
  uint64_t member_id() const { return member_id_; }
  uint64_t raft_term() const;
  int64_t revision() const { return kv().current_revision(); }
  uint64_t applied_index() const;
  bool is_leader() const;

  mvcc::KvStore& kv() const { return *kv_.load(); }
  lease::Lessor& lessor() const { return *lessor_.load(); }
  storage::Storage& storage() { return *storage_; }

  // Client requests. The KV writes are asynchronous: `done` is called once with the outcome
  // (from the Raft thread when applied, or from the caller's thread when refused at once; a
  // request not applied within the request timeout fails with etcd's "request timed out").
  template <typename T>
  using Done = std::function<void(Result<T>)>;
  void put_async(const mvcc::PutRequest& r, Done<mvcc::PutResponse> done);
  void delete_range_async(const mvcc::DeleteRangeRequest& r, Done<mvcc::DeleteRangeResponse> done);
  void txn_async(const mvcc::TxnRequest& r, Done<mvcc::TxnResponse> done);
  // Fails the requests that waited past the request timeout (the Raft host calls it every tick).
  void expire_waiters();
  // Fails every waiting request (the server stops; its Raft host has stopped).
  void fail_waiters(const Error& why);
  // For /metrics, with etcd's meanings: write requests proposed and not answered yet; those
  // that failed without being applied (refused by Raft, timed out, the member stopping); how
  // long each apply batch took to write (etcd's backend commit).
  std::size_t proposals_pending() const;
  uint64_t proposals_failed() const { return proposals_failed_.load(); }
  const Histogram& apply_write_seconds() const { return apply_writes_; }
  // A read; linearizable unless r.serializable (then it reads this member's state at once).
  // A linearizable read waits for a ReadIndex round and for this member to apply up to it.
  // `done` is called once, never with a lock of ours held: a one-key read's from the caller's
  // thread or the one that learnt the read point (the Raft host's, a peer's); a range's from a
  // reader thread, so that a long scan holds up neither Raft nor gRPC's threads.
  void range_async(const mvcc::RangeRequest& r, Done<mvcc::RangeResponse> done);
  [[nodiscard]] Result<mvcc::CompactResponse> compact(int64_t revision);
  // id 0: a fresh id is picked.
  [[nodiscard]] Result<lease::LeaseInfo> lease_grant(lease::LeaseId id, int64_t ttl_seconds);
  [[nodiscard]] Result<int64_t> lease_revoke(lease::LeaseId id);
  // Leader-local; on another member Code::failed_precondition (the service forwards it).
  [[nodiscard]] Result<int64_t> lease_renew(lease::LeaseId id);
  [[nodiscard]] Result<lease::LeaseInfo> lease_time_to_live(lease::LeaseId id, bool keys) const;
  // Leader only: the encoded revoke requests for every lease whose time is up (the Raft host
  // proposes them; etcd checks every 500 ms).
  std::vector<std::string> expired_lease_revokes() const;

  // etcd's Alarm request (GET, ACTIVATE, DEACTIVATE), applied through Raft as etcd's.
  [[nodiscard]] Result<etcdserverpb::AlarmResponse> alarm(const etcdserverpb::AlarmRequest& r);
  // The raised alarms as applied here (Status, /health).
  std::vector<etcdserverpb::AlarmMember> alarms() const { return alarms_.list(); }
  SpaceQuota& quota() { return *quota_; }

  // Membership, as applied.
  std::vector<Member> members() const;
  std::optional<Member> member(uint64_t id) const;
  // Whether a member with this id was removed from the cluster (its messages are refused).
  bool was_removed(uint64_t id) const;
  // Membership changes, each refused first as etcd 3.4 refuses it (reconfig_checks.h).
  // Adds a member (as a learner or a voter) through Raft; returns it with its new id.
  [[nodiscard]] Result<Member> add_member(const std::vector<std::string>& peer_urls,
                                          bool is_learner);
  [[nodiscard]] Result<void> remove_member(uint64_t id);
  [[nodiscard]] Result<void> promote_member(uint64_t id);
  [[nodiscard]] Result<void> update_member(uint64_t id, const std::vector<std::string>& peer_urls);
  // This member's own entry, with the client URLs it actually serves (after binding).
  void set_self_urls(const std::vector<std::string>& client_urls);

  // The Raft state machine (called on the Raft thread). apply_all records consecutive entries'
  // effects and the last index in one storage write, then answers their waiting requests.
  [[nodiscard]] Result<void> apply(const raft::Entry& entry);
  [[nodiscard]] Result<void> apply_all(std::span<const raft::Entry> entries);
  // How apply_all sends the replies of a batch (the Raft host: on its reply thread while more
  // work waits, reply_thread.h); inline until set. Set before the Raft host starts.
  using ReplyRunner = std::function<void(std::function<void()> replies)>;
  void set_reply_runner(ReplyRunner run) { reply_runner_ = std::move(run); }
  // Replaces the whole state by a snapshot's data (Storage::dump_state format) at `index`.
  [[nodiscard]] Result<void> restore(const std::string& state, uint64_t index);
  // The index the state is applied up to and a consistent point of that state (cheap): what a
  // snapshot dumps (Storage::dump_state(point)), on any thread, while the apply goes on.
  std::pair<uint64_t, std::shared_ptr<const storage::Storage::StatePoint>> hold_state() const;
  // Called when this member becomes or stops being the leader.
  void on_leader_change(bool leader);

  static int64_t now_ms();

 private:
  using Applied = std::variant<mvcc::PutResponse, mvcc::DeleteRangeResponse, mvcc::TxnResponse,
                               mvcc::CompactResponse, lease::LeaseInfo, int64_t, std::monostate,
                               etcdserverpb::AlarmResponse>;
  using Finish = std::function<void(Result<Applied>)>;
  struct Waiter {
    Finish done;
    std::chrono::steady_clock::time_point deadline;
  };
  Backend() = default;
  Result<void> open_state();
  // Proposes the request; `done` gets the outcome of its apply, or why it was not applied.
  void submit(mgmtraft::InternalRequest& request, Finish done);
  template <typename T>
  void submit_typed(mgmtraft::InternalRequest& request, Done<T> done);
  // Hands `result` to the request's waiter, if it still waits.
  void finish(uint64_t id, Result<Applied> result);
  // Fails (with `why`) the waiting requests and reads whose deadline `which` selects.
  void fail_waiters_if(
      const std::function<bool(std::chrono::steady_clock::time_point deadline)>& which,
      const Error& why);
  Result<Applied> propose_and_wait(mgmtraft::InternalRequest& request);
  Result<void> restore_locked(const std::string& state, uint64_t index);
  Result<Applied> apply_request(const mgmtraft::InternalRequest& request, storage::Batch& batch);
  Result<void> apply_member_change(const raft::ConfChange& change, storage::Batch& batch);
  Result<void> write_applied(storage::Batch& batch, uint64_t index);
  // Calls `then` once this member has applied `index` (at once if it has), or with why it
  // will not (a disk failure, the request timeout, the server stopping).
  void when_applied(uint64_t index, std::function<void(Result<void>)> then);
  struct ApplyWait {
    std::function<void(Result<void>)> then;
    std::chrono::steady_clock::time_point deadline;
  };
  // The waits that applied_index_ now satisfies, taken out (apply_mutex_ held; the caller runs
  // them once it has released the lock).
  std::vector<ApplyWait> take_applied_waits_locked();
  static void run_waits(std::vector<ApplyWait>& waits, const Result<void>& outcome);
  // Reads now: one key on this thread, a range on a reader thread.
  void read_now(mvcc::RangeRequest r, Done<mvcc::RangeResponse> done);
  Result<void> load_members();
  // The membership, removed ids and connections the membership checks look at.
  ReconfigView reconfig_view() const;
  void load_removed();
  Result<void> change_membership(const raft::ConfChange& change);
  // A write of this cost that does not fit the quota: raises this member's NOSPACE alarm (at
  // most every 500 ms until it is applied) and returns etcd's error; else ok.
  Result<void> check_quota(int64_t cost);

  BackendConfig config_;
  std::unique_ptr<storage::Storage> storage_;
  // The live KvStore and Lessor; a snapshot install swaps in new ones (old ones are kept alive
  // until shutdown, since readers may still hold them).
  std::atomic<mvcc::KvStore*> kv_{nullptr};
  std::atomic<lease::Lessor*> lessor_{nullptr};
  std::vector<std::unique_ptr<mvcc::KvStore>> kv_owned_;
  std::vector<std::unique_ptr<lease::Lessor>> lessor_owned_;
  Replicator* replicator_ = nullptr;
  uint64_t cluster_id_ = 0;
  uint64_t member_id_ = 0;

  mutable std::mutex apply_mutex_;  // guards applied_index_, failed_, members_, waiters_,
                                    // apply_waits_
  mutable std::condition_variable applied_cv_;
  uint64_t applied_index_ = 0;
  bool failed_ = false;
  std::map<uint64_t, Member> members_;
  mutable std::mutex removed_mutex_;  // guards removed_ (read by the peer service's threads)
  std::set<uint64_t> removed_;        // ids removed from the cluster (meta "removed/ID")
  std::map<uint64_t, Waiter> waiters_;
  ReplyRunner reply_runner_;
  std::multimap<uint64_t, ApplyWait> apply_waits_;  // reads waiting for an index to be applied
  // Request ids are this member's id and a counter that starts at random in every run: a
  // restarted member must never wait on an id its previous run proposed, which its catch-up
  // could apply and answer with that old entry's result.
  std::atomic<uint64_t> next_request_{std::random_device{}()};
  std::atomic<uint64_t> lease_id_state_{0};
  Alarms alarms_;
  std::unique_ptr<SpaceQuota> quota_;
  std::atomic<int64_t> nospace_proposed_ms_{-1000};
  std::atomic<uint64_t> proposals_failed_{0};
  Histogram apply_writes_{Histogram::exponential(0.001, 2, 14)};  // etcd's bounds: 1 ms..8 s
  // Runs the reads of more than one key (range_async); joined (its queue done) on destruction.
  std::unique_ptr<boost::asio::thread_pool> readers_;
};

}  // namespace mgmt::store::server
