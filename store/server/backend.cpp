// backend.cpp: the member's state machine and its request paths; see backend.h.
#include "store/server/backend.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "store/mvcc/validate.h"
#include "store/raft/codec.h"
#include "store/server/crash_point.h"
#include "store/server/etcd_errors.h"
#include "store/server/pb_convert.h"
#include "store/server/reconfig_checks.h"

#include <chrono>
#include <functional>

namespace mgmt::store::server {
namespace {

constexpr const char* kErrDiskFailed = "etcdserver: this member stopped after a disk failure";

constexpr const char* kAppliedIndex = "applied_index";

// FNV-1a, for stable ids from names (not a security property).
uint64_t fnv1a(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h == 0 ? 1 : h;
}

std::string member_key(uint64_t id) { return kMemberPrefix + storage::encode_u64(id); }
std::string removed_key(uint64_t id) { return kRemovedPrefix + storage::encode_u64(id); }

uint64_t wall_nanos() {
  return static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
}

}  // namespace

int64_t Backend::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Backend>> Backend::open(const BackendConfig& config) {
  std::unique_ptr<Backend> b(new Backend());
  b->readers_ = std::make_unique<boost::asio::thread_pool>(
      std::max<std::size_t>(4, std::thread::hardware_concurrency()));
  b->config_ = config;
  storage::Options options;
  options.dir = config.data_dir;
  options.env = config.storage_env;
  options.local_dir = config.storage_env == nullptr;
  auto st = storage::Storage::open(options);
  if (!st) return fail(st.error());
  b->storage_ = std::move(*st);

  auto cluster = b->storage_->get_u64(storage::meta::kClusterId);
  auto member = b->storage_->get_u64(storage::meta::kMemberId);
  if (!cluster) return fail(cluster.error());
  if (!member) return fail(member.error());
  if (*cluster && *member) {
    b->cluster_id_ = **cluster;
    b->member_id_ = **member;
    // The cluster the seeds serve: the one that added us, or the one they answered for.
    const auto theirs = config.join_cluster_id ? config.join_cluster_id : config.seeds_cluster_id;
    if (theirs && *theirs != b->cluster_id_) {
      return fail(Code::failed_precondition,
                  fmt::format("data dir {} holds a member of cluster {:x}, but the seeds {} serve "
                              "cluster {:x}; move {} away to join theirs as a new member, or "
                              "start without --seeds to run cluster {:x}",
                              config.data_dir, b->cluster_id_, config.seeds, *theirs,
                              config.data_dir, b->cluster_id_));
    }
  } else {
    if (config.join_cluster_id && config.join_member_id) {
      b->cluster_id_ = *config.join_cluster_id;
      b->member_id_ = *config.join_member_id;
    } else {
      std::string identity = config.member_name;
      for (const auto& u : config.peer_urls) identity += "," + u;
      // The time makes two clusters started with the same names distinct, as etcd's does.
      b->member_id_ = fnv1a(identity, wall_nanos());
      b->cluster_id_ = fnv1a(identity + "/cluster", b->member_id_);
    }
    if (auto bound = b->storage_->bind_cluster(b->cluster_id_, b->member_id_); !bound) {
      return fail(bound.error());
    }
  }
  auto applied = b->storage_->get_u64(kAppliedIndex);
  if (!applied) return fail(applied.error());
  b->applied_index_ = applied->value_or(0);
  b->quota_ = std::make_unique<SpaceQuota>([raw = b.get()] { return raw->kv().state_bytes(); },
                                           config.quota_backend_bytes);
  if (auto s = b->open_state(); !s) return fail(s.error());
  if (auto m = b->load_members(); !m) return fail(m.error());
  b->lease_id_state_ = b->member_id_ ^ wall_nanos();
  return b;
}

Backend::~Backend() {
  if (readers_) readers_->join();  // the reads queued are answered
}

Result<void> Backend::open_state() {
  auto lessor = lease::Lessor::open(*storage_, lease::Options{});
  if (!lessor) return fail(lessor.error());
  auto kv = mvcc::KvStore::open(*storage_, lessor->get());
  if (!kv) return fail(kv.error());
  (*lessor)->attach_existing(**kv);
  lessor_owned_.push_back(std::move(*lessor));
  kv_owned_.push_back(std::move(*kv));
  lessor_.store(lessor_owned_.back().get());
  kv_.store(kv_owned_.back().get());
  alarms_.load(*storage_);
  return ok();
}

void Backend::load_removed() {
  std::set<uint64_t> found;
  std::string end = kRemovedPrefix;
  end.back() = static_cast<char>(end.back() + 1);
  (void)storage_->scan(storage::Column::meta, kRemovedPrefix, end,
                       [&](std::string_view key, std::string_view) {
                         auto id = storage::decode_u64(key.substr(std::strlen(kRemovedPrefix)));
                         if (id) found.insert(*id);
                         return true;
                       });
  std::lock_guard lock(removed_mutex_);
  removed_ = std::move(found);
}

bool Backend::was_removed(uint64_t id) const {
  std::lock_guard lock(removed_mutex_);
  return removed_.count(id) != 0;
}

Result<void> Backend::load_members() {
  load_removed();
  std::map<uint64_t, Member> found;
  std::string end = kMemberPrefix;
  end.back() = static_cast<char>(end.back() + 1);
  bool bad = false;
  auto scanned = storage_->scan(storage::Column::meta, kMemberPrefix, end,
                                [&](std::string_view, std::string_view value) {
                                  Member m;
                                  if (!m.ParseFromArray(value.data(),
                                                        static_cast<int>(value.size()))) {
                                    bad = true;
                                    return false;
                                  }
                                  found[m.id()] = m;
                                  return true;
                                });
  if (!scanned) return fail(scanned.error());
  if (bad) {
    return fail(Code::data_loss, "data dir " + config_.data_dir +
                                     ": a membership record is damaged; restore the member "
                                     "from a backup or remove it and join it again");
  }
  std::lock_guard lock(apply_mutex_);
  members_ = std::move(found);
  return ok();
}

uint64_t Backend::applied_index() const {
  std::lock_guard lock(apply_mutex_);
  return applied_index_;
}

uint64_t Backend::raft_term() const { return replicator_ ? replicator_->term() : 0; }

bool Backend::is_leader() const {
  return replicator_ != nullptr && replicator_->leader_id() == member_id_;
}

// ---------------------------------------------------------------------------------------------
// Client requests

void Backend::submit(mgmtraft::InternalRequest& request, Finish done) {
  if (replicator_ == nullptr) return done(fail(Code::unavailable, kErrNoLeader));
  const uint64_t id = ((member_id_ & 0xffffffffULL) << 32) | (next_request_++ & 0xffffffffULL);
  request.set_id(id);
  {
    std::unique_lock lock(apply_mutex_);
    if (failed_) {
      lock.unlock();
      return done(fail(Code::unavailable,
                       "etcdserver: this member stopped accepting writes after a disk failure; "
                       "restart it once the disk is healthy"));
    }
    waiters_[id] = Waiter{std::move(done),
                          std::chrono::steady_clock::now() + config_.request_timeout};
  }
  replicator_->propose(request.SerializeAsString(),
                       [this, id](Error e) { finish(id, fail(std::move(e))); });
}

void Backend::finish(uint64_t id, Result<Applied> result) {
  Finish done;
  {
    std::lock_guard lock(apply_mutex_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    done = std::move(it->second.done);
    waiters_.erase(it);
  }
  if (!result) ++proposals_failed_;
  done(std::move(result));
}

std::size_t Backend::proposals_pending() const {
  std::lock_guard lock(apply_mutex_);
  return waiters_.size();
}

void Backend::expire_waiters() {
  const auto now = std::chrono::steady_clock::now();
  fail_waiters_if(
      [now](std::chrono::steady_clock::time_point deadline) { return deadline <= now; },
      Error(Code::unavailable, kErrTimeout));
}

void Backend::fail_waiters(const Error& why) {
  fail_waiters_if([](std::chrono::steady_clock::time_point) { return true; }, why);
}

void Backend::fail_waiters_if(
    const std::function<bool(std::chrono::steady_clock::time_point deadline)>& which,
    const Error& why) {
  std::vector<Finish> failed;
  std::vector<ApplyWait> reads;
  {
    std::lock_guard lock(apply_mutex_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (which(it->second.deadline)) {
        failed.push_back(std::move(it->second.done));
        ++proposals_failed_;
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = apply_waits_.begin(); it != apply_waits_.end();) {
      if (which(it->second.deadline)) {
        reads.push_back(std::move(it->second));
        it = apply_waits_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Finish& done : failed) done(fail(why));  // outside the lock: answers may call back in
  run_waits(reads, fail(why));
}

Result<Backend::Applied> Backend::propose_and_wait(mgmtraft::InternalRequest& request) {
  auto promise = std::make_shared<std::promise<Result<Applied>>>();
  auto outcome = promise->get_future();
  submit(request, [promise](Result<Applied> r) { promise->set_value(std::move(r)); });
  // expire_waiters() answers by the deadline while the Raft host runs; without it, fail the
  // waiter here (whoever takes it out of waiters_ answers, exactly once).
  if (outcome.wait_for(config_.request_timeout + std::chrono::seconds(1)) !=
      std::future_status::ready) {
    finish(request.id(), fail(Code::unavailable, kErrTimeout));
  }
  return outcome.get();
}

void Backend::when_applied(uint64_t index, std::function<void(Result<void>)> then) {
  bool failed = false;
  {
    std::lock_guard lock(apply_mutex_);
    failed = failed_;
    if (!failed && applied_index_ < index) {
      apply_waits_.emplace(index,
                           ApplyWait{std::move(then), std::chrono::steady_clock::now() +
                                                          config_.request_timeout});
      return;
    }
  }
  // Outside the lock: `then` may call back in.
  then(failed ? fail(Code::unavailable, kErrDiskFailed) : ok());
}

std::vector<Backend::ApplyWait> Backend::take_applied_waits_locked() {
  std::vector<ApplyWait> ready;
  auto end = apply_waits_.upper_bound(applied_index_);
  for (auto it = apply_waits_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
  apply_waits_.erase(apply_waits_.begin(), end);
  return ready;
}

void Backend::run_waits(std::vector<ApplyWait>& waits, const Result<void>& outcome) {
  for (ApplyWait& w : waits) w.then(outcome);
}

// One key: read on this thread (cheap, bounded by the value's size). More: a reader thread.
void Backend::read_now(mvcc::RangeRequest r, Done<mvcc::RangeResponse> done) {
  if (r.range_end.empty()) return done(kv().range(r));
  boost::asio::post(*readers_, [this, r = std::move(r), done = std::move(done)] {
    done(kv().range(r));
  });
}

void Backend::range_async(const mvcc::RangeRequest& r, Done<mvcc::RangeResponse> done) {
  if (auto v = mvcc::validate_range(r); !v) return done(fail(v.error()));
  if (r.serializable || replicator_ == nullptr) return read_now(r, std::move(done));
  replicator_->read_index_async(
      config_.request_timeout, [this, r, done = std::move(done)](Result<uint64_t> index) mutable {
        if (!index) return done(fail(index.error()));
        when_applied(*index, [this, r = std::move(r), done = std::move(done)](
                                 Result<void> applied) mutable {
          if (!applied) return done(fail(applied.error()));
          read_now(std::move(r), std::move(done));
        });
      });
}

template <typename T>
static Result<T> take(Result<std::variant<mvcc::PutResponse, mvcc::DeleteRangeResponse,
                                          mvcc::TxnResponse, mvcc::CompactResponse,
                                          lease::LeaseInfo, int64_t, std::monostate,
                                          etcdserverpb::AlarmResponse>>&& r) {
  if (!r) return fail(r.error());
  if (auto* v = std::get_if<T>(&*r)) return std::move(*v);
  return fail(Code::internal, "etcdserver: unexpected apply result");
}

template <typename T>
void Backend::submit_typed(mgmtraft::InternalRequest& request, Done<T> done) {
  submit(request, [done = std::move(done)](Result<Applied> r) { done(take<T>(std::move(r))); });
}

Result<void> Backend::check_quota(int64_t cost) {
  if (quota_->available(cost)) return ok();
  const int64_t now = now_ms();
  int64_t last = nospace_proposed_ms_.load();
  if (!alarms_.raised(member_id_, etcdserverpb::NOSPACE) && now - last >= 500 &&
      nospace_proposed_ms_.compare_exchange_strong(last, now) && replicator_ != nullptr) {
    mgmtraft::InternalRequest req;  // id 0: nobody waits for it
    auto* alarm = req.mutable_alarm();
    alarm->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
    alarm->set_memberid(member_id_);
    alarm->set_alarm(etcdserverpb::NOSPACE);
    log::get("etcd")->warn("the store holds {} bytes, at its quota of {} "
                           "(--quota-backend-bytes): raising the NOSPACE alarm",
                           quota_->state_bytes(), quota_->limit());
    replicator_->propose(req.SerializeAsString(), [](Error) {});
  }
  return fail(Code::resource_exhausted, kErrNoSpace);
}

Result<etcdserverpb::AlarmResponse> Backend::alarm(const etcdserverpb::AlarmRequest& r) {
  mgmtraft::InternalRequest req;
  *req.mutable_alarm() = r;
  return take<etcdserverpb::AlarmResponse>(propose_and_wait(req));
}

void Backend::put_async(const mvcc::PutRequest& r, Done<mvcc::PutResponse> done) {
  if (auto v = mvcc::validate_put(r); !v) return done(fail(v.error()));
  if (auto q = check_quota(SpaceQuota::cost(r)); !q) return done(fail(q.error()));
  mgmtraft::InternalRequest req;
  to_pb_request(r, req.mutable_put());
  submit_typed(req, std::move(done));
}

void Backend::delete_range_async(const mvcc::DeleteRangeRequest& r,
                                 Done<mvcc::DeleteRangeResponse> done) {
  if (auto v = mvcc::validate_delete_range(r); !v) return done(fail(v.error()));
  mgmtraft::InternalRequest req;
  to_pb_request(r, req.mutable_delete_range());
  submit_typed(req, std::move(done));
}

void Backend::txn_async(const mvcc::TxnRequest& r, Done<mvcc::TxnResponse> done) {
  if (auto v = mvcc::validate_txn(r); !v) return done(fail(v.error()));
  if (auto q = check_quota(SpaceQuota::cost(r)); !q) return done(fail(q.error()));
  mgmtraft::InternalRequest req;
  to_pb_request(r, req.mutable_txn());
  submit_typed(req, std::move(done));
}

Result<mvcc::CompactResponse> Backend::compact(int64_t revision) {
  mgmtraft::InternalRequest req;
  req.mutable_compaction()->set_revision(revision);
  return take<mvcc::CompactResponse>(propose_and_wait(req));
}

Result<lease::LeaseInfo> Backend::lease_grant(lease::LeaseId id, int64_t ttl_seconds) {
  if (auto q = check_quota(SpaceQuota::kLeaseCost); !q) return fail(q.error());
  // etcd picks ids from a member-specific generator; ours: splitmix64 seeded at open, positive,
  // never an id that is in use. The proposer picks it, so every member applies the same id.
  while (id == 0) {
    uint64_t z = (lease_id_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    id = static_cast<lease::LeaseId>((z ^ (z >> 31)) >> 1);
    if (lessor().contains(id)) id = 0;
  }
  mgmtraft::InternalRequest req;
  req.mutable_lease_grant()->set_id(id);
  req.mutable_lease_grant()->set_ttl(ttl_seconds);
  return take<lease::LeaseInfo>(propose_and_wait(req));
}

Result<int64_t> Backend::lease_revoke(lease::LeaseId id) {
  mgmtraft::InternalRequest req;
  req.mutable_lease_revoke()->set_id(id);
  return take<int64_t>(propose_and_wait(req));
}

Result<int64_t> Backend::lease_renew(lease::LeaseId id) { return lessor().renew(id, now_ms()); }

Result<lease::LeaseInfo> Backend::lease_time_to_live(lease::LeaseId id, bool keys) const {
  return lessor().time_to_live(id, keys, now_ms());
}

std::vector<std::string> Backend::expired_lease_revokes() const {
  std::vector<std::string> out;
  for (lease::LeaseId id : lessor().expired(now_ms())) {
    mgmtraft::InternalRequest req;  // id 0: nobody waits for it
    req.mutable_lease_revoke()->set_id(id);
    out.push_back(req.SerializeAsString());
  }
  return out;
}

void Backend::on_leader_change(bool leader) {
  if (leader) {
    lessor().promote(now_ms());  // every lease gets its full TTL again, as in etcd
  } else {
    lessor().demote();
  }
}

// ---------------------------------------------------------------------------------------------
// Membership

std::vector<Backend::Member> Backend::members() const {
  std::lock_guard lock(apply_mutex_);
  std::vector<Member> out;
  for (const auto& [id, m] : members_) out.push_back(m);
  return out;
}

std::optional<Backend::Member> Backend::member(uint64_t id) const {
  std::lock_guard lock(apply_mutex_);
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

Result<void> Backend::change_membership(const raft::ConfChange& change) {
  if (replicator_ == nullptr) return fail(Code::unavailable, kErrNoLeader);
  if (auto p = replicator_->propose_member_change(change); !p) return fail(p.error());
  const uint64_t id = change.node_id;
  std::unique_lock lock(apply_mutex_);
  const bool done = applied_cv_.wait_for(lock, config_.request_timeout, [&] {
    auto it = members_.find(id);
    switch (change.type) {
      case raft::ConfChangeType::add_learner: return it != members_.end();
      case raft::ConfChangeType::add_node:
        return it != members_.end() && !it->second.is_learner();
      case raft::ConfChangeType::remove_node: return it == members_.end();
    }
    return false;
  });
  if (!done) return fail(Code::unavailable, kErrTimeout);
  return ok();
}

ReconfigView Backend::reconfig_view() const {
  ReconfigView view;
  view.self = member_id_;
  view.members = members();
  {
    std::lock_guard lock(removed_mutex_);
    view.removed = removed_;
  }
  view.now = std::chrono::steady_clock::now();
  view.health_interval = config_.health_interval;
  if (replicator_ != nullptr) {
    view.active_since = [r = replicator_](uint64_t id) { return r->peer_active_since(id); };
    view.progress = [r = replicator_](uint64_t id) { return r->progress(id); };
  }
  return view;
}

Result<Backend::Member> Backend::add_member(const std::vector<std::string>& peer_urls,
                                            bool is_learner) {
  if (auto c = may_add_member(reconfig_view(), peer_urls, is_learner); !c) return fail(c.error());
  Member m;
  {
    std::lock_guard lock(apply_mutex_);
    std::string identity;
    for (const auto& u : peer_urls) identity += u + ",";
    uint64_t id = fnv1a(identity, wall_nanos());
    while (members_.count(id) || was_removed(id) || id == 0) id = fnv1a(identity, id);
    m.set_id(id);
  }
  // In order, as etcd keeps a new member's URLs (its update keeps them as given).
  std::vector<std::string> sorted = peer_urls;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& u : sorted) m.add_peer_urls(u);
  m.set_is_learner(is_learner);
  raft::ConfChange cc{is_learner ? raft::ConfChangeType::add_learner
                                 : raft::ConfChangeType::add_node,
                      m.id(), m.SerializeAsString()};
  if (auto c = change_membership(cc); !c) return fail(c.error());
  return m;
}

Result<void> Backend::remove_member(uint64_t id) {
  if (auto c = may_remove_member(reconfig_view(), id); !c) return fail(c.error());
  return change_membership(raft::ConfChange{raft::ConfChangeType::remove_node, id, {}});
}

Result<void> Backend::promote_member(uint64_t id) {
  if (auto c = may_promote_member(reconfig_view(), id); !c) return fail(c.error());
  auto m = member(id);
  if (!m) return fail(Code::not_found, kErrMemberNotFound);
  m->set_is_learner(false);
  return change_membership(
      raft::ConfChange{raft::ConfChangeType::add_node, id, m->SerializeAsString()});
}

Result<void> Backend::update_member(uint64_t id, const std::vector<std::string>& peer_urls) {
  if (auto c = may_update_member(reconfig_view(), id, peer_urls); !c) return fail(c.error());
  mgmtraft::InternalRequest req;
  auto* u = req.mutable_member_update();
  u->set_id(id);
  for (const auto& url : peer_urls) u->add_peer_urls(url);
  auto r = propose_and_wait(req);
  if (!r) return fail(r.error());
  return ok();
}

void Backend::set_self_urls(const std::vector<std::string>& client_urls) {
  auto self = member(member_id_);
  if (!self) return;
  std::vector<std::string> have(self->client_urls().begin(), self->client_urls().end());
  if (have == client_urls && self->name() == config_.member_name) return;
  mgmtraft::InternalRequest req;
  auto* u = req.mutable_member_update();
  u->set_id(member_id_);
  u->set_name(config_.member_name);
  for (const auto& url : client_urls) u->add_client_urls(url);
  if (auto r = propose_and_wait(req); !r) {
    log::get("etcd")->warn("could not publish this member's client URLs: {}", r.error().message());
  }
}

// ---------------------------------------------------------------------------------------------
// The state machine

Result<void> Backend::write_applied(storage::Batch& batch, uint64_t index) {
  batch.put_u64(kAppliedIndex, index);
  const auto started = std::chrono::steady_clock::now();
  auto w = storage_->write(batch, /*sync=*/false);
  apply_writes_.observe(std::chrono::steady_clock::now() - started);
  if (!w) {
    failed_ = true;
    return fail(Code::unavailable, "etcdserver: the member's disk refused a write (" +
                                       w.error().message() + "); it stops accepting writes");
  }
  applied_index_ = index;
  kv().on_batch_written();  // a compaction's old revisions go from disk now
  return ok();
}

Result<void> Backend::apply_member_change(const raft::ConfChange& change, storage::Batch& batch) {
  Member m;
  if (!change.context.empty() &&
      !m.ParseFromArray(change.context.data(), static_cast<int>(change.context.size()))) {
    return fail(Code::data_loss, "etcdserver: a membership change in the log does not decode");
  }
  m.set_id(change.node_id);
  switch (change.type) {
    case raft::ConfChangeType::add_learner:
    case raft::ConfChangeType::add_node: {
      auto it = members_.find(change.node_id);
      if (it != members_.end()) {
        // A promotion (or a re-add): keep what we know of the member.
        it->second.set_is_learner(change.type == raft::ConfChangeType::add_learner);
        m = it->second;
      } else {
        m.set_is_learner(change.type == raft::ConfChangeType::add_learner);
        members_[m.id()] = m;
      }
      batch.put(storage::Column::meta, member_key(m.id()), m.SerializeAsString());
      break;
    }
    case raft::ConfChangeType::remove_node:
      members_.erase(change.node_id);
      {
        std::lock_guard lock(removed_mutex_);
        removed_.insert(change.node_id);
      }
      batch.del(storage::Column::meta, member_key(change.node_id));
      batch.put(storage::Column::meta, removed_key(change.node_id), "");
      break;
  }
  return ok();
}

Result<Backend::Applied> Backend::apply_request(const mgmtraft::InternalRequest& req,
                                                storage::Batch& batch) {
  using R = Result<Applied>;
  // Out of space somewhere in the cluster: what would grow the store is refused (etcd's
  // capped applier), on every member alike, since the alarms are replicated state.
  const bool capped = alarms_.capped();
  // A member found its data corrupt: every write is refused (etcd's corrupt applier).
  if (alarms_.corrupt()) {
    switch (req.request_case()) {
      case mgmtraft::InternalRequest::kPut:
      case mgmtraft::InternalRequest::kDeleteRange:
      case mgmtraft::InternalRequest::kTxn:
      case mgmtraft::InternalRequest::kCompaction:
      case mgmtraft::InternalRequest::kLeaseGrant:
      case mgmtraft::InternalRequest::kLeaseRevoke:
        return fail(Code::data_loss, kErrCorrupt);
      default:
        break;
    }
  }
  switch (req.request_case()) {
    case mgmtraft::InternalRequest::kPut: {
      if (capped) return fail(Code::resource_exhausted, kErrNoSpace);
      auto r = kv().put(from_pb(req.put()), batch);
      return r ? R(std::move(*r)) : R(fail(r.error()));
    }
    case mgmtraft::InternalRequest::kDeleteRange: {
      auto r = kv().delete_range(from_pb(req.delete_range()), batch);
      return r ? R(std::move(*r)) : R(fail(r.error()));
    }
    case mgmtraft::InternalRequest::kTxn: {
      auto txn = from_pb(req.txn());
      if (capped && SpaceQuota::cost(txn) > 0) return fail(Code::resource_exhausted, kErrNoSpace);
      auto r = kv().txn(txn, batch);
      return r ? R(std::move(*r)) : R(fail(r.error()));
    }
    case mgmtraft::InternalRequest::kCompaction: {
      auto r = kv().compact(req.compaction().revision(), batch);
      return r ? R(std::move(*r)) : R(fail(r.error()));
    }
    case mgmtraft::InternalRequest::kLeaseGrant: {
      if (capped) return fail(Code::resource_exhausted, kErrNoSpace);
      auto r = lessor().grant(req.lease_grant().id(), req.lease_grant().ttl(), now_ms(), batch);
      return r ? R(std::move(*r)) : R(fail(r.error()));
    }
    case mgmtraft::InternalRequest::kLeaseRevoke: {
      auto r = lessor().revoke(req.lease_revoke().id(), kv(), batch);
      return r ? R(*r) : R(fail(r.error()));
    }
    case mgmtraft::InternalRequest::kMemberUpdate: {
      auto it = members_.find(req.member_update().id());
      if (it == members_.end()) return fail(Code::not_found, kErrMemberNotFound);
      if (req.member_update().peer_urls_size() > 0) {
        *it->second.mutable_peer_urls() = req.member_update().peer_urls();
      }
      if (!req.member_update().name().empty()) it->second.set_name(req.member_update().name());
      if (req.member_update().client_urls_size() > 0) {
        *it->second.mutable_client_urls() = req.member_update().client_urls();
      }
      batch.put(storage::Column::meta, member_key(it->first), it->second.SerializeAsString());
      return R(std::monostate{});
    }
    case mgmtraft::InternalRequest::kAlarm:
      return R(alarms_.apply(req.alarm(), batch));
    case mgmtraft::InternalRequest::REQUEST_NOT_SET:
      break;
  }
  return fail(Code::internal, "etcdserver: unknown request in the log");
}

Result<void> Backend::apply(const raft::Entry& entry) {
  return apply_all(std::span<const raft::Entry>(&entry, 1));
}

Result<void> Backend::apply_all(std::span<const raft::Entry> entries) {
  std::vector<std::pair<Finish, Result<Applied>>> answers;
  std::vector<ApplyWait> reads;
  bool any_request = false;
  Result<void> outcome = ok();
  {
    std::lock_guard lock(apply_mutex_);
    if (failed_) return fail(Code::unavailable, "etcdserver: stopped after a disk failure");
    storage::Batch batch;
    uint64_t last = applied_index_;
    for (const raft::Entry& entry : entries) {
      if (entry.index <= last) continue;  // replayed after a restart
      last = entry.index;
      if (entry.type == raft::EntryType::conf_change) {
        auto cc = raft::codec::decode_conf_change(entry.data);
        if (!cc) {
          outcome = fail(cc.error());
          break;
        }
        if (outcome = apply_member_change(*cc, batch); !outcome) break;
        continue;
      }
      if (entry.data.empty()) continue;  // a new leader's empty entry
      any_request = true;
      mgmtraft::InternalRequest req;
      if (!req.ParseFromString(entry.data)) {
        outcome = fail(Code::data_loss, "etcdserver: entry " + std::to_string(entry.index) +
                                            " of the log does not decode");
        break;
      }
      Result<Applied> result = apply_request(req, batch);
      if (req.id() == 0) continue;  // nobody waits (a lease expiry)
      auto it = waiters_.find(req.id());
      if (it == waiters_.end()) continue;  // proposed elsewhere, or given up
      answers.emplace_back(std::move(it->second.done), std::move(result));
      waiters_.erase(it);
    }
    if (outcome && last != applied_index_) outcome = write_applied(batch, last);
    if (!outcome) {
      for (auto& [index, wait] : apply_waits_) reads.push_back(std::move(wait));
      apply_waits_.clear();
    } else {
      reads = take_applied_waits_locked();
    }
  }
  if (!outcome) {
    // Nothing of this batch is recorded: the member stops, and its requests learn why.
    const Error why(Code::unavailable, "etcdserver: this member stopped: " +
                                           outcome.error().message());
    for (auto& [done, result] : answers) done(fail(why));
    run_waits(reads, fail(why));
    return outcome;
  }
  if (any_request) crash_point("after-apply");
  applied_cv_.notify_all();
  run_waits(reads, ok());
  if (answers.empty()) return ok();
  auto reply = [answers = std::move(answers)]() mutable {
    for (auto& [done, result] : answers) done(std::move(result));
  };
  if (reply_runner_) {
    reply_runner_(std::move(reply));
  } else {
    reply();
  }
  return ok();
}

Result<void> Backend::restore(const std::string& state, uint64_t index) {
  std::map<uint64_t, Waiter> orphaned;
  std::vector<ApplyWait> reads;
  {
    std::lock_guard lock(apply_mutex_);
    if (auto r = restore_locked(state, index); !r) return r;
    orphaned.swap(waiters_);
    reads = take_applied_waits_locked();
  }
  run_waits(reads, ok());
  // Requests this member proposed and still waits for may be inside the snapshot, applied
  // without this member seeing them: their outcome is unknown. Say so now (etcd's words)
  // rather than at the request timeout.
  for (auto& [id, waiter] : orphaned) waiter.done(fail(Code::unavailable, kErrTimeout));
  return ok();
}

Result<void> Backend::restore_locked(const std::string& state, uint64_t index) {
  kv().stop_compaction();  // its deletions were for the state being replaced
  if (auto l = storage_->load_state(state); !l) return l;
  if (auto s = open_state(); !s) return s;
  std::map<uint64_t, Member> found;
  std::string end = kMemberPrefix;
  end.back() = static_cast<char>(end.back() + 1);
  (void)storage_->scan(storage::Column::meta, kMemberPrefix, end,
                       [&](std::string_view, std::string_view value) {
                         Member m;
                         if (m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                           found[m.id()] = m;
                         }
                         return true;
                       });
  members_ = std::move(found);
  load_removed();
  auto applied = storage_->get_u64(kAppliedIndex);
  applied_index_ = applied && *applied ? **applied : index;
  if (applied_index_ != index) {
    log::get("etcd")->warn("snapshot at index {} carried state applied up to {}", index,
                           applied_index_);
    applied_index_ = index;
  }
  applied_cv_.notify_all();
  log::get("etcd")->info("installed a snapshot of the store at index {}", index);
  return ok();
}

std::pair<uint64_t, std::shared_ptr<const storage::Storage::StatePoint>> Backend::hold_state()
    const {
  std::lock_guard lock(apply_mutex_);  // an apply writes its entries and its index at once
  return {applied_index_, storage_->hold_state()};
}

}  // namespace mgmt::store::server
