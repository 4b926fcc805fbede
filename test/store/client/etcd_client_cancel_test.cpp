// etcd_client_cancel_test.cpp: EtcdClient::cancel_calls, which an agent that stops uses so that
// its resources' calls to a store without quorum do not hold the stop for the call timeout.
// The store here is a loopback listener that never answers (as a paused member, or one whose
// cluster lost its quorum): a call to it waits its whole timeout unless it is cancelled.
// The bounds below are far under that timeout (60 s) and far over what a cancel takes.
#include "store/client/etcd_client.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>

using mgmt::Code;
using mgmt::store::client::EtcdClient;
using namespace std::chrono_literals;

namespace {

// A TCP listener on 127.0.0.1 that takes connections (the kernel completes them) and never
// reads nor writes.
struct SilentStore {
  SilentStore() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~SilentStore() { ::close(fd); }
  int fd = -1;
  std::string url;
};

}  // namespace

TEST_CASE("client: cancel_calls ends a call waiting on a silent store, and refuses later ones",
          "[client]") {
  SilentStore silent;
  auto client = EtcdClient::open({silent.url}, 60s);
  REQUIRE(client);
  auto put = std::async(std::launch::async, [&] { return (*client)->put("k", "v"); });
  // Whether the put has started its call yet or not, it ends now: a call started after
  // cancel_calls fails at once.
  REQUIRE(put.wait_for(200ms) == std::future_status::timeout);  // it waits on the store
  (*client)->cancel_calls("this agent is stopping");
  REQUIRE(put.wait_for(10s) == std::future_status::ready);
  auto put_result = put.get();
  REQUIRE_FALSE(put_result);
  CHECK(put_result.error().code() == Code::cancelled);
  CHECK(put_result.error().message() ==
        "the call to the store at " + silent.url + " was abandoned: this agent is stopping");

  const auto started = std::chrono::steady_clock::now();
  auto get = (*client)->get("k");
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  REQUIRE_FALSE(get);
  CHECK(get.error().code() == Code::cancelled);
}
