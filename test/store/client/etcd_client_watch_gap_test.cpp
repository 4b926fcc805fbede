// etcd_client_watch_gap_test.cpp: a watch that comes back to a store which compacted the history
// it needed, against a scripted Watch service on loopback (a real store cannot be made to
// compact exactly while a client is away). The watch must go on from the store's revision then,
// tell on_gap once, and deliver what follows; without on_gap it must end with on_error.
#include "store/client/etcd_client.h"
#include "test/store/client/watch_seen.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

using mgmt::store::client::EtcdClient;
using mgmt::test::Seen;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kStoreRevision = 10;

// Answers every Range at revision 10 (the client's probe).
class ScriptedKv final : public etcdserverpb::KV::Service {
  grpc::Status Range(grpc::ServerContext*, const etcdserverpb::RangeRequest*,
                     etcdserverpb::RangeResponse* response) override {
    response->mutable_header()->set_revision(kStoreRevision);
    return grpc::Status::OK;
  }
};

// Stream 1: created, an event at revision 5, then the stream ends (the member went away).
// Stream 2: the history from 6 is compacted (at 8). Stream 3 on: created, an event at the
// revision asked for, then open until the client ends it. Records each stream's start revision.
class ScriptedWatch final : public etcdserverpb::Watch::Service {
 public:
  std::vector<int64_t> starts() {
    std::lock_guard lock(mutex_);
    return starts_;
  }

 private:
  grpc::Status Watch(grpc::ServerContext*,
                     grpc::ServerReaderWriter<etcdserverpb::WatchResponse,
                                              etcdserverpb::WatchRequest>* stream) override {
    etcdserverpb::WatchRequest request;
    if (!stream->Read(&request)) return grpc::Status::OK;
    const int64_t start = request.create_request().start_revision();
    std::size_t n;
    {
      std::lock_guard lock(mutex_);
      starts_.push_back(start);
      n = starts_.size();
    }
    etcdserverpb::WatchResponse created;
    created.set_created(true);
    stream->Write(created);
    if (n == 2) {
      etcdserverpb::WatchResponse compacted;
      compacted.set_canceled(true);
      compacted.set_compact_revision(8);
      stream->Write(compacted);
      return grpc::Status::OK;
    }
    etcdserverpb::WatchResponse event;
    auto* kv = event.add_events()->mutable_kv();
    kv->set_key("w/" + std::to_string(n));
    kv->set_value("v");
    kv->set_mod_revision(n == 1 ? 5 : start);
    stream->Write(event);
    if (n == 1) return grpc::Status::OK;
    while (stream->Read(&request)) {
    }
    return grpc::Status::OK;
  }

  std::mutex mutex_;
  std::vector<int64_t> starts_;
};

struct Scripted {
  Scripted() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&kv);
    builder.RegisterService(&watch);
    server = builder.BuildAndStart();
    REQUIRE(server);
    auto opened = EtcdClient::open({"http://127.0.0.1:" + std::to_string(port)});
    REQUIRE(opened);
    client = std::move(*opened);
  }
  ~Scripted() { server->Shutdown(std::chrono::system_clock::now() + 1s); }
  ScriptedKv kv;
  ScriptedWatch watch;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<EtcdClient> client;
};

}  // namespace

TEST_CASE("client watch: back at a store that compacted what it missed, the watch goes on from "
          "the store's revision and says there was a gap",
          "[client][watch]") {
  Scripted store;
  Seen seen;
  auto watch = store.client->watch("w/", true, 3, seen.callbacks(/*with_gap=*/true));
  REQUIRE(watch);
  REQUIRE(seen.wait_for_events(2));
  std::lock_guard lock(seen.mutex);
  CHECK(seen.events == std::vector<std::string>{"PUT w/1=v", "PUT w/3=v"});
  CHECK(seen.gaps == 1);
  CHECK(seen.errors == 0);
  // Asked from 3; again from after the event at 5; then from after the store's revision.
  CHECK(store.watch.starts() == std::vector<int64_t>{3, 6, kStoreRevision + 1});
}

TEST_CASE("client watch: without on_gap, a watch that comes back to a compacted history ends "
          "with one error",
          "[client][watch]") {
  Scripted store;
  Seen seen;
  auto watch = store.client->watch("w/", true, 3, seen.callbacks(/*with_gap=*/false));
  REQUIRE(watch);
  REQUIRE(seen.wait_for_error());
  std::lock_guard lock(seen.mutex);
  CHECK(seen.events == std::vector<std::string>{"PUT w/1=v"});
  CHECK(seen.errors == 1);
  CHECK(store.watch.starts() == std::vector<int64_t>{3, 6});
}
