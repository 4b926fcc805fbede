// backend.cpp: opening the member's state and the single-member write path; see backend.h.
#include "store/server/backend.h"

#include "store/mvcc/validate.h"

#include <chrono>
#include <functional>

namespace mgmt::store::server {
namespace {

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

}  // namespace

int64_t Backend::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Backend>> Backend::open(const BackendConfig& config) {
  std::unique_ptr<Backend> b(new Backend());
  storage::Options options;
  options.dir = config.data_dir;
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
  } else {
    std::string identity = config.member_name;
    for (const auto& u : config.peer_urls) identity += "," + u;
    // The time makes two clusters started with the same names distinct, as etcd's does.
    auto started = static_cast<uint64_t>(
        std::chrono::system_clock::now().time_since_epoch().count());
    b->member_id_ = fnv1a(identity, started);
    b->cluster_id_ = fnv1a(identity + "/cluster", b->member_id_);
    if (auto bound = b->storage_->bind_cluster(b->cluster_id_, b->member_id_); !bound) {
      return fail(bound.error());
    }
  }
  auto applied = b->storage_->get_u64(kAppliedIndex);
  if (!applied) return fail(applied.error());
  b->applied_index_ = applied->value_or(0);

  auto lessor = lease::Lessor::open(*b->storage_, lease::Options{});
  if (!lessor) return fail(lessor.error());
  b->lessor_ = std::move(*lessor);
  auto kv = mvcc::KvStore::open(*b->storage_, b->lessor_.get());
  if (!kv) return fail(kv.error());
  b->kv_ = std::move(*kv);
  b->lessor_->attach_existing(*b->kv_);
  b->lessor_->promote(now_ms());
  b->lease_id_state_ = b->member_id_ ^ static_cast<uint64_t>(
      std::chrono::system_clock::now().time_since_epoch().count());  // the only member is the leader: leases start counting now
  return b;
}

Backend::~Backend() = default;

uint64_t Backend::applied_index() const {
  std::lock_guard lock(write_mutex_);
  return applied_index_;
}

Result<void> Backend::commit(storage::Batch& batch) {
  batch.put_u64(kAppliedIndex, applied_index_ + 1);
  if (auto w = storage_->write(batch, /*sync=*/true); !w) {
    failed_ = true;
    return fail(Code::unavailable, "etcdserver: the member's disk refused a write (" +
                                       w.error().message() + "); it stops accepting writes");
  }
  ++applied_index_;
  return ok();
}

// One write: refuse after a disk failure, let `make` fill a batch, commit it synced.
// Requires: write_mutex_ held.
template <typename F>
auto Backend::apply_write(F&& make) -> decltype(make(std::declval<storage::Batch&>())) {
  if (failed_) {
    return fail(Code::unavailable,
                "etcdserver: this member stopped accepting writes after a disk failure; "
                "restart it once the disk is healthy");
  }
  storage::Batch batch;
  auto response = make(batch);
  if (!response) return response;
  if (auto c = commit(batch); !c) return fail(c.error());
  return response;
}

Result<mvcc::RangeResponse> Backend::range(const mvcc::RangeRequest& r) const {
  if (auto v = mvcc::validate_range(r); !v) return fail(v.error());
  return kv_->range(r);
}

Result<mvcc::PutResponse> Backend::put(const mvcc::PutRequest& r) {
  if (auto v = mvcc::validate_put(r); !v) return fail(v.error());
  std::lock_guard lock(write_mutex_);
  return apply_write([&](storage::Batch& batch) { return kv_->put(r, batch); });
}

Result<mvcc::DeleteRangeResponse> Backend::delete_range(const mvcc::DeleteRangeRequest& r) {
  if (auto v = mvcc::validate_delete_range(r); !v) return fail(v.error());
  std::lock_guard lock(write_mutex_);
  return apply_write([&](storage::Batch& batch) { return kv_->delete_range(r, batch); });
}

Result<mvcc::TxnResponse> Backend::txn(const mvcc::TxnRequest& r) {
  if (auto v = mvcc::validate_txn(r); !v) return fail(v.error());
  std::lock_guard lock(write_mutex_);
  return apply_write([&](storage::Batch& batch) { return kv_->txn(r, batch); });
}

Result<mvcc::CompactResponse> Backend::compact(int64_t revision) {
  std::lock_guard lock(write_mutex_);
  return apply_write([&](storage::Batch& batch) { return kv_->compact(revision, batch); });
}

Result<lease::LeaseInfo> Backend::lease_grant(lease::LeaseId id, int64_t ttl_seconds) {
  std::lock_guard lock(write_mutex_);
  // etcd picks ids from a member-specific generator; ours: splitmix64 seeded at open, positive,
  // never an id that is in use.
  while (id == 0) {
    lease_id_state_ += 0x9e3779b97f4a7c15ULL;
    uint64_t z = lease_id_state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    id = static_cast<lease::LeaseId>((z ^ (z >> 31)) >> 1);
    if (lessor_->contains(id)) id = 0;
  }
  return apply_write(
      [&](storage::Batch& batch) { return lessor_->grant(id, ttl_seconds, now_ms(), batch); });
}

Result<int64_t> Backend::lease_revoke(lease::LeaseId id) {
  std::lock_guard lock(write_mutex_);
  return apply_write([&](storage::Batch& batch) { return lessor_->revoke(id, *kv_, batch); });
}

Result<int64_t> Backend::lease_renew(lease::LeaseId id) { return lessor_->renew(id, now_ms()); }

Result<lease::LeaseInfo> Backend::lease_time_to_live(lease::LeaseId id, bool keys) const {
  return lessor_->time_to_live(id, keys, now_ms());
}

std::size_t Backend::expire_leases() {
  std::size_t revoked = 0;
  for (lease::LeaseId id : lessor_->expired(now_ms())) {
    if (lease_revoke(id)) ++revoked;
  }
  return revoked;
}

}  // namespace mgmt::store::server
