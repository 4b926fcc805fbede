// etcd_client_errors_test.cpp: the one-line errors EtcdClient gives when a store does not
// answer tell a store nobody serves (start it, or point --seeds at it) from one that took the
// connection and then said nothing in time (paused, overloaded, or without a quorum): telling
// the user of a running store to start it would send them the wrong way.
#include "store/client/etcd_client.h"
#include "test/support/process/free_port.h"
#include "test/support/process/real_etcd.h"
#include "test/support/process/required_program.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <chrono>
#include <string>

using mgmt::Code;
using mgmt::store::client::EtcdClient;
using mgmt::test::RealEtcd;
using namespace std::chrono_literals;

TEST_CASE("client: a store that takes the connection but does not answer in time is named "
          "as such, with the remedy",
          "[client]") {
  mgmt::test::require_program("etcd", "etcd-server");
  RealEtcd etcd;
  REQUIRE(etcd.ready());
  auto client = EtcdClient::open({etcd.endpoint()}, 1s);
  REQUIRE(client);
  REQUIRE((*client)->put("k", "v"));  // connected
  etcd.send_signal(SIGSTOP);
  auto got = (*client)->get("k");
  etcd.send_signal(SIGCONT);
  REQUIRE_FALSE(got);
  CHECK(got.error().code() == Code::unavailable);
  CHECK(got.error().message() ==
        "the store at " + etcd.endpoint() + " takes connections but did not answer in time "
        "(Deadline Exceeded): it is paused or overloaded, or its cluster lost its quorum; check "
        "that most of its members run and answer (etcdctl endpoint status)");
  // Awake again, it answers on the same client.
  auto again = (*client)->get("k");
  REQUIRE(again);
  REQUIRE(again->kvs.size() == 1);
  CHECK(again->kvs.front().value == "v");
}

TEST_CASE("client: a store nobody serves is named unreachable, with the remedy", "[client]") {
  const std::string url = "http://127.0.0.1:" + std::to_string(mgmt::test::free_port());
  auto client = EtcdClient::open({url}, 1s);
  REQUIRE(client);
  auto got = (*client)->get("k");
  REQUIRE_FALSE(got);
  CHECK(got.error().code() == Code::unavailable);
  const std::string message = got.error().message();
  CHECK(message.rfind("cannot reach the store at " + url + " (", 0) == 0);
  CHECK(message.find("); is `mgmt run` or etcd running there? Point --seeds at it") !=
        std::string::npos);
}
