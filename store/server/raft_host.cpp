// raft_host.cpp: see raft_host.h.
#include "store/server/raft_host.h"

#include "common/log.h"
#include "common/thread_name.h"
#include "store/raft/codec.h"
#include "store/server/etcd_errors.h"

namespace mgmt::store::server {
namespace {

// The Backend as the driver's state machine.
class BackendStateMachine : public raft::StateMachine {
 public:
  explicit BackendStateMachine(Backend& b) : backend_(b) {}
  uint64_t applied_index() const override { return backend_.applied_index(); }
  Result<void> apply(const raft::Entry& e) override { return backend_.apply(e); }
  Result<void> apply_all(std::span<const raft::Entry> entries) override {
    return backend_.apply_all(entries);
  }
  Result<void> restore(const raft::Snapshot& s) override {
    return backend_.restore(s.data, s.meta.index);
  }
  // Compaction keeps no copy of the state: snapshots are dumped from the live state on demand.
  Result<std::string> snapshot_data() const override { return std::string(); }

 private:
  Backend& backend_;
};

raft::Entry bootstrap_entry(const Backend& backend, uint64_t index,
                            const std::vector<std::string>& peer_urls,
                            const std::vector<std::string>& client_urls,
                            const std::string& name) {
  mgmtraft::Member self;
  self.set_id(backend.member_id());
  self.set_name(name);
  for (const auto& u : peer_urls) self.add_peer_urls(u);
  for (const auto& u : client_urls) self.add_client_urls(u);
  raft::ConfChange cc{raft::ConfChangeType::add_node, backend.member_id(),
                      self.SerializeAsString()};
  return raft::Entry{1, index, raft::EntryType::conf_change, raft::codec::encode(cc)};
}

}  // namespace

Result<std::unique_ptr<RaftHost>> RaftHost::open(Backend& backend, const RaftHostConfig& config) {
  std::unique_ptr<RaftHost> host(new RaftHost(backend, config));
  RaftHost* h = host.get();
  RaftLogStore::Hooks hooks;
  hooks.hold = [&backend] {
    auto [index, point] = backend.hold_state();
    return RaftLogStore::HeldState{
        index, [&backend, point = std::move(point)](const std::atomic<bool>& stop) {
          return backend.storage().dump_state(*point, &stop);
        }};
  };
  hooks.conf_state = [h] { return h->driver_->node().tracker().conf_state(); };
  hooks.install = [&backend](const raft::Snapshot& s) {
    return backend.restore(s.data, s.meta.index);
  };
  backend.set_reply_runner([h](std::function<void()> replies) { h->reply(std::move(replies)); });
  auto log = RaftLogStore::open(backend.storage(), std::move(hooks));
  if (!log) return fail(log.error());
  host->log_ = std::move(*log);

  if (host->log_->empty() && !config.joining) {
    const uint64_t applied = backend.applied_index();
    if (applied > 0) {
      // A data dir from before the store ran on Raft: keep its state as the base of the log.
      raft::ConfState cs;
      cs.voters.insert(backend.member_id());
      if (auto a = host->log_->adopt_state(applied, cs); !a) return fail(a.error());
    }
    auto first = bootstrap_entry(backend, applied + 1, config.peer_urls, config.client_urls,
                                 config.name);
    if (auto b = host->log_->bootstrap(first); !b) return fail(b.error());
  }

  host->transport_ = std::make_unique<PeerTransport>(
      backend.cluster_id(),
      PeerTransport::Hooks{[&backend, h](raft::NodeId id) -> std::string {
                             auto m = backend.member(id);
                             if (m && m->peer_urls_size() > 0) return m->peer_urls(0);
                             auto it = h->config_.initial_peers.find(id);
                             return it == h->config_.initial_peers.end() ? "" : it->second;
                           },
                           [h](const raft::Message& m) { h->enqueue(m); },
                           [h] {
                             if (!h->removed_.exchange(true)) {
                               log::get("raft")->error(
                                   "this member was removed from the cluster (by hand, or "
                                   "after it was unreachable past --member-timeout); move its "
                                   "store directory away and start again to join as a new "
                                   "member");
                               if (h->config_.on_removed) h->config_.on_removed();
                             }
                           }},
      config.loop);
  host->peer_service_ = std::make_unique<PeerService>(
      backend.cluster_id(), [h](raft::Message m) { h->deliver(std::move(m)); },
      [&backend](uint64_t id) { return backend.was_removed(id); });
  host->state_ = std::make_unique<BackendStateMachine>(backend);

  raft::Config rc;
  rc.id = backend.member_id();
  rc.election_tick = config.election_ticks;
  rc.heartbeat_tick = 1;
  rc.max_inflight = config.max_inflight;
  rc.seed = backend.member_id() ^ static_cast<uint64_t>(
                                      std::chrono::steady_clock::now().time_since_epoch().count());
  rc.check_quorum = true;
  rc.pre_vote = true;
  raft::DriverOptions opts;
  opts.compact_after = config.compact_after;
  opts.keep_after_compaction = config.keep_after_compaction;
  opts.on_read = [h](const raft::ReadState& rs) {
    std::vector<std::string> answered = h->read_rounds_.answered(rs.context);
    std::lock_guard lock(h->mutex_);
    for (const std::string& read : answered) {
      auto it = h->reads_.find(read);
      if (it == h->reads_.end()) continue;  // timed out
      h->answered_.emplace_back(std::move(it->second.done), rs.index);
      h->reads_.erase(it);
    }
  };
  opts.on_soft_state = [h, &backend](const raft::SoftState& ss) {
    const bool was = h->leader_.load() == backend.member_id();
    if (ss.lead != 0 && ss.lead != h->leader_.load()) ++h->leader_changes_;
    h->leader_ = ss.lead;
    const bool is = ss.lead == backend.member_id();
    if (was != is) backend.on_leader_change(is);
    // The round in flight may have gone to a leader that is gone: ask the new one.
    h->read_rounds_.retry();
    if (ss.lead != 0) {
      log::get("raft")->info("member {:x} leads (term {})", ss.lead,
                             h->driver_ ? h->driver_->node().term() : 0);
    } else {
      log::get("raft")->info("no leader ({})", raft::to_string(ss.role));
    }
    h->wake_.notify_all();
  };
  host->notices_ = std::make_unique<CommitNotices>(*host->transport_, config.commit_notice_delay);
  auto driver = raft::Driver::open(rc, *host->log_, *host->notices_, *host->state_,
                                   std::move(opts));
  if (!driver) return fail(driver.error());
  host->driver_ = std::move(*driver);
  // Replay what is committed but not applied yet (after a restart), before serving.
  if (auto r = host->driver_->process_ready(); !r) return fail(r.error());
  // The only voter need not wait an election timeout to lead.
  const auto& voters = host->driver_->node().tracker().voters();
  if (voters.size() == 1 && voters.count(backend.member_id())) {
    host->driver_->node().campaign();
    if (auto r = host->driver_->process_ready(); !r) return fail(r.error());
  }
  host->after_ready();
  return host;
}

RaftHost::~RaftHost() { stop(); }

void RaftHost::start() {
  next_tick_ = std::chrono::steady_clock::now() + config_.tick_interval;
  {
    std::lock_guard lock(mutex_);
    started_ = true;
  }
  thread_ = std::thread([this] { run(); });
}

void RaftHost::stop() {
  ReadAnswers stopped_reads;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [ctx, read] : reads_) {
      stopped_reads.emplace_back(std::move(read.done), fail(Code::unavailable, kErrTimeout));
    }
    reads_.clear();
  }
  answer(stopped_reads);
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    // A round a peer's thread runs (deliver) ends before anything is torn down.
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return !running_; });
  }
  // No round runs any more: the replies it handed over are sent before the servers stop.
  replies_.stop();
  backend_.set_reply_runner(nullptr);
  if (transport_) transport_->stop();
  for (Item& item : inbox_) refuse(item, kErrNoLeader);
  inbox_.clear();
}

