// deploy_watcher_gap_test.cpp: an agent whose watch on the store was away while the store
// compacted the history it missed still loads the deploy made meanwhile. A scripted etcd KV and
// Watch service on loopback plays the store (a real one cannot be made to compact exactly while
// a client is away): its first watch stream ends once the test made deploy 2, the second is
// refused as compacted, so no event ever tells of deploy 2. The agent must read the newest
// deploy again (the watch's on_gap) and load it.
#include "agent/deploy/deploy_watcher.h"
#include "test/support/process/child_process.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

using mgmt::agent::deploy::DeployWatcher;
using mgmt::agent::deploy::Payload;
using mgmt::store::client::EtcdClient;
using mgmt::test::TempDir;
using namespace std::chrono_literals;

namespace {

// Keys and a revision the test sets; Range answers a key or a range [key, range_end).
class ScriptedKv final : public etcdserverpb::KV::Service {
 public:
  void set(const std::string& key, const std::string& value, int64_t revision) {
    std::lock_guard lock(mutex_);
    keys_[key] = value;
    revision_ = revision;
  }

 private:
  grpc::Status Range(grpc::ServerContext*, const etcdserverpb::RangeRequest* request,
                     etcdserverpb::RangeResponse* response) override {
    std::lock_guard lock(mutex_);
    response->mutable_header()->set_revision(revision_);
    auto it = keys_.lower_bound(request->key());
    for (; it != keys_.end(); ++it) {
      const bool one = request->range_end().empty();
      if (one ? it->first != request->key() : it->first >= request->range_end()) break;
      auto* kv = response->add_kvs();
      kv->set_key(it->first);
      kv->set_value(it->second);
      kv->set_mod_revision(revision_);
      if (one) break;
    }
    response->set_count(response->kvs_size());
    return grpc::Status::OK;
  }

  std::mutex mutex_;
  std::map<std::string, std::string> keys_;
  int64_t revision_ = 1;
};

// Stream 1: created, then ends once the test releases it (the member went away). Stream 2:
// refused, its history compacted at 15. Stream 3 on: created, open until the client ends it.
// Records each stream's start revision.
class ScriptedWatch final : public etcdserverpb::Watch::Service {
 public:
  void release_first() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<int64_t> starts() {
    std::lock_guard lock(mutex_);
    return starts_;
  }

 private:
  grpc::Status Watch(grpc::ServerContext* call,
                     grpc::ServerReaderWriter<etcdserverpb::WatchResponse,
                                              etcdserverpb::WatchRequest>* stream) override {
    etcdserverpb::WatchRequest request;
    if (!stream->Read(&request)) return grpc::Status::OK;
    std::size_t n;
    {
      std::lock_guard lock(mutex_);
      starts_.push_back(request.create_request().start_revision());
      n = starts_.size();
    }
    etcdserverpb::WatchResponse created;
    created.set_created(true);
    stream->Write(created);
    if (n == 1) {
      std::unique_lock lock(mutex_);
      while (!released_ && !call->IsCancelled()) cv_.wait_for(lock, 50ms);
      return grpc::Status::OK;
    }
    if (n == 2) {
      etcdserverpb::WatchResponse compacted;
      compacted.set_canceled(true);
      compacted.set_compact_revision(15);
      stream->Write(compacted);
      return grpc::Status::OK;
    }
    while (stream->Read(&request)) {
    }
    return grpc::Status::OK;
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
  std::vector<int64_t> starts_;
};

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
  ScriptedKv kv;
  ScriptedWatch watch;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&kv);
  builder.RegisterService(&watch);
  auto server = builder.BuildAndStart();
  REQUIRE(server);
  kv.set(mgmt::agent::deploy::kLatestKey, "1", 10);
  kv.set(mgmt::agent::deploy::payload_key(1), encode_payload(payload(1)), 10);
  auto client = EtcdClient::open({"http://127.0.0.1:" + std::to_string(port)});
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
  kv.set(mgmt::agent::deploy::payload_key(2), encode_payload(payload(2)), 20);
  kv.set(mgmt::agent::deploy::kLatestKey, "2", 20);
  watch.release_first();
  REQUIRE(loaded_are({1, 2}));
  // Watched from after the first read; again from there (nothing was delivered); then, past
  // the compaction, from after the store's revision.
  CHECK(watch.starts() == std::vector<int64_t>{11, 11, 21});
  watcher->reset();
  server->Shutdown(std::chrono::system_clock::now() + 1s);
}
