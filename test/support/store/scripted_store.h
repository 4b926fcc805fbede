// scripted_store.h: a stand-in for an etcd store on loopback, for tests of what a client does
// when the store behaves in a way a real one cannot be made to at a chosen moment (the history a
// watch needs compacted exactly while the client was away). KV's Range answers from the keys
// the test set (one key, or [key, range_end)) at the revision the test set. Each Watch stream is
// created, then played by the test's script, given its number (from 1) and its start revision;
// every stream's start revision is recorded. Header-only: link mgmt_proto_etcd.
#pragma once

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mgmt::test {

using WatchStream =
    grpc::ServerReaderWriter<etcdserverpb::WatchResponse, etcdserverpb::WatchRequest>;
// Plays stream `n` after its created response; the stream ends when the script returns.
using WatchScript = std::function<void(std::size_t n, int64_t start, grpc::ServerContext* call,
                                       WatchStream* stream)>;

class ScriptedKv final : public etcdserverpb::KV::Service {
 public:
  void set(const std::string& key, const std::string& value, int64_t revision) {
    std::lock_guard lock(mutex_);
    keys_[key] = value;
    revision_ = revision;
  }
  void set_revision(int64_t revision) {
    std::lock_guard lock(mutex_);
    revision_ = revision;
  }

 private:
  grpc::Status Range(grpc::ServerContext*, const etcdserverpb::RangeRequest* request,
                     etcdserverpb::RangeResponse* response) override {
    std::lock_guard lock(mutex_);
    response->mutable_header()->set_revision(revision_);
    const bool one = request->range_end().empty();
    for (auto it = keys_.lower_bound(request->key()); it != keys_.end(); ++it) {
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

class ScriptedWatch final : public etcdserverpb::Watch::Service {
 public:
  explicit ScriptedWatch(WatchScript script) : script_(std::move(script)) {}
  std::vector<int64_t> starts() {
    std::lock_guard lock(mutex_);
    return starts_;
  }
  // Waits until `n` watch streams have started (at most `timeout`); whether they have.
  bool wait_for_starts(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return started_.wait_for(lock, timeout, [&] { return starts_.size() >= n; });
  }

 private:
  grpc::Status Watch(grpc::ServerContext* call, WatchStream* stream) override {
    etcdserverpb::WatchRequest request;
    if (!stream->Read(&request)) return grpc::Status::OK;
    const int64_t start = request.create_request().start_revision();
    std::size_t n;
    {
      std::lock_guard lock(mutex_);
      starts_.push_back(start);
      n = starts_.size();
    }
    started_.notify_all();
    etcdserverpb::WatchResponse created;
    created.set_created(true);
    stream->Write(created);
    script_(n, start, call, stream);
    return grpc::Status::OK;
  }

  WatchScript script_;
  std::mutex mutex_;
  std::condition_variable started_;
  std::vector<int64_t> starts_;
};

// What scripts send.
inline void send_put_event(WatchStream* stream, const std::string& key, const std::string& value,
                           int64_t mod_revision) {
  etcdserverpb::WatchResponse event;
  auto* kv = event.add_events()->mutable_kv();
  kv->set_key(key);
  kv->set_value(value);
  kv->set_mod_revision(mod_revision);
  stream->Write(event);
}

// Refuses the watch: the history from its start was compacted at `compact_revision`.
inline void send_compacted(WatchStream* stream, int64_t compact_revision) {
  etcdserverpb::WatchResponse compacted;
  compacted.set_canceled(true);
  compacted.set_compact_revision(compact_revision);
  stream->Write(compacted);
}

// Keeps the stream open until the client ends it.
inline void wait_for_client_end(WatchStream* stream) {
  etcdserverpb::WatchRequest request;
  while (stream->Read(&request)) {
  }
}

struct ScriptedStore {
  explicit ScriptedStore(WatchScript script) : watch(std::move(script)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&kv);
    builder.RegisterService(&watch);
    server = builder.BuildAndStart();
    REQUIRE(server);
  }
  ~ScriptedStore() {
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  ScriptedKv kv;
  ScriptedWatch watch;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

}  // namespace mgmt::test
