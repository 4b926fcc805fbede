// etcd_client_watch_gap_test.cpp: a watch that comes back to a store which compacted the history
// it needed, against a scripted Watch service on loopback (a real store cannot be made to
// compact exactly while a client is away). The watch must go on from the store's revision then,
// tell on_gap once, and deliver what follows; without on_gap it must end with on_error.
#include "store/client/etcd_client.h"
#include "test/store/client/watch_seen.h"
#include "test/support/store/scripted_store.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

using mgmt::store::client::EtcdClient;
using mgmt::test::Seen;
using mgmt::test::ScriptedStore;

namespace {

constexpr int64_t kStoreRevision = 10;

// Stream 1: an event at revision 5, then the stream ends (the member went away). Stream 2: the
// history from 6 is compacted (at 8). Stream 3 on: an event at the revision asked for, then open
// until the client ends it. Every Range (the client's probe) answers at revision 10.
struct Scripted {
  Scripted()
      : store([](std::size_t n, int64_t start, grpc::ServerContext*,
                 mgmt::test::WatchStream* stream) {
          if (n == 2) return mgmt::test::send_compacted(stream, 8);
          mgmt::test::send_put_event(stream, "w/" + std::to_string(n), "v", n == 1 ? 5 : start);
          if (n != 1) mgmt::test::wait_for_client_end(stream);
        }) {
    store.kv.set_revision(kStoreRevision);
    auto opened = EtcdClient::open({store.url()});
    REQUIRE(opened);
    client = std::move(*opened);
  }
  ScriptedStore store;
  std::unique_ptr<EtcdClient> client;
};

}  // namespace

TEST_CASE("client watch: back at a store that compacted what it missed, the watch goes on from "
          "the store's revision and says there was a gap",
          "[client][watch]") {
  Scripted scripted;
  Seen seen;
  auto watch = scripted.client->watch("w/", true, 3, seen.callbacks(/*with_gap=*/true));
  REQUIRE(watch);
  REQUIRE(seen.wait_for_events(2));
  std::lock_guard lock(seen.mutex);
  CHECK(seen.events == std::vector<std::string>{"PUT w/1=v", "PUT w/3=v"});
  CHECK(seen.gaps == 1);
  CHECK(seen.errors == 0);
  // Asked from 3; again from after the event at 5; then from after the store's revision.
  CHECK(scripted.store.watch.starts() == std::vector<int64_t>{3, 6, kStoreRevision + 1});
}

TEST_CASE("client watch: without on_gap, a watch that comes back to a compacted history ends "
          "with one error",
          "[client][watch]") {
  Scripted scripted;
  Seen seen;
  auto watch = scripted.client->watch("w/", true, 3, seen.callbacks(/*with_gap=*/false));
  REQUIRE(watch);
  REQUIRE(seen.wait_for_error());
  std::lock_guard lock(seen.mutex);
  CHECK(seen.events == std::vector<std::string>{"PUT w/1=v"});
  CHECK(seen.errors == 1);
  CHECK(scripted.store.watch.starts() == std::vector<int64_t>{3, 6});
}
