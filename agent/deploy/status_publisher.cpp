// status_publisher.cpp: see status_publisher.h.
#include "agent/deploy/status_publisher.h"

#include "common/log.h"

#include <chrono>

namespace mgmt::agent::deploy {
namespace {
constexpr int64_t kLeaseTtlSeconds = 10;
constexpr auto kBeat = std::chrono::seconds(3);
// The revoke when the agent stops is a courtesy (the lease expires within its TTL anyway): a
// store without quorum, as when a whole cluster stops at once, does not hold the stop up longer.
constexpr auto kRevokeOnStop = std::chrono::seconds(1);
}  // namespace

StatusPublisher::StatusPublisher(store::client::EtcdClient& client,
                                 std::function<HostStatus()> read)
    : client_(client), read_(std::move(read)) {
  thread_ = std::thread([this] { loop(); });
}

StatusPublisher::~StatusPublisher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  // A call under way to a store that does not answer (no quorum, paused) is abandoned now
  // rather than waited out; the client is this publisher's own.
  client_.cancel_calls("this agent is stopping");
  thread_.join();
  client_.resume_calls();
  if (lease_ == 0) return;
  if (auto revoked = client_.lease_revoke(lease_, kRevokeOnStop); !revoked) {
    log::get("deploy")->info("this host's status was not withdrawn ({}); it vanishes from the "
                             "store within {} s by itself",
                             revoked.error().message(), kLeaseTtlSeconds);
  }
}

void StatusPublisher::poke() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

void StatusPublisher::loop() {
  std::string published;
  std::unique_lock lock(mutex_);
  // A call that fails because the agent stops says nothing of the lease: it is kept, and the
  // destructor revokes it.
  while (!stop_) {
    lock.unlock();
    if (lease_ != 0 && !client_.lease_keep_alive_once(lease_) && !stopping()) lease_ = 0;
    if (lease_ == 0 && !stopping()) {
      auto granted = client_.lease_grant(kLeaseTtlSeconds);
      if (granted) lease_ = *granted;
      published.clear();
    }
    if (!stopping()) {
      HostStatus status = read_();
      std::string text = encode_status(status);
      if (lease_ != 0 && text != published) {
        if (client_.put(kStatusPrefix + status.host, text, lease_)) published = text;
      }
    }
    lock.lock();
    wake_.wait_for(lock, kBeat, [this] { return stop_ || poked_; });
    poked_ = false;
  }
}

bool StatusPublisher::stopping() {
  std::lock_guard lock(mutex_);
  return stop_;
}

}  // namespace mgmt::agent::deploy
