// etcd_client_watch_test.cpp: what the agent relies on from EtcdClient::watch, against our
// store on loopback: every event once and in order (puts and deletes), nothing after the watch
// is destroyed, a watch that carries on through a restart of its store (every event once) and
// ends when destroyed while its store is away, and one error naming the compaction when the
// watch starts before it. The watch runs on gRPC's callback API and hands
// responses to a thread of its own; the tests wait for events, never for time.
#include "store/client/etcd_client.h"
#include "test/store/client/watch_seen.h"
#include "test/support/store/our_store.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using mgmt::Code;
using mgmt::store::client::EtcdClient;
using mgmt::store::client::WatchEvent;
using mgmt::test::Seen;
using namespace std::chrono_literals;

namespace {

// Our store, led, and a client of it.
struct Store {
  Store() : server(std::make_unique<mgmt::test::OurStore>()) {
    REQUIRE(server->server().wait_for_leader(10s));
    auto opened = EtcdClient::open({server->endpoint()});
    REQUIRE(opened);
    client = std::move(*opened);
  }
  // A watch of every key under "w/" from `start` (0: from now), delivering into `seen`.
  std::unique_ptr<mgmt::store::client::Watch> watch(Seen& seen, int64_t start = 0) {
    auto w = client->watch("w/", true, start, seen.on_events(), seen.on_error());
    REQUIRE(w);
    return std::move(*w);
  }
  // The same, with its notices of losing and finding the store again.
  std::unique_ptr<mgmt::store::client::Watch> watch_noticing(Seen& seen) {
    auto w = client->watch("w/", true, 0, seen.callbacks());
    REQUIRE(w);
    return std::move(*w);
  }
  std::unique_ptr<mgmt::test::OurStore> server;
  std::unique_ptr<EtcdClient> client;
};

}  // namespace

TEST_CASE("client watch: every event once and in order, and none once the watch is destroyed",
          "[client][watch]") {
  Store store;
  auto& client = store.client;
  Seen seen;
  auto watch = store.watch(seen);
  for (int i = 0; i < 50; ++i) REQUIRE(client->put("w/" + std::to_string(i), "v"));
  REQUIRE(client->del("w/7"));
  REQUIRE(client->put("elsewhere", "x"));  // outside the prefix
  REQUIRE(seen.wait_for_events(51));
  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) expected.push_back("PUT w/" + std::to_string(i) + "=v");
  expected.push_back("DELETE w/7");
  {
    std::lock_guard lock(seen.mutex);
    CHECK(seen.events == expected);
  }
  watch.reset();  // returns once its thread is gone
  REQUIRE(client->put("w/after", "v"));
  std::lock_guard lock(seen.mutex);
  CHECK(seen.events.size() == 51);
  CHECK(seen.errors == 0);  // ending a watch on purpose is not an error
}

TEST_CASE("client watch: through a restart of its store the watch carries on, every event once",
          "[client][watch]") {
  Store store;
  const std::string url = store.server->endpoint();
  Seen seen;
  auto watch = store.watch_noticing(seen);
  REQUIRE(store.client->put("w/1", "v"));
  REQUIRE(seen.wait_for_events(1));
  store.server->restart();
  REQUIRE(seen.wait_for_notice("lost the watch on the store at " + url +
                               "; watching again from revision 3"));
  // Whether the watch is back yet or not, what is written now reaches it, once. (Through a
  // client of its own: the watch's may still wait out its reconnect backoff, up to 2 s.)
  auto writer = EtcdClient::open({url});
  REQUIRE(writer);
  REQUIRE((*writer)->put("w/2", "v"));
  REQUIRE((*writer)->del("w/1"));
  REQUIRE(seen.wait_for_events(3));
  REQUIRE(seen.wait_for_notice("watching the store at " + url + " again from revision 3"));
  REQUIRE(store.client->put("w/3", "v"));  // the watch's client is back too
  REQUIRE(seen.wait_for_events(4));
  std::lock_guard lock(seen.mutex);
  CHECK(seen.events == std::vector<std::string>{"PUT w/1=v", "PUT w/2=v", "DELETE w/1",
                                                "PUT w/3=v"});
  CHECK(seen.errors == 0);  // losing the store for a while does not end the watch
}

TEST_CASE("client watch: a watch waiting for its store to come back ends when destroyed",
          "[client][watch]") {
  Store store;
  Seen seen;
  auto watch = store.watch_noticing(seen);
  store.server->stop();
  REQUIRE(seen.wait_for_notice("lost the watch on the store at "));
  watch.reset();  // returns although no endpoint answers: the test would time out otherwise
  std::lock_guard lock(seen.mutex);
  CHECK(seen.errors == 0);
}

TEST_CASE("client watch: a watch from before the compaction fails naming its revision",
          "[client][watch]") {
  Store store;
  int64_t revision = 0;
  for (int i = 0; i < 5; ++i) {
    auto put = store.client->put("w/" + std::to_string(i), "v");
    REQUIRE(put);
    revision = *put;
  }
  auto kv = etcdserverpb::KV::NewStub(store.server->channel());
  etcdserverpb::CompactionRequest compact;
  compact.set_revision(revision);
  etcdserverpb::CompactionResponse compacted;
  grpc::ClientContext context;
  REQUIRE(kv->Compact(&context, compact, &compacted).ok());

  Seen seen;
  auto watch = store.watch(seen, 2);
  REQUIRE(seen.wait_for_error());
  std::lock_guard lock(seen.mutex);
  CHECK(seen.error->code() == Code::out_of_range);
  CHECK(seen.error->message().find("compaction at revision " + std::to_string(revision)) !=
        std::string::npos);
  CHECK(seen.events.empty());
}
