// lessor.cpp: see lessor.h. Semantics follow etcd 3.4's lease/lessor.go.
#include "store/lease/lessor.h"

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <set>

namespace mgmt::store::lease {
namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

std::string encode_lease(LeaseId id, int64_t ttl) {
  return storage::encode_u64(static_cast<uint64_t>(id)) +
         storage::encode_u64(static_cast<uint64_t>(ttl));
}

}  // namespace

struct Lessor::Impl {
  struct Lease {
    int64_t ttl_seconds = 0;
    int64_t deadline_ms = kNoDeadline;  // only while primary
    std::set<std::string> keys;
  };

  storage::Storage& storage;
  Options options;
  mutable std::mutex mu;
  std::map<LeaseId, Lease> leases;  // guarded by mu
  bool primary = false;             // guarded by mu

  Impl(storage::Storage& s, Options o) : storage(s), options(o) {}
};

Lessor::Lessor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Lessor::~Lessor() = default;

Result<std::unique_ptr<Lessor>> Lessor::open(storage::Storage& storage, Options options) {
  auto impl = std::make_unique<Impl>(storage, options);
  std::optional<Error> bad;
  auto scanned = storage.scan(storage::Column::leases, "", "",
                              [&](std::string_view key, std::string_view value) {
                                auto id = storage::decode_u64(key);
                                if (!id || value.size() != 16 ||
                                    storage::decode_u64(value.substr(0, 8)) != id) {
                                  bad = Error(Code::data_loss,
                                              "store data dir " + storage.dir() +
                                                  " is damaged: unreadable lease record; restore "
                                                  "a backup or re-add this member with an empty dir");
                                  return false;
                                }
                                Impl::Lease l;
                                l.ttl_seconds =
                                    static_cast<int64_t>(*storage::decode_u64(value.substr(8, 8)));
                                impl->leases.emplace(static_cast<LeaseId>(*id), std::move(l));
                                return true;
                              });
  if (!scanned) return fail(scanned.error());
  if (bad) return fail(*bad);
  return std::unique_ptr<Lessor>(new Lessor(std::move(impl)));
}

void Lessor::attach_existing(const mvcc::KvStore& kv) {
  auto keys = kv.leased_keys();
  std::lock_guard lock(impl_->mu);
  for (const auto& [key, id] : keys) {
    auto it = impl_->leases.find(id);
    if (it != impl_->leases.end()) it->second.keys.insert(key);
  }
}

Result<LeaseInfo> Lessor::grant(LeaseId id, int64_t ttl_seconds, int64_t now_ms,
                                storage::Batch& batch) {
  if (id == mvcc::kNoLease) return fail(Code::not_found, kErrLeaseNotFound);
  if (ttl_seconds > kMaxLeaseTtlSeconds) return fail(Code::out_of_range, kErrLeaseTtlTooLarge);
  std::lock_guard lock(impl_->mu);
  if (impl_->leases.count(id)) return fail(Code::failed_precondition, kErrLeaseExists);
  Impl::Lease l;
  l.ttl_seconds = std::max(ttl_seconds, impl_->options.min_ttl_seconds);
  if (impl_->primary) l.deadline_ms = now_ms + l.ttl_seconds * 1000;
  batch.put(storage::Column::leases, storage::encode_u64(static_cast<uint64_t>(id)),
            encode_lease(id, l.ttl_seconds));
  LeaseInfo info{id, l.ttl_seconds, l.ttl_seconds, {}};
  impl_->leases.emplace(id, std::move(l));
  return info;
}

Result<int64_t> Lessor::revoke(LeaseId id, mvcc::KvStore& kv, storage::Batch& batch) {
  std::vector<std::string> keys;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->leases.find(id);
    if (it == impl_->leases.end()) return fail(Code::not_found, kErrLeaseNotFound);
    keys.assign(it->second.keys.begin(), it->second.keys.end());  // sorted: same on every member
  }
  // Without our lock: the store calls detach() for each key.
  int64_t revision = kv.delete_keys(keys, batch);
  std::lock_guard lock(impl_->mu);
  impl_->leases.erase(id);
  batch.del(storage::Column::leases, storage::encode_u64(static_cast<uint64_t>(id)));
  return revision;
}

Result<int64_t> Lessor::renew(LeaseId id, int64_t now_ms) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->primary) return fail(Code::failed_precondition, kErrNotPrimary);
  auto it = impl_->leases.find(id);
  // An expired lease is as good as revoked (etcd waits for the revoke, then says not found).
  if (it == impl_->leases.end() || it->second.deadline_ms <= now_ms) {
    return fail(Code::not_found, kErrLeaseNotFound);
  }
  it->second.deadline_ms = now_ms + it->second.ttl_seconds * 1000;
  return it->second.ttl_seconds;
}

Result<LeaseInfo> Lessor::time_to_live(LeaseId id, bool with_keys, int64_t now_ms) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->leases.find(id);
  if (it == impl_->leases.end()) return fail(Code::not_found, kErrLeaseNotFound);
  const auto& l = it->second;
  LeaseInfo info;
  info.id = id;
  info.granted_ttl_seconds = l.ttl_seconds;
  if (l.deadline_ms == kNoDeadline) {
    info.ttl_seconds = l.ttl_seconds;
  } else {
    info.ttl_seconds = std::max<int64_t>(0, (l.deadline_ms - now_ms) / 1000);
  }
  if (with_keys) info.keys.assign(l.keys.begin(), l.keys.end());
  return info;
}

std::vector<LeaseId> Lessor::list() const {
  std::lock_guard lock(impl_->mu);
  std::vector<LeaseId> out;
  for (const auto& [id, l] : impl_->leases) out.push_back(id);
  return out;
}

bool Lessor::contains(LeaseId id) const {
  std::lock_guard lock(impl_->mu);
  return impl_->leases.count(id) > 0;
}

std::vector<LeaseId> Lessor::expired(int64_t now_ms, std::size_t max) const {
  std::lock_guard lock(impl_->mu);
  std::vector<std::pair<int64_t, LeaseId>> due;
  if (!impl_->primary) return {};
  for (const auto& [id, l] : impl_->leases) {
    if (l.deadline_ms <= now_ms) due.emplace_back(l.deadline_ms, id);
  }
  std::sort(due.begin(), due.end());
  std::vector<LeaseId> out;
  for (std::size_t i = 0; i < due.size() && i < max; ++i) out.push_back(due[i].second);
  return out;
}

void Lessor::promote(int64_t now_ms) {
  std::lock_guard lock(impl_->mu);
  impl_->primary = true;
  for (auto& [id, l] : impl_->leases) l.deadline_ms = now_ms + l.ttl_seconds * 1000;
}

void Lessor::demote() {
  std::lock_guard lock(impl_->mu);
  impl_->primary = false;
  for (auto& [id, l] : impl_->leases) l.deadline_ms = kNoDeadline;
}

bool Lessor::is_primary() const {
  std::lock_guard lock(impl_->mu);
  return impl_->primary;
}

bool Lessor::lease_exists(LeaseId id) const { return contains(id); }

void Lessor::attach(LeaseId id, const std::string& key) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->leases.find(id);
  if (it != impl_->leases.end()) it->second.keys.insert(key);
}

void Lessor::detach(LeaseId id, const std::string& key) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->leases.find(id);
  if (it != impl_->leases.end()) it->second.keys.erase(key);
}

}  // namespace mgmt::store::lease