void RaftHost::enqueue(Item item) {
  bool queued = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      inbox_.push_back(std::move(item));
      queued = true;
    }
  }
  if (queued) {
    wake_.notify_all();
    return;
  }
  // Answered outside the lock: a rejection callback may take the Backend's locks.
  refuse(item, "etcdserver: server stopped");
}

void RaftHost::refuse(Item& item, const std::string& why) {
  if (auto* p = std::get_if<Proposal>(&item)) p->rejected(Error(Code::unavailable, why));
  if (auto* c = std::get_if<ConfProposal>(&item)) c->done.set_value(fail(Code::unavailable, why));
}

// A message from a peer (the transport's own reports about a peer, such as unreachable, come
// through enqueue and do not count as hearing from it).
void RaftHost::deliver(raft::Message m) {
  {
    std::lock_guard lock(heard_mutex_);
    last_heard_[m.from] = std::chrono::steady_clock::now();
  }
  run_or_enqueue(std::move(m));
}

namespace {
// Set on an event loop's thread (run_rounds_through).
thread_local RaftHost::Defer loop_defer = nullptr;
}  // namespace

void RaftHost::run_rounds_through(Defer defer) { loop_defer = defer; }

// Idle (nothing queued, no round running): the round runs here, on the caller's thread (a
// peer's message, a client's read), instead of waking the Raft thread for it (a wake-up per
// message was much of a follower's CPU). On an event loop, it runs once the loop is idle.
void RaftHost::run_or_enqueue(Item item) {
  bool here = false;
  bool queued = false;
  bool defer = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopped_ && started_ && loop_defer != nullptr) {
      // Whoever runs a round now takes the inbox after it; otherwise the loop's round does.
      inbox_.push_back(std::move(item));
      queued = true;
      if (!running_ && !loop_round_due_) defer = loop_round_due_ = true;
    } else if (!stopped_ && (!started_ || running_ || !inbox_.empty())) {
      inbox_.push_back(std::move(item));
      if (!running_) wake_.notify_all();
      return;
    } else if (!stopped_) {
      here = running_ = true;
    }
  }
  if (defer) loop_defer([this] { loop_round(); });
  if (queued) return;
  // Stopped: refused outside the lock (a rejection callback may take the Backend's locks).
  if (!here) return refuse(item, "etcdserver: server stopped");
  std::deque<Item> items;
  items.push_back(std::move(item));
  ReadAnswers answers = round(items);
  end_borrowed_round();
  answer(answers);
}

