// raft_host.h: runs one member's Raft: the production Driver (store/raft/driver.h) over the
// RocksDB log (RaftLogStore), the peer transport and the Backend as state machine. One
// thread at a time runs the core (round(), under the running_ token). Everything else talks to
// it through a queue:
//   inbox: peer messages, proposals, read requests, membership changes, transport reports;
//   the Raft thread: drains the inbox, ticks every tick_interval, runs the Ready loop;
//   what the member's I/O loop reads (a client's request, a peer's message) waits in the inbox
//   for one round the loop runs once it has read what was ready (run_rounds_through);
//   a proposal or a read from another thread that finds the host idle (nothing queued, no round
//   running) is run on that thread, instead of waking the Raft thread for it: a wake-up per
//   message was much of a follower's CPU, and of a lone member's latency. What queues
//   meanwhile goes to the Raft thread.
//   The messages to peers are written by the round that makes them when it runs on the
//   member's I/O loop (peer_transport.h), which also serves the client and peer ports.
//   The replies to applied writes go out from the thread that applied them, or, when work
//   already waits for the next round, from the reply thread (reply_thread.h).
// Proposals are fire-and-forget (the Backend waits for their apply; a refused one is reported
// through its callback); reads wait for the ReadIndex round that answers them, one round in
// flight for all the reads waiting (read_batcher.h), and are answered (read_index_async's
// callback) by the thread that ran that round, once it has handed the core back. The driver
// sends through CommitNotices (commit_notices.h), which holds a commit-only append up to
// commit_notice_delay for a message that carries the commit anyway. The leader also promotes
// caught-up learners while the cluster has fewer voters than ideal_voters (the chooser), and
// proposes revokes for expired leases.
// Thread-safety: every public method is thread-safe.
#pragma once

#include "store/raft/driver.h"
#include "store/server/backend.h"
#include "store/server/commit_notices.h"
#include "store/server/peer_transport.h"
#include "store/server/raft_log_store.h"
#include "store/server/read_batcher.h"
#include "store/server/reply_thread.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

namespace mgmt::store::server {

struct RaftHostConfig {
  std::chrono::milliseconds tick_interval{100};  // etcd: heartbeat 100 ms
  uint64_t election_ticks = 10;                 // etcd: election timeout 1000 ms
  uint64_t compact_after = 10000;
  // Applied entries kept in the log after a compaction (--snapshot-catchup-entries).
  uint64_t keep_after_compaction = 5000;
  // Appends a leader has in flight to one follower before it waits for an answer (etcd: 256).
  // One: what queues meanwhile goes out as one append, one write and fsync on the follower.
  // Measured with 3 members and 8 clients on 2 cores (bench-store.sh's put): 1 gave +20 %
  // puts/s and -22 % CPU per put against 256, and beat 2 by as much, at no worse p99. A
  // follower far behind still gets up to 1 MiB per append.
  uint64_t max_inflight = 1;
  // How long a commit-only append waits for the next message to its follower, which carries
  // the commit anyway (commit_notices.h); a follower learns a commit at most this much later.
  std::chrono::microseconds commit_notice_delay{1000};
  size_t ideal_voters = 5;  // the chooser promotes learners up to this many voters
  // The leader removes a member it has not heard from for this long (0: never), so that the
  // cluster can grow again with a live one (--member-timeout).
  std::chrono::milliseconds member_timeout{0};
  // Called once, from a transport thread, when a former peer says this member was removed.
  std::function<void()> on_removed;
  bool joining = false;     // a member added by the cluster: starts with an empty log
  // This member, recorded in the first entry of a new cluster.
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  // Peer URLs known before the membership is applied (a joining member learns them from the
  // MemberAdd answer): member id -> peer URL.
  std::map<uint64_t, std::string> initial_peers;
  // The member's I/O loop, which the peer transport sends on (none: one of its own).
  std::shared_ptr<rpc::EventLoop> loop;
};

class RaftHost : public Replicator {
 public:
  [[nodiscard]] static Result<std::unique_ptr<RaftHost>> open(Backend& backend,
                                                              const RaftHostConfig& config);
  ~RaftHost() override;

  void start();
  void stop();

  // Marks the calling thread as an event loop's (the RPC server's I/O thread), whose `defer`
  // runs a job once the loop has handled the events it has ready. A request made on that thread
  // (a client's write or read) is neither run at once nor handed to the Raft thread: it waits in
  // the inbox, and one round for everything queued runs through `defer`. So the requests read
  // from many connections at once share one round and one disk sync, and one client's write is
  // read, synced, applied and answered on one thread, without a hand-off. (A round run at once,
  // for each request as it was read, held the others up: 8 clients' puts halved.)
  using Defer = void (*)(std::function<void()> job);
  static void run_rounds_through(Defer defer);

  // From the peer service.
  void deliver(raft::Message m);

  // Replicator.
  void propose(std::string data, std::function<void(Error)> rejected) override;
  Result<void> propose_member_change(const raft::ConfChange& change) override;
  std::optional<std::chrono::steady_clock::time_point> peer_active_since(
      uint64_t member_id) const override;
  void read_index_async(std::chrono::milliseconds timeout,
                        std::function<void(Result<uint64_t>)> done) override;
  uint64_t leader_id() const override { return leader_.load(); }
  // A former peer said this member was removed from the cluster.
  bool removed() const { return removed_.load(); }
  uint64_t term() const override { return term_.load(); }
  std::optional<std::pair<uint64_t, uint64_t>> progress(uint64_t member_id) const override;

