// membership.h: how agents share the store's membership (after the reference's volunteers
// and nominations). An agent started with --seeds when the cluster already has
// --ideal-cluster-size voters runs as a client and volunteers: /_mgmt/volunteers/HOST =
// {"peer_urls": [...]} under its lease (gone when it dies). The agent whose store member leads
// runs the chooser: while the cluster has fewer members than the ideal size (a member was
// removed, by hand or by the leader after --member-timeout), it nominates one volunteer at a
// time (/_mgmt/nominated/HOST, under a 30 s lease: a nominee that does not join in time is
// passed over). The nominee asks the cluster to add it as a learner and starts its store; the
// leader promotes it when it has caught up (store/server/raft_host.h).
// Thread-safety: Volunteer and Chooser run threads of their own; their destructors join them.
#pragma once

#include "agent/run/store_access.h"
#include "common/result.h"
#include "store/client/etcd_client.h"
#include "store/server/store_server.h"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mgmt::agent::run {

// Asks the cluster (through `client`) to add a learner at `peer_urls`, and fills `config` so
// that StoreServer::open joins as that member. One line naming the cause on failure.
Result<void> ask_to_join(store::client::EtcdClient& client,
                         const std::vector<std::string>& peer_urls,
                         store::server::StoreConfig& config);

class Volunteer {
 public:
  // Offers this host; `on_nominated` runs once, on the volunteer's thread, when it is chosen.
  Volunteer(EtcdStoreAccess& store, std::string hostname, std::vector<std::string> peer_urls,
            std::function<void()> on_nominated);
  ~Volunteer();
  Volunteer(const Volunteer&) = delete;
  Volunteer& operator=(const Volunteer&) = delete;

 private:
  void loop();
  void poke();

  EtcdStoreAccess& store_;
  const std::string hostname_;
  const std::vector<std::string> peer_urls_;
  std::function<void()> on_nominated_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool poked_ = true;
  std::vector<std::unique_ptr<resources::Watch>> watches_;
  std::thread thread_;
};

class Chooser {
 public:
  // `member_store` returns this agent's store member, or nullptr while it has none.
  Chooser(EtcdStoreAccess& store, store::client::EtcdClient& client,
          std::function<store::server::StoreServer*()> member_store, size_t ideal);
  ~Chooser();
  Chooser(const Chooser&) = delete;
  Chooser& operator=(const Chooser&) = delete;

 private:
  void loop();
  void choose_once();

  EtcdStoreAccess& store_;
  store::client::EtcdClient& client_;
  std::function<store::server::StoreServer*()> member_store_;
  const size_t ideal_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool poked_ = true;
  std::unique_ptr<resources::Watch> volunteers_watch_;
  std::thread thread_;
};

}  // namespace mgmt::agent::run
