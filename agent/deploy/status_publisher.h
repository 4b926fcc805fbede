// status_publisher.h: an agent's status under /_mgmt/status/<hostname> (layout.h), attached to
// a lease kept alive every few seconds, so the key vanishes within the lease TTL when the agent
// dies. `read` is asked for the current status each time.
// Thread-safety: a thread of its own. The destructor abandons the call under way, joins, and
// revokes the lease (waiting at most 1 s for that). The client is the publisher's alone: the
// destructor cancels its calls.
#pragma once

#include "agent/deploy/layout.h"
#include "store/client/etcd_client.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace mgmt::agent::deploy {

class StatusPublisher {
 public:
  StatusPublisher(store::client::EtcdClient& client, std::function<HostStatus()> read);
  ~StatusPublisher();
  // Publish now (after a deploy loaded or the engine converged) rather than at the next beat.
  void poke();

 private:
  void loop();
  bool stopping();
  store::client::EtcdClient& client_;
  std::function<HostStatus()> read_;
  std::mutex mutex_;  // guards stop_, poked_
  std::condition_variable wake_;
  bool stop_ = false;
  bool poked_ = false;
  int64_t lease_ = 0;  // the loop's until it ends, then the destructor's
  std::thread thread_;
};

}  // namespace mgmt::agent::deploy