  // Waits until some member leads (false on timeout).
  bool wait_for_leader(std::chrono::milliseconds timeout);
  // Moves leadership to another voter (Maintenance.MoveLeader); waits up to the timeout.
  Result<void> transfer_leadership(uint64_t to, std::chrono::milliseconds timeout);
  uint64_t commit_index() const { return commit_.load(); }
  // Times this member saw a new leader (etcd_server_leader_changes_seen_total): a leader
  // different from the last one it knew, after an election or on joining.
  uint64_t leader_changes() const { return leader_changes_.load(); }
  uint64_t applied_index() const { return applied_.load(); }
  PeerService& peer_service() { return *peer_service_; }

 private:
  struct Proposal {
    std::string data;
    std::function<void(Error)> rejected;
  };
  struct ConfProposal {
    raft::ConfChange change;
    std::promise<Result<void>> done;
  };
  struct ReadRequest {
    std::string context;
  };
  struct Transfer {
    uint64_t to;
  };
  using Item = std::variant<raft::Message, Proposal, ConfProposal, ReadRequest, Transfer>;
  struct PendingRead {
    std::function<void(Result<uint64_t>)> done;
    std::chrono::steady_clock::time_point deadline;
  };
  // Reads a round answered or gave up, with their outcome: the thread that ran the round calls
  // them once it has handed the token back (they read the store and answer the client).
  using ReadAnswers = std::vector<std::pair<std::function<void(Result<uint64_t>)>,
                                            Result<uint64_t>>>;

  RaftHost(Backend& backend, const RaftHostConfig& config)
      : backend_(backend), config_(config),
        read_rounds_(std::to_string(backend.member_id()), config.election_ticks) {}
  void enqueue(Item item);
  // Runs the item's round on the calling thread when the host is idle (nothing queued, no
  // round running) instead of waking the Raft thread for it; otherwise queues it.
  void run_or_enqueue(Item item);
  // Answers a queued proposal or membership change that will not be proposed (others: nothing).
  static void refuse(Item& item, const std::string& why);
  void run();
  // The round `run_or_enqueue` deferred on an event loop: everything queued, if nobody else
  // runs it first.
  void loop_round();
  // After a round run off the Raft thread: hands over to the Raft thread when it has work.
  void end_borrowed_round();
  // One turn of the loop: the items, a tick if due, the Ready rounds. Run by whoever holds
  // running_ (the Raft thread, or a peer's thread in deliver() when the host is idle).
  [[nodiscard]] ReadAnswers round(std::deque<Item>& items);
  static void answer(ReadAnswers& answers);
  // Gives up the reads past their deadline (they fail with etcd's "request timed out").
  void expire_reads(std::chrono::steady_clock::time_point now);
  void handle(Item& item);
  void after_ready();
  // Leader: remove a member silent past member_timeout, else promote a caught-up learner while
  // below the ideal size; one membership change at a time.
  void choose();
  // Sends the replies of an applied batch: on replies_ when work waits for the next round (so
  // that its disk sync starts now), else here and now.
  void reply(std::function<void()> replies);

  Backend& backend_;
  RaftHostConfig config_;
  std::unique_ptr<RaftLogStore> log_;
  std::unique_ptr<PeerTransport> transport_;
  std::unique_ptr<CommitNotices> notices_;  // the driver sends through it to transport_
  std::unique_ptr<PeerService> peer_service_;
  std::unique_ptr<raft::StateMachine> state_;
  std::unique_ptr<raft::Driver> driver_;  // touched by the thread that runs round()
  std::thread thread_;
  // The replies of applied writes, while the next round already has work (reply()).
  ReplyThread replies_;

  std::mutex mutex_;  // guards inbox_, stopped_, started_, running_, waiting_for_runner_, reads_
  std::condition_variable wake_;
  std::deque<Item> inbox_;
  std::map<std::string, PendingRead> reads_;  // the reads waiting for a round, by context
  bool stopped_ = false;
  bool started_ = false;
  bool running_ = false;             // a thread runs round(): it alone touches the core
  bool waiting_for_runner_ = false;  // the Raft thread waits for a peer's thread's round
  bool loop_round_due_ = false;      // an event loop will run loop_round()
  std::chrono::steady_clock::time_point sleeping_until_{};  // the Raft thread sleeps until
  // The round's state (touched only by the thread that runs it).
  std::chrono::steady_clock::time_point next_tick_{};
  std::optional<std::chrono::steady_clock::time_point> notice_due_;  // commit_notices.h
  ReadAnswers answered_;  // the reads this round answered or gave up
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> progress_;  // leader: id -> (match, commit)
  mutable std::mutex progress_mutex_;
  std::atomic<uint64_t> leader_{0};
  std::atomic<uint64_t> leader_changes_{0};
  std::atomic<bool> removed_{false};
  std::atomic<uint64_t> term_{0};
  std::atomic<uint64_t> commit_{0};
  std::atomic<uint64_t> applied_{0};
  std::atomic<uint64_t> next_read_{1};
  // The reads waiting for a ReadIndex round, and the round in flight (the Raft thread's).
  ReadBatcher read_rounds_;
  uint64_t ticks_since_lease_check_ = 0;
  uint64_t ticks_since_choose_ = 0;
  // When each other member was last heard from (reset when this member became leader).
  std::mutex heard_mutex_;  // guards last_heard_ (written by the peer service's threads)
  std::map<uint64_t, std::chrono::steady_clock::time_point> last_heard_;
  bool was_leader_ = false;
  bool failed_ = false;
  // Rounds of the Ready loop that took kSlowRound or more: reported at most every 10 s.
  static constexpr std::chrono::milliseconds kSlowRound{100};
  void report_slow_round(std::chrono::steady_clock::duration took,
                         std::chrono::steady_clock::duration saving);
  std::chrono::steady_clock::time_point slow_reported_{};
  uint64_t slow_unreported_ = 0;
};

}  // namespace mgmt::store::server
