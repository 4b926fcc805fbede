// our_store.h: our store served in the test's own process on loopback (one member, a fresh
// data dir), for the tests that talk to it as a client would (the compatibility tests compare
// it with Debian's etcd). Header-only: link mgmt_store_server and mgmt_test_process.
#pragma once

#include "store/server/store_server.h"
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

namespace mgmt::test {

class OurStore {
 public:
  // adjust: changes to the configuration (e.g. a quota) before the store opens.
  explicit OurStore(
      const std::function<void(mgmt::store::server::StoreConfig&)>& adjust = nullptr) {
    mgmt::store::server::StoreConfig config;
    config.data_dir = dir_.path() + "/store";
    config.member_name = "default";
    config.client_urls = {"http://127.0.0.1:0"};
    config.peer_urls = {"http://127.0.0.1:" + std::to_string(free_port())};
    if (adjust) adjust(config);
    auto opened = mgmt::store::server::StoreServer::open(config);
    REQUIRE(opened);
    server_ = std::move(*opened);
    REQUIRE(server_->start());
  }
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
  TempDir dir_;
  std::unique_ptr<mgmt::store::server::StoreServer> server_;
};

}  // namespace mgmt::test
