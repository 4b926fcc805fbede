// deploy_watcher.h: the agent's side of deploys. It loads the newest deploy at start, then
// watches /_mgmt/deploy/latest and loads each newer one: payload and files are copied from the
// store into <work_dir>/<id>/, and handed to `apply` (which turns them into a graph and swaps
// it into the engine). An older deploy is never loaded after a newer one; a deploy that fails
// to load is logged and leaves the running graph as it was. The client's watch carries on by
// itself when the member it was on restarts or goes away (etcd_client.h); if the store compacted
// what it missed meanwhile, the newest deploy is read again: no deploy is missed, and no restart
// is needed.
// Thread-safety: apply runs on the watch's thread, one deploy at a time; loaded() and
// last_error() may be called from any thread.
#pragma once

#include "agent/deploy/layout.h"
#include "common/result.h"
#include "store/client/etcd_client.h"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mgmt::agent::deploy {

class DeployWatcher {
 public:
  using Apply = std::function<Result<void>(const Payload& payload, const std::string& dir)>;

  [[nodiscard]] static Result<std::unique_ptr<DeployWatcher>> start(
      store::client::EtcdClient& client, std::string work_dir, Apply apply);
  ~DeployWatcher();

  // Loads no more deploys: stops watching, after the load under way (if any) finishes. What
  // loaded() and the rest say stays. The destructor does it too.
  void stop();
  int64_t loaded() const;
  int64_t attempted() const;  // the newest deploy id it tried to load
  std::string last_error() const;

 private:
  DeployWatcher(store::client::EtcdClient& client, std::string work_dir, Apply apply);
  void consider(int64_t id);
  // Considers the deploy id that /_mgmt/deploy/latest holds, if any (logs one that is not).
  void consider_value(const std::vector<store::client::KeyValue>& latest);
  // Reads /_mgmt/deploy/latest again (asking again for up to 30 s) and considers it.
  void consider_latest();
  Result<void> load(int64_t id);
  Result<void> load_safely(int64_t id);  // load(), an exception thrown in it as an error

  store::client::EtcdClient& client_;
  std::string work_dir_;
  Apply apply_;
  mutable std::mutex mutex_;  // guards loaded_, attempted_, last_error_, stopping_
  std::condition_variable stopping_cv_;
  bool stopping_ = false;
  int64_t loaded_ = 0;
  int64_t attempted_ = 0;
  std::string last_error_;
  std::unique_ptr<store::client::Watch> watch_;
};

}  // namespace mgmt::agent::deploy
