// our_store.h: our store served in the test's own process on loopback (one member, a fresh
// data dir), for the tests that talk to it as a client would (the compatibility tests compare
// it with Debian's etcd). It can be restarted on the same data dir and ports. Header-only: link
// mgmt_store_server and mgmt_test_process.
#pragma once

#include "store/server/store_server.h"
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace mgmt::test {

class OurStore {
 public:
  // adjust: changes to the configuration (e.g. a quota) before the store opens.
  explicit OurStore(
      const std::function<void(mgmt::store::server::StoreConfig&)>& adjust = nullptr) {
    config_.data_dir = dir_.path() + "/store";
    config_.member_name = "default";
    config_.client_urls = {"http://127.0.0.1:0"};
    config_.peer_urls = {"http://127.0.0.1:" + std::to_string(free_port())};
    if (adjust) adjust(config_);
    start();
    config_.client_urls = {endpoint()};  // a restart serves on the same port
  }
  // Stops it (as SIGTERM would), then serves again from the same data dir and ports, led.
  void restart() {
    server_.reset();
    start();
    REQUIRE(server_->wait_for_leader(std::chrono::seconds(10)));
  }
  // Stops it for good (its data dir stays until this is destroyed).
  void stop() { server_.reset(); }
  // "http://127.0.0.1:PORT".
  std::string endpoint() const { return server_->client_endpoints().front(); }
  int port() const { return server_->client_ports().front(); }
  // A client's channel to it.
  std::shared_ptr<grpc::Channel> channel() const {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port()),
                               grpc::InsecureChannelCredentials());
  }
  mgmt::store::server::StoreServer& server() { return *server_; }

 private:
  void start() {
    auto opened = mgmt::store::server::StoreServer::open(config_);
    REQUIRE(opened);
    server_ = std::move(*opened);
    REQUIRE(server_->start());
  }

  TempDir dir_;
  mgmt::store::server::StoreConfig config_;
  std::unique_ptr<mgmt::store::server::StoreServer> server_;
};

}  // namespace mgmt::test