void RaftHost::loop_round() {
  std::deque<Item> items;
  {
    std::lock_guard lock(mutex_);
    loop_round_due_ = false;
    // Taken meanwhile by another runner (the Raft thread at a tick, a peer's thread), or
    // stopped: stop() answers what is left in the inbox.
    if (stopped_ || running_ || inbox_.empty()) return;
    running_ = true;
    items.swap(inbox_);
  }
  ReadAnswers answers = round(items);
  end_borrowed_round();
  answer(answers);
}

void RaftHost::end_borrowed_round() {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    running_ = false;
    // What queued meanwhile, a tick or notice due, a notice due before the Raft thread would
    // wake, the Raft thread waiting for this round, or stop(): the Raft thread takes over (only
    // then is it woken).
    const auto now = std::chrono::steady_clock::now();
    wake = !inbox_.empty() || waiting_for_runner_ || stopped_ || now >= next_tick_ ||
           (notice_due_ && (now >= *notice_due_ || *notice_due_ < sleeping_until_));
  }
  if (wake) wake_.notify_all();
}

void RaftHost::reply(std::function<void()> replies) {
  bool work_waits = false;
  {
    std::lock_guard lock(mutex_);
    work_waits = !inbox_.empty();
  }
  if (work_waits) return replies_.post(std::move(replies));
  replies();
}

void RaftHost::propose(std::string data, std::function<void(Error)> rejected) {
  run_or_enqueue(Proposal{std::move(data), std::move(rejected)});
}

Result<void> RaftHost::propose_member_change(const raft::ConfChange& change) {
  ConfProposal p{change, {}};
  auto done = p.done.get_future();
  enqueue(std::move(p));
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    return fail(Code::unavailable, kErrTimeout);
  }
  return done.get();
}

std::optional<std::chrono::steady_clock::time_point> RaftHost::peer_active_since(
    uint64_t member_id) const {
  return transport_ ? transport_->active_since(member_id) : std::nullopt;
}

void RaftHost::read_index_async(std::chrono::milliseconds timeout,
                                std::function<void(Result<uint64_t>)> done) {
  if (leader_.load() == 0) return done(fail(Code::unavailable, kErrNoLeader));
  // Unique on this member; the round that answers it has a context unique across members.
  std::string ctx = std::to_string(next_read_++);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool stopped = false;
  {
    std::lock_guard lock(mutex_);
    stopped = stopped_;
    if (!stopped) reads_.emplace(ctx, PendingRead{std::move(done), deadline});
  }
  // Answered outside the lock: the answer reads the store and answers the client.
  if (stopped) return done(fail(Code::unavailable, "etcdserver: server stopped"));
  run_or_enqueue(ReadRequest{std::move(ctx)});
}

std::optional<std::pair<uint64_t, uint64_t>> RaftHost::progress(uint64_t member_id) const {
  std::lock_guard lock(progress_mutex_);
  auto it = progress_.find(member_id);
  if (it == progress_.end()) return std::nullopt;
  return it->second;
}

