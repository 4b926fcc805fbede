// store_access.cpp: see store_access.h.
#include "agent/run/store_access.h"

#include "common/log.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace mgmt::agent::run {
namespace {

// Keeps the client's watch alive for as long as the resource's watch lives.
class KeyWatch final : public resources::Watch {
 public:
  explicit KeyWatch(std::unique_ptr<store::client::Watch> w) : watch_(std::move(w)) {}

 private:
  std::unique_ptr<store::client::Watch> watch_;
};

}  // namespace

EtcdStoreAccess::EtcdStoreAccess(store::client::EtcdClient& client)
    : client_(client),
      lease_client_(std::move(*store::client::EtcdClient::open(client.endpoints()))) {}

Result<std::optional<std::string>> EtcdStoreAccess::get(const std::string& key) {
  auto r = client_.get(key);
  if (!r) return fail(r.error());
  if (r->kvs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(r->kvs.front().value);
}

Result<void> EtcdStoreAccess::put(const std::string& key, const std::string& value) {
  auto r = client_.put(key, value);
  if (!r) return fail(r.error());
  return ok();
}

Result<void> EtcdStoreAccess::del(const std::string& key) {
  auto r = client_.del(key);
  if (!r) return fail(r.error());
  return ok();
}

Result<void> EtcdStoreAccess::put_expiring(const std::string& key, const std::string& value,
                                           int64_t ttl_seconds, bool outlive_stop) {
  if (ttl_seconds <= 0) ttl_seconds = 10;
  int64_t lease = 0;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return fail(Code::unavailable, "the agent is stopping");
    auto it = leases_.find({ttl_seconds, outlive_stop});
    if (it != leases_.end()) lease = it->second.id;
  }
  if (lease == 0) {
    auto granted = client_.lease_grant(ttl_seconds);
    if (!granted) return fail(granted.error());
    lease = *granted;
    std::lock_guard lock(mutex_);
    leases_[{ttl_seconds, outlive_stop}] = Lease{lease, outlive_stop};
    if (!keeper_.joinable()) keeper_ = std::thread([this] { keep_alive_loop(); });
  }
  auto r = client_.put(key, value, lease);
  if (!r) {
    // The lease may have expired meanwhile: forget it, so the next put grants a new one.
    std::lock_guard lock(mutex_);
    auto it = leases_.find({ttl_seconds, outlive_stop});
    if (it != leases_.end() && it->second.id == lease) leases_.erase(it);
    return fail(r.error());
  }
  return ok();
}

// Renews every lease a third of the shortest TTL apart (at least every second); a lease the
// store no longer knows is dropped (its keys are gone; their watchers put them again).
void EtcdStoreAccess::keep_alive_loop() {
  std::unique_lock lock(mutex_);
  while (!closing_) {
    int64_t shortest = 10;
    for (const auto& [key, lease] : leases_) shortest = std::min(shortest, key.first);
    const auto pause = std::chrono::milliseconds(std::max<int64_t>(1000, shortest * 1000 / 3));
    if (wake_.wait_for(lock, pause, [&] { return closing_; })) break;
    if (leases_.empty()) continue;
    auto leases = leases_;
    lock.unlock();
    log::get("agent")->debug("renewing {} lease(s) of this agent's expiring keys", leases.size());
    std::vector<std::pair<int64_t, bool>> lost;
    std::size_t renewed = 0;
    for (const auto& [key, lease] : leases) {
      if (lease_client_->lease_keep_alive_once(lease.id)) {
        ++renewed;
        continue;
      }
      std::lock_guard closing(mutex_);
      if (!closing_) lost.push_back(key);  // not abandoned by close(): the store lost it
    }
    const std::size_t abandoned = leases.size() - renewed - lost.size();
    log::get("agent")->debug("renewed {} of {} lease(s){}", renewed, leases.size(),
                             abandoned == 0 ? "" : ", the rest abandoned: this agent is stopping");
    lock.lock();
    for (const auto& key : lost) {
      auto it = leases_.find(key);
      if (it != leases_.end() && it->second.id == leases.at(key).id) leases_.erase(it);
    }
  }
}

