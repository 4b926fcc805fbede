// deploy_watcher_gap_test.cpp: an agent whose watch on the store was away while the store
// compacted the history it missed still loads the deploy made meanwhile. A scripted etcd KV and
// Watch service on loopback plays the store (a real one cannot be made to compact exactly while
// a client is away): its first watch stream ends once the test made deploy 2, the second is
// refused as compacted, so no event ever tells of deploy 2. The agent must read the newest
// deploy again (the watch's on_gap) and load it.
#include "agent/deploy/deploy_watcher.h"
#include "test/support/process/child_process.h"
#include "test/support/store/scripted_store.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

using mgmt::agent::deploy::DeployWatcher;
using mgmt::agent::deploy::Payload;
using mgmt::store::client::EtcdClient;
using mgmt::test::TempDir;
using namespace std::chrono_literals;

namespace {

Payload payload(int64_t id) {
  Payload p;
  p.id = id;
  p.frontend = "empty";
  return p;
}

}  // namespace

TEST_CASE("deploy watcher: a deploy made while the watch was away and its history compacted "
          "is loaded, the newest read again",
          "[deploy][watch]") {
  // Stream 1 ends once the test released it (the member went away); stream 2 is refused, its
  // history compacted at 15; stream 3 on stays open until the client ends it.
  std::mutex gate_mutex;
  std::condition_variable gate_cv;
  bool released = false;
  mgmt::test::ScriptedStore store([&](std::size_t n, int64_t, grpc::ServerContext* call,
                                      mgmt::test::WatchStream* stream) {
    if (n == 1) {
      std::unique_lock lock(gate_mutex);
      while (!released && !call->IsCancelled()) gate_cv.wait_for(lock, 50ms);
      return;
    }
    if (n == 2) return mgmt::test::send_compacted(stream, 15);
    mgmt::test::wait_for_client_end(stream);
  });
  store.kv.set(mgmt::agent::deploy::kLatestKey, "1", 10);
  store.kv.set(mgmt::agent::deploy::payload_key(1), encode_payload(payload(1)), 10);
  auto client = EtcdClient::open({store.url()});
  REQUIRE(client);

  std::mutex mutex;
  std::condition_variable loaded_cv;
  std::vector<int64_t> loaded;
  auto loaded_are = [&](const std::vector<int64_t>& want) {
    std::unique_lock lock(mutex);
    return loaded_cv.wait_for(lock, 20s, [&] { return loaded == want; });
  };
  TempDir dir;
  auto watcher = DeployWatcher::start(
      **client, dir.path(), [&](const Payload& p, const std::string&) -> mgmt::Result<void> {
        std::lock_guard lock(mutex);
        loaded.push_back(p.id);
        loaded_cv.notify_all();
        return {};
      });
  REQUIRE(watcher);
  REQUIRE(loaded_are({1}));

  // Deploy 2 lands while the watch is away; the store compacts what the watch missed.
  store.kv.set(mgmt::agent::deploy::payload_key(2), encode_payload(payload(2)), 20);
  store.kv.set(mgmt::agent::deploy::kLatestKey, "2", 20);
  {
    std::lock_guard lock(gate_mutex);
    released = true;
  }
  gate_cv.notify_all();
  REQUIRE(loaded_are({1, 2}));
  // Watched from after the first read; again from there (nothing was delivered); then, past
  // the compaction, from after the store's revision (that watch may start after the load).
  REQUIRE(store.watch.wait_for_starts(3, 20s));
  CHECK(store.watch.starts() == std::vector<int64_t>{11, 11, 21});
  watcher->reset();
}