bool RaftHost::wait_for_leader(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, timeout, [&] { return stopped_ || leader_.load() != 0; }) &&
         leader_.load() != 0;
}

Result<void> RaftHost::transfer_leadership(uint64_t to, std::chrono::milliseconds timeout) {
  if (leader_.load() == to) return ok();
  enqueue(Transfer{to});
  std::unique_lock lock(mutex_);
  if (!wake_.wait_for(lock, timeout, [&] { return stopped_ || leader_.load() == to; })) {
    return fail(Code::unavailable, kErrTimeout);
  }
  return ok();
}

void RaftHost::handle(Item& item) {
  raft::Driver& d = *driver_;
  if (auto* m = std::get_if<raft::Message>(&item)) {
    (void)d.step(*m);
  } else if (auto* p = std::get_if<Proposal>(&item)) {
    if (auto r = d.propose(std::move(p->data)); !r) {
      p->rejected(Error(Code::unavailable,
                        leader_.load() == 0 ? kErrNoLeader : r.error().message()));
    }
  } else if (auto* c = std::get_if<ConfProposal>(&item)) {
    auto r = d.propose_conf_change(c->change);
    if (r) {
      c->done.set_value(ok());
    } else {
      c->done.set_value(fail(r.error()));
    }
  } else if (auto* rr = std::get_if<ReadRequest>(&item)) {
    read_rounds_.add(std::move(rr->context));
  } else if (auto* t = std::get_if<Transfer>(&item)) {
    d.transfer_leadership(t->to);
  }
}

void RaftHost::after_ready() {
  const raft::Node& n = driver_->node();
  term_ = n.term();
  commit_ = n.log().committed();
  applied_ = n.log().applied();
  if (n.role() == raft::Role::leader) {
    std::lock_guard lock(progress_mutex_);
    progress_.clear();
    for (const auto& [id, pr] : n.tracker().progress()) {
      progress_[id] = {pr.match, n.log().committed()};
    }
  }
}

void RaftHost::choose() {
  const raft::Node& n = driver_->node();
  const bool leader = n.role() == raft::Role::leader;
  std::lock_guard heard_lock(heard_mutex_);
  if (leader && !was_leader_) {
    // A new leader gives every member a full timeout before judging it.
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, at] : last_heard_) at = now;
  }
  was_leader_ = leader;
  if (!leader || n.pending_conf_index() > n.log().applied()) return;
  const auto& tracker = n.tracker();
  if (config_.member_timeout.count() > 0) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<raft::NodeId> members(tracker.voters().begin(), tracker.voters().end());
    members.insert(members.end(), tracker.learners().begin(), tracker.learners().end());
    for (raft::NodeId id : members) {
      if (id == n.id()) continue;
      auto heard = last_heard_.try_emplace(id, now).first->second;
      if (now - heard < config_.member_timeout) continue;
      raft::ConfChange cc{raft::ConfChangeType::remove_node, id, {}};
      if (driver_->propose_conf_change(cc)) {
        log::get("raft")->info(
            "removing member {:x}: not heard from for {} s (--member-timeout); the cluster can "
            "grow again with a live agent",
            id, std::chrono::duration_cast<std::chrono::seconds>(now - heard).count());
        last_heard_.erase(id);
      }
      return;  // one change at a time
    }
  }
  if (tracker.voters().size() >= config_.ideal_voters) return;
  for (raft::NodeId id : tracker.learners()) {
    const raft::Progress& pr = tracker.progress().at(id);
    if (pr.match < n.log().committed()) continue;  // not caught up yet
    auto m = backend_.member(id);
    if (!m) continue;
    m->set_is_learner(false);
    raft::ConfChange cc{raft::ConfChangeType::add_node, id, m->SerializeAsString()};
    if (driver_->propose_conf_change(cc)) {
      log::get("raft")->info("promoting learner {:x}: caught up, {} of {} voters", id,
                             tracker.voters().size(), config_.ideal_voters);
    }
    return;  // one change at a time
  }
}

// etcd warns of the same as "slow fdatasync" and "apply request took too long": every write the
// round carried waited that long, and reads with it.
void RaftHost::report_slow_round(std::chrono::steady_clock::duration took,
                                 std::chrono::steady_clock::duration saving) {
  const auto now = std::chrono::steady_clock::now();
  if (slow_reported_ != std::chrono::steady_clock::time_point{} &&
      now - slow_reported_ < std::chrono::seconds(10)) {
    ++slow_unreported_;
    return;
  }
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto total_ms = duration_cast<milliseconds>(took).count();
  const auto saving_ms = duration_cast<milliseconds>(saving).count();
  log::get("raft")->warn(
      "writes waited {} ms in one round of the Raft loop, {} ms of it syncing the log to disk "
      "({}){}",
      total_ms, saving_ms,
      saving * 2 >= took ? "a slow disk: check it, or what else writes to it"
                         : "applying and sending: an overloaded host, or a big request",
      slow_unreported_ > 0
          ? fmt::format("; {} more such rounds since the last report", slow_unreported_)
          : std::string());
  slow_reported_ = now;
  slow_unreported_ = 0;
}

