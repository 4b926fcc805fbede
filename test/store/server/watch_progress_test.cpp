// watch_progress_test.cpp: periodic watch progress (WatchCreateRequest.progress_notify, the Go
// client's WithProgressNotify), as a client on loopback sees it: a quiet watcher that asked
// hears the current revision under its own watch id at each tick; one that is sent events
// hears nothing more (etcd elides the progress after events); one that did not ask hears
// nothing. (The Go client compatibility test compares the same story with etcd 3.4's.)
#include "test/support/store/our_store.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <string>

using namespace std::chrono_literals;

namespace {

constexpr auto kInterval = 300ms;

bool is_progress(const etcdserverpb::WatchResponse& r) {
  return r.events_size() == 0 && !r.created() && !r.canceled() && r.compact_revision() == 0;
}

}  // namespace

TEST_CASE("watch: a progress_notify watcher hears the revision when quiet, not while it gets "
          "events, and no other watcher does", "[store][watch]") {
  mgmt::test::OurStore store([](mgmt::store::server::StoreConfig& config) {
    config.watch_progress_notify_interval = kInterval;
  });
  REQUIRE(store.server().wait_for_leader(10s));
  auto kv = etcdserverpb::KV::NewStub(store.channel());
  auto current = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    etcdserverpb::RangeRequest get;
    get.set_key("p");
    etcdserverpb::RangeResponse got;
    REQUIRE(kv->Range(&context, get, &got).ok());
    return got.header().revision();
  };
  auto put = [&](const std::string& value) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    etcdserverpb::PutRequest request;
    request.set_key("p");
    request.set_value(value);
    etcdserverpb::PutResponse response;
    REQUIRE(kv->Put(&context, request, &response).ok());
  };

  auto watch = etcdserverpb::Watch::NewStub(store.channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 60s);
  auto stream = watch->Watch(&context);
  etcdserverpb::WatchResponse r;
  auto create = [&](bool progress_notify) {
    etcdserverpb::WatchRequest request;
    request.mutable_create_request()->set_key("p");
    request.mutable_create_request()->set_progress_notify(progress_notify);
    REQUIRE(stream->Write(request));
    REQUIRE(stream->Read(&r));
    REQUIRE(r.created());
    return r.watch_id();
  };
  const int64_t notified = create(true);
  const int64_t plain = create(false);
  REQUIRE(notified != plain);

  // Quiet: a progress under the watcher's own id, at the current revision.
  REQUIRE(stream->Read(&r));
  CHECK(is_progress(r));
  CHECK(r.watch_id() == notified);
  CHECK(r.header().revision() == current());

  // Busy: puts back to back for four intervals (at most 20000), each one's event read by both
  // watchers. Every tick finds events sent since the last one: no progress (one allowed, for a
  // host that stalls the test for a whole interval).
  int progress_while_busy = 0;
  int puts = 0;
  const auto busy_until = std::chrono::steady_clock::now() + 4 * kInterval;
  while (std::chrono::steady_clock::now() < busy_until && puts < 20000) {
    put(std::to_string(++puts));
    int events = 0;
    while (events < 2) {
      REQUIRE(stream->Read(&r));
      if (is_progress(r)) {
        ++progress_while_busy;
        CHECK(r.watch_id() == notified);
      } else {
        REQUIRE(r.events_size() == 1);
        ++events;
      }
    }
  }
  CHECK(puts > 4);
  CHECK(progress_while_busy <= 1);

  // Quiet again: the next response is the notified watcher's progress, at the last put's
  // revision; the plain watcher had nothing between.
  REQUIRE(stream->Read(&r));
  CHECK(is_progress(r));
  CHECK(r.watch_id() == notified);
  CHECK(r.header().revision() == current());
  context.TryCancel();
}
