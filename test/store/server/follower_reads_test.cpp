// follower_reads_test.cpp: writes and reads through followers, three members in this process.
// A write a follower takes is answered once the follower applies it, which it does as soon as
// the leader tells it of the commit, not at the leader's next heartbeat. A linearizable read
// sees every write acknowledged before it started, whichever members took the write and the
// read.
#include "test/support/store/our_cluster.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

etcdserverpb::PutResponse put(etcdserverpb::KV::Stub& kv, const std::string& value,
                              std::chrono::milliseconds deadline, grpc::Status* status) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  etcdserverpb::PutRequest request;
  request.set_key("k");
  request.set_value(value);
  etcdserverpb::PutResponse response;
  *status = kv.Put(&context, request, &response);
  return response;
}

}  // namespace

TEST_CASE("a write through a follower is answered once it applies, not at the next heartbeat",
          "[store][cluster]") {
  // Heartbeats every 2 s: a follower that learned commits only from them would answer a write
  // it took 0 to 2 s late, past the 1 s each write is given here.
  mgmt::test::OurCluster cluster(3, [](mgmt::store::server::StoreConfig& config) {
    config.tick_interval = std::chrono::milliseconds(2000);
  });
  for (int m = 1; m < 3; ++m) {
    auto kv = etcdserverpb::KV::NewStub(cluster.member(m).channel());
    for (int i = 0; i < 10; ++i) {
      grpc::Status status;
      put(*kv, std::to_string(i), 1000ms, &status);
      INFO("member " << m << ", write " << i);
      REQUIRE(status.ok());
    }
  }
}

TEST_CASE("linearizable reads through any member see the write acknowledged just before, "
          "through another", "[store][cluster]") {
  mgmt::test::OurCluster cluster(3);
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> kv;
  for (int m = 0; m < 3; ++m) kv.push_back(etcdserverpb::KV::NewStub(cluster.member(m).channel()));
  constexpr int kRounds = 1500;
  int stale = 0;
  std::string first_stale;
  for (int i = 0; i < kRounds; ++i) {
    grpc::Status status;
    const etcdserverpb::PutResponse written = put(*kv[i % 3], std::to_string(i), 10000ms, &status);
    REQUIRE(status.ok());
    etcdserverpb::RangeRequest get;
    get.set_key("k");
    etcdserverpb::RangeResponse read;
    {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + 10s);
      REQUIRE(kv[(i + 1) % 3]->Range(&context, get, &read).ok());
    }
    REQUIRE(read.kvs_size() == 1);
    if (read.header().revision() < written.header().revision() ||
        read.kvs(0).value() != std::to_string(i)) {
      if (stale++ == 0) {
        first_stale = "round " + std::to_string(i) + ": wrote revision " +
                      std::to_string(written.header().revision()) + " through member " +
                      std::to_string(i % 3) + ", read revision " +
                      std::to_string(read.header().revision()) + " value " +
                      read.kvs(0).value() + " through member " + std::to_string((i + 1) % 3);
      }
    }
  }
  INFO(first_stale);
  CHECK(stale == 0);
}