void RaftHost::run() {
  name_this_thread("raft");
  for (;;) {
    std::deque<Item> items;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        if (stopped_) return;
        if (running_) {
          // A peer's thread runs a round (deliver): wait for it; it wakes this one after.
          waiting_for_runner_ = true;
          wake_.wait(lock, [&] { return stopped_ || !running_; });
          waiting_for_runner_ = false;
          continue;
        }
        // No round runs (running_ is false under the lock): the round's state can be read.
        const auto until = notice_due_ ? std::min(next_tick_, *notice_due_) : next_tick_;
        if (!inbox_.empty() || std::chrono::steady_clock::now() >= until) break;
        sleeping_until_ = until;
        // A round on another thread may have held a commit notice due before `until`
        // (end_borrowed_round wakes this thread for it): look again. (Until the twenty-fourth
        // session the wake-up was swallowed, and a follower learned a commit, and answered a
        // write it took, at the next tick: 100 ms.)
        wake_.wait_until(lock, until, [&] {
          return stopped_ || !inbox_.empty() || (!running_ && notice_due_ && *notice_due_ < until);
        });
        sleeping_until_ = {};
      }
      running_ = true;
      items.swap(inbox_);
    }
    ReadAnswers answers = round(items);
    {
      std::lock_guard lock(mutex_);
      running_ = false;
    }
    answer(answers);
  }
}

void RaftHost::answer(ReadAnswers& answers) {
  for (auto& [done, index] : answers) done(std::move(index));
  answers.clear();
}

RaftHost::ReadAnswers RaftHost::round(std::deque<Item>& items) {
  using clock = std::chrono::steady_clock;
  if (notice_due_) notice_due_ = notices_->flush(clock::now());
  if (failed_) {
    const char* why = "etcdserver: this member stopped after a storage failure; restart it";
    for (Item& item : items) refuse(item, why);
    // No ReadIndex round will answer the reads waiting: they learn why now.
    std::lock_guard lock(mutex_);
    for (auto& [ctx, read] : reads_) {
      answered_.emplace_back(std::move(read.done), fail(Code::unavailable, why));
    }
    reads_.clear();
    next_tick_ = clock::now() + config_.tick_interval;
    return std::exchange(answered_, {});
  }
  for (Item& item : items) handle(item);
  if (clock::now() >= next_tick_) {
    driver_->tick();
    read_rounds_.tick();
    backend_.expire_waiters();
    expire_reads(clock::now());
    next_tick_ += config_.tick_interval;
    if (next_tick_ < clock::now()) next_tick_ = clock::now() + config_.tick_interval;
    if (++ticks_since_lease_check_ >= 5) {
      ticks_since_lease_check_ = 0;
      if (driver_->node().role() == raft::Role::leader) {
        for (std::string& revoke : backend_.expired_lease_revokes()) {
          (void)driver_->propose(std::move(revoke));
        }
      }
    }
    if (++ticks_since_choose_ >= 10) {
      ticks_since_choose_ = 0;
      choose();
    }
  }
  const auto round_started = clock::now();
  // A ReadIndex round answered in this Ready lets the reads that waited for it go at once.
  do {
    if (auto reads = read_rounds_.next_round()) driver_->read_index(std::move(*reads));
    if (auto r = driver_->process_ready(); !r) {
      failed_ = true;
      log::get("raft")->error("{}", r.error().message());
    }
  } while (!failed_ && !read_rounds_.in_flight() && read_rounds_.waiting() > 0);
  notice_due_ = notices_->flush(clock::now());
  const auto took = clock::now() - round_started;
  const auto saving = log_->take_save_time();
  if (took >= kSlowRound) report_slow_round(took, saving);
  after_ready();
  return std::exchange(answered_, {});
}

void RaftHost::expire_reads(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    answered_.emplace_back(std::move(it->second.done), fail(Code::unavailable, kErrTimeout));
    it = reads_.erase(it);
  }
}

}  // namespace mgmt::store::server
