// watch_service_test.cpp: the Watch service as a client on loopback sees it, with many streams
// open at once (every agent of a cluster holds one): a stream costs the member no thread, each
// stream gets its own live events, and a stream whose client leaves is gone (its watchers too),
// as /metrics shows with etcd's gauges. A client that stops reading falls behind without the
// member queueing every write for it, and then gets every event once and in order, or the
// compaction that took them.
#include "store/client/etcd_client.h"
#include "test/support/process/loopback_client.h"
#include "test/support/store/async_client.h"
#include "test/support/store/metrics_page.h"
#include "test/support/store/our_store.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

using mgmt::test::next_event;
using mgmt::test::threads_of_this_process;
using namespace std::chrono_literals;

namespace {

// A gauge's value in the member's /metrics (-1 when absent).
double gauge(int port, const std::string& name) {
  return mgmt::test::metric_sample(mgmt::test::metrics_page(port), name);
}

using Stream = mgmt::test::AsyncStream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

}  // namespace

TEST_CASE("watch: many streams hold no member thread each, get their own events, and end "
          "when their client leaves", "[store][watch]") {
  mgmt::test::OurStore store;
  REQUIRE(store.server().wait_for_leader(10s));
  const int port = store.port();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  REQUIRE(channel->WaitForConnected(std::chrono::system_clock::now() + 10s));
  auto stub = etcdserverpb::Watch::NewStub(channel);
  grpc::CompletionQueue queue;
  void* tag = nullptr;
  bool ok = false;

  // Each stream starts, sends its create and reads the answer. Tags: stream index * 4 + step.
  constexpr int kStreams = 60;
  enum Step { kStart = 0, kWrite = 1, kRead = 2 };
  auto tag_of = [](int stream, Step step) {
    return reinterpret_cast<void*>(static_cast<intptr_t>(stream * 4 + step));
  };
  auto stream_of = [](void* t) { return static_cast<int>(reinterpret_cast<intptr_t>(t) / 4); };
  std::vector<Stream> streams(kStreams);
  const int threads_before = threads_of_this_process();
  for (int i = 0; i < kStreams; ++i) {
    streams[i].call = stub->AsyncWatch(&streams[i].context, &queue, tag_of(i, kStart));
  }
  for (int started = 0; started < kStreams; ++started) REQUIRE(next_event(queue, &tag, &ok));
  for (int i = 0; i < kStreams; ++i) {
    etcdserverpb::WatchRequest create;
    create.mutable_create_request()->set_key("w/" + std::to_string(i));
    streams[i].call->Write(create, tag_of(i, kWrite));
  }
  for (int written = 0; written < kStreams; ++written) {
    REQUIRE(next_event(queue, &tag, &ok));
    REQUIRE(ok);
  }
  for (int i = 0; i < kStreams; ++i) streams[i].call->Read(&streams[i].response, tag_of(i, kRead));
  for (int created = 0; created < kStreams; ++created) {
    REQUIRE(next_event(queue, &tag, &ok));
    REQUIRE(ok);
    CHECK(streams[stream_of(tag)].response.created());
  }
  // The old design took two member threads per stream (120 here).
  CHECK(threads_of_this_process() - threads_before < 10);
  CHECK(gauge(port, "etcd_debugging_mvcc_watch_stream_total") == kStreams);
  CHECK(gauge(port, "etcd_debugging_mvcc_watcher_total") == kStreams);

  // A put to every second key: exactly those streams see their own key.
  auto client = mgmt::store::client::EtcdClient::open({store.endpoint()});
  REQUIRE(client);
  for (int i = 0; i < kStreams; ++i) streams[i].call->Read(&streams[i].response, tag_of(i, kRead));
  for (int i = 0; i < kStreams; i += 2) REQUIRE((*client)->put("w/" + std::to_string(i), "v"));
  for (int seen = 0; seen < kStreams / 2; ++seen) {
    REQUIRE(next_event(queue, &tag, &ok));
    REQUIRE(ok);
    const int index = stream_of(tag);
    const auto& response = streams[index].response;
    CHECK(index % 2 == 0);
    REQUIRE(response.events_size() == 1);
    CHECK(response.events(0).kv().key() == "w/" + std::to_string(index));
  }

  // The clients leave (the odd streams' reads end unanswered): every stream and watcher is
  // then gone from the member. It learns of each cancel from its socket, so /metrics is read
  // until it shows that, for at most 5 s.
  for (auto& s : streams) s.context.TryCancel();
  for (int ended = 0; ended < kStreams / 2; ++ended) REQUIRE(next_event(queue, &tag, &ok));
  for (int i = 0; i < 500 && gauge(port, "etcd_debugging_mvcc_watch_stream_total") != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(gauge(port, "etcd_debugging_mvcc_watch_stream_total") == 0);
  CHECK(gauge(port, "etcd_debugging_mvcc_watcher_total") == 0);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

// A watch on the prefix big/ whose client then reads nothing while 64 MiB of matching puts
// go in: more than the member's 16 MiB backlog and what the connection buffers, so the watcher
// falls behind. read() then takes the next response.
struct StuckWatch {
  static constexpr int kPuts = 64;

  StuckWatch() {
    REQUIRE(store.server().wait_for_leader(10s));
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // as clientv3's: a replay of history can be large
    channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(store.port()),
                                        grpc::InsecureChannelCredentials(), args);
    stub = etcdserverpb::Watch::NewStub(channel);
    stream.call = stub->AsyncWatch(&stream.context, &queue, nullptr);
    REQUIRE(next_event(queue, &tag, &ok));
    etcdserverpb::WatchRequest create;
    create.mutable_create_request()->set_key("big/");
    create.mutable_create_request()->set_range_end("big0");
    stream.call->Write(create, nullptr);
    REQUIRE(next_event(queue, &tag, &ok));
    REQUIRE(read().created());

    auto opened = mgmt::store::client::EtcdClient::open({store.endpoint()});
    REQUIRE(opened);
    client = std::move(*opened);
    for (int i = 0; i < kPuts; ++i) {
      auto put = client->put("big/" + std::to_string(100 + i), value);
      REQUIRE(put);
      revisions.push_back(*put);
    }
  }
  ~StuckWatch() {
    stream.context.TryCancel();
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
  }
  const etcdserverpb::WatchResponse& read() {
    stream.call->Read(&stream.response, nullptr);
    REQUIRE(next_event(queue, &tag, &ok));
    REQUIRE(ok);
    return stream.response;
  }

  mgmt::test::OurStore store;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::Watch::Stub> stub;
  grpc::CompletionQueue queue;
  void* tag = nullptr;
  bool ok = false;
  Stream stream;
  std::unique_ptr<mgmt::store::client::EtcdClient> client;
  const std::string value = std::string(1 << 20, 'v');
  std::vector<int64_t> revisions;  // of the puts
};

TEST_CASE("watch: a client that stops reading holds a bounded backlog on the member, then gets "
          "every event once and in order", "[store][watch]") {
  StuckWatch w;
  CHECK(gauge(w.store.port(), "etcd_debugging_mvcc_slow_watcher_total") == 1);

  // It reads again: every put's event, once, in order; then it is in step again, live.
  std::vector<std::pair<std::string, int64_t>> seen;
  while (seen.size() < StuckWatch::kPuts) {
    const auto& response = w.read();
    REQUIRE_FALSE(response.canceled());
    for (const auto& e : response.events()) {
      seen.emplace_back(e.kv().key(), e.kv().mod_revision());
      CHECK(e.kv().value().size() == w.value.size());
    }
  }
  REQUIRE(seen.size() == StuckWatch::kPuts);
  for (int i = 0; i < StuckWatch::kPuts; ++i) {
    CHECK(seen[i].first == "big/" + std::to_string(100 + i));
    CHECK(seen[i].second == w.revisions[i]);
  }
  CHECK(gauge(w.store.port(), "etcd_debugging_mvcc_slow_watcher_total") == 0);
  REQUIRE(w.client->put("big/live", "now"));
  const auto& live = w.read();
  REQUIRE(live.events_size() == 1);
  CHECK(live.events(0).kv().key() == "big/live");
}

TEST_CASE("watch: a watcher that fell behind past a compaction is told the compact revision and "
          "canceled, as etcd's", "[store][watch]") {
  StuckWatch w;
  REQUIRE(gauge(w.store.port(), "etcd_debugging_mvcc_slow_watcher_total") == 1);
  const int64_t last = w.revisions.back();
  auto kv = etcdserverpb::KV::NewStub(w.channel);
  grpc::ClientContext compact_context;
  etcdserverpb::CompactionRequest compact;
  compact.set_revision(last);
  etcdserverpb::CompactionResponse compacted;
  REQUIRE(kv->Compact(&compact_context, compact, &compacted).ok());

  // What was queued before it fell behind arrives in order; then the compaction, once.
  int64_t previous = 0;
  for (;;) {
    const auto& response = w.read();
    if (response.compact_revision() != 0) break;
    for (const auto& e : response.events()) {
      CHECK(e.kv().mod_revision() == (previous == 0 ? e.kv().mod_revision() : previous + 1));
      previous = e.kv().mod_revision();
    }
  }
  CHECK(w.stream.response.compact_revision() == last);
  CHECK(w.stream.response.canceled());
  CHECK(previous < last);
  CHECK(gauge(w.store.port(), "etcd_debugging_mvcc_slow_watcher_total") == 0);
}

TEST_CASE("watch: a watch from revision 1 on a long history gets it in parts paced by its "
          "client, each event once and in order, then live events",
          "[store][watch]") {
  mgmt::test::OurStore store;
  REQUIRE(store.server().wait_for_leader(10s));
  auto channel = store.channel();
  auto kv = etcdserverpb::KV::NewStub(channel);
  // 200 txns of 128 puts: 25,600 events, in revisions of 128 events each; a replay part (10,000
  // events) ends between two of them.
  constexpr int kTxns = 200;
  constexpr int kOps = 128;
  for (int t = 0; t < kTxns; ++t) {
    etcdserverpb::TxnRequest txn;
    for (int i = 0; i < kOps; ++i) {
      auto* put = txn.add_success()->mutable_request_put();
      put->set_key("long/" + std::to_string(t * kOps + i));
      put->set_value("v");
    }
    grpc::ClientContext context;
    etcdserverpb::TxnResponse answer;
    REQUIRE(kv->Txn(&context, txn, &answer).ok());
  }

  auto watch = etcdserverpb::Watch::NewStub(channel);
  auto open = [&](grpc::ClientContext& context, bool no_put) {
    context.set_deadline(std::chrono::system_clock::now() + 60s);
    auto stream = watch->Watch(&context);
    etcdserverpb::WatchRequest create;
    create.mutable_create_request()->set_key("long/");
    create.mutable_create_request()->set_range_end("long0");
    create.mutable_create_request()->set_start_revision(1);
    if (no_put) create.mutable_create_request()->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
    REQUIRE(stream->Write(create));
    etcdserverpb::WatchResponse created;
    REQUIRE(stream->Read(&created));
    REQUIRE(created.created());
    return stream;
  };
  // Every event of the history, once, in revision order.
  grpc::ClientContext all_context;
  auto all = open(all_context, false);
  // Deletes only: every part of the replay is filtered out, so none queues anything.
  grpc::ClientContext deletes_context;
  auto deletes = open(deletes_context, true);

  std::vector<std::string> keys;
  int64_t last_revision = 0;
  etcdserverpb::WatchResponse response;
  while (keys.size() < kTxns * kOps && all->Read(&response)) {
    REQUIRE_FALSE(response.canceled());
    for (const auto& e : response.events()) {
      CHECK(e.kv().mod_revision() >= last_revision);
      last_revision = e.kv().mod_revision();
      keys.push_back(e.kv().key());
    }
  }
  REQUIRE(keys.size() == kTxns * kOps);
  for (int i = 0; i < kTxns * kOps; i += 997) CHECK(keys[i] == "long/" + std::to_string(i));
  CHECK(gauge(store.port(), "etcd_debugging_mvcc_slow_watcher_total") == 0);

  {
    grpc::ClientContext context;
    etcdserverpb::DeleteRangeRequest del;
    del.set_key("long/0");
    etcdserverpb::DeleteRangeResponse answer;
    REQUIRE(kv->DeleteRange(&context, del, &answer).ok());
    REQUIRE(answer.deleted() == 1);
  }
  REQUIRE(all->Read(&response));
  REQUIRE(response.events_size() == 1);
  CHECK(response.events(0).type() == mvccpb::Event::DELETE);
  REQUIRE(deletes->Read(&response));
  REQUIRE(response.events_size() == 1);
  CHECK(response.events(0).kv().key() == "long/0");
  CHECK(response.events(0).type() == mvccpb::Event::DELETE);
  all_context.TryCancel();
  deletes_context.TryCancel();
}