void EtcdStoreAccess::close() {
  std::map<std::pair<int64_t, bool>, Lease> leases;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
    leases.swap(leases_);
  }
  wake_.notify_all();
  lease_client_->cancel_calls("this agent is stopping");
  if (keeper_.joinable()) keeper_.join();
  lease_client_->resume_calls();
  // A courtesy (the keys expire within their TTL anyway): at most 1 s in all, so that a store
  // without quorum, as when a whole cluster stops at once, does not hold the stop up.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (const auto& [key, lease] : leases) {
    if (lease.outlive_stop) continue;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    std::string why = "the second given to revoking leases had passed";
    if (left.count() > 0) {
      auto revoked = lease_client_->lease_revoke(lease.id, left);
      if (revoked) continue;
      why = revoked.error().message();
    }
    log::get("agent")->info("the keys of lease {:x} were not deleted ({}); they expire within {} "
                            "s by themselves",
                            lease.id, why, key.first);
  }
}

EtcdStoreAccess::~EtcdStoreAccess() { close(); }

Result<std::map<std::string, std::pair<std::string, int64_t>>> EtcdStoreAccess::list_prefix(
    const std::string& prefix) {
  store::client::GetOptions options;
  options.prefix = true;
  auto r = client_.get(prefix, options);
  if (!r) return fail(r.error());
  std::map<std::string, std::pair<std::string, int64_t>> out;
  for (const auto& kv : r->kvs) out[kv.key] = {kv.value, kv.create_revision};
  return out;
}

Result<std::map<std::string, std::string>> EtcdStoreAccess::get_prefix(
    const std::string& prefix) {
  store::client::GetOptions options;
  options.prefix = true;
  auto r = client_.get(prefix, options);
  if (!r) return fail(r.error());
  std::map<std::string, std::string> out;
  for (const auto& kv : r->kvs) out[kv.key] = kv.value;
  return out;
}

namespace {

// A watch of `key` (or every key under it) that pokes `on_change` on each change, and after a
// gap in what it saw; the loss and return of the store, gaps and the end of the watch are logged
// by `component`.
std::unique_ptr<resources::Watch> watch_key(store::client::EtcdClient& client,
                                            const std::string& key, bool prefix,
                                            std::function<void()> on_change,
                                            const std::string& component) {
  store::client::WatchCallbacks callbacks;
  callbacks.on_events = [on_change](const std::vector<store::client::WatchEvent>&) {
    on_change();
  };
  callbacks.on_error = [key, component, on_change](const Error& e) {
    log::get(component)->warn("watch of {} in the store ended: {}", key, e.message());
    on_change();  // what changed meanwhile is read again
  };
  callbacks.on_notice = [key, component](const std::string& notice) {
    log::get(component)->info("watch of {}: {}", key, notice);
  };
  // Away from the store, the watch missed changes the store no longer has: read it again.
  callbacks.on_gap = [key, component, on_change](const Error& e) {
    log::get(component)->warn("watch of {}: {}; reading it again", key, e.message());
    on_change();
  };
  auto w = client.watch(key, prefix, 0, std::move(callbacks));
  if (!w) return nullptr;
  return std::make_unique<KeyWatch>(std::move(*w));
}

}  // namespace

std::unique_ptr<resources::Watch> EtcdStoreAccess::watch_prefix(
    const std::string& prefix, std::function<void()> on_change) {
  return watch_key(client_, prefix, true, std::move(on_change), "lang");
}

std::unique_ptr<resources::Watch> EtcdStoreAccess::watch(const std::string& key,
                                                         std::function<void()> on_change) {
  return watch_key(client_, key, false, std::move(on_change), "engine");
}

}  // namespace mgmt::agent::run
