// lease_service_test.cpp: LeaseKeepAlive streams as a client on loopback sees them, many open at
// once (every etcd clientv3 client with a lease holds one): a stream costs the member no
// thread, each request is answered with its own lease's TTL, and a stream the client
// half-closes ends cleanly, as etcd's.
#include "test/support/store/async_client.h"
#include "test/support/store/our_store.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <vector>

using mgmt::test::next_event;
using mgmt::test::threads_of_this_process;
using namespace std::chrono_literals;

using KeepAlive = mgmt::test::AsyncStream<etcdserverpb::LeaseKeepAliveRequest,
                                          etcdserverpb::LeaseKeepAliveResponse>;

TEST_CASE("lease: many keep-alive streams hold no member thread each, each gets its lease's "
          "TTL, and a half-closed one ends", "[store][lease]") {
  mgmt::test::OurStore store;
  REQUIRE(store.server().wait_for_leader(10s));
  auto channel = store.channel();
  auto stub = etcdserverpb::Lease::NewStub(channel);
  constexpr int kStreams = 60;
  std::vector<int64_t> leases;
  for (int i = 0; i < kStreams; ++i) {
    grpc::ClientContext context;
    etcdserverpb::LeaseGrantRequest grant;
    grant.set_ttl(100 + i);  // a TTL of its own, to tell the answers apart
    etcdserverpb::LeaseGrantResponse granted;
    REQUIRE(stub->LeaseGrant(&context, grant, &granted).ok());
    leases.push_back(granted.id());
  }

  grpc::CompletionQueue queue;
  void* tag = nullptr;
  bool ok = false;
  std::vector<KeepAlive> streams(kStreams);
  const int threads_before = threads_of_this_process();
  for (auto& s : streams) s.call = stub->AsyncLeaseKeepAlive(&s.context, &queue, &s);
  for (int started = 0; started < kStreams; ++started) REQUIRE(next_event(queue, &tag, &ok));
  // Every stream sends its keep-alive (tag: the stream), then reads the answer (tag: response).
  for (int i = 0; i < kStreams; ++i) {
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(leases[i]);
    streams[i].call->Write(request, &streams[i]);
  }
  for (int written = 0; written < kStreams; ++written) {
    REQUIRE(next_event(queue, &tag, &ok));
    REQUIRE(ok);
  }
  for (auto& s : streams) s.call->Read(&s.response, &s.response);
  for (int answered = 0; answered < kStreams; ++answered) {
    REQUIRE(next_event(queue, &tag, &ok));
    REQUIRE(ok);
  }
  for (int i = 0; i < kStreams; ++i) {
    CHECK(streams[i].response.id() == leases[i]);
    CHECK(streams[i].response.ttl() == 100 + i);
  }
  // The old design took a member thread per stream (60 here).
  CHECK(threads_of_this_process() - threads_before < 10);

  // The clients half-close: each stream ends with OK.
  for (auto& s : streams) s.call->WritesDone(&s);
  for (int closed = 0; closed < kStreams; ++closed) REQUIRE(next_event(queue, &tag, &ok));
  for (auto& s : streams) s.call->Finish(&s.status, &s.status);
  for (int finished = 0; finished < kStreams; ++finished) REQUIRE(next_event(queue, &tag, &ok));
  for (auto& s : streams) CHECK(s.status.ok());
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}
