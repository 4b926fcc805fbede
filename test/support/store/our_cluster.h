// our_cluster.h: a cluster of our store's members served in the test's own process on
// loopback, formed as an operator forms an etcd cluster: the first member founds it, and each
// next one is added as a voter (MemberAdd) and then started with the ids it was given. Unlike
// agents (mgmt_cluster.h), the members write nothing of their own into the store, so tests
// can compare its keys and revisions with etcd's. Header-only: link mgmt_store_server and
// mgmt_test_process.
#pragma once

#include "test/support/store/our_store.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::test {

class OurCluster {
 public:
  // adjust: changes to every member's configuration before it opens.
  explicit OurCluster(
      int size, const std::function<void(mgmt::store::server::StoreConfig&)>& adjust = nullptr) {
    members_.push_back(std::make_unique<OurStore>([&](mgmt::store::server::StoreConfig& c) {
      c.member_name = "m0";
      if (adjust) adjust(c);
    }));
    REQUIRE(members_[0]->server().wait_for_leader(std::chrono::seconds(10)));
    for (int i = 1; i < size; ++i) {
      const std::string peer = "http://127.0.0.1:" + std::to_string(free_port());
      auto stub = etcdserverpb::Cluster::NewStub(members_[0]->channel());
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      etcdserverpb::MemberAddRequest add;
      add.add_peerurls(peer);
      etcdserverpb::MemberAddResponse added;
      const grpc::Status status = stub->MemberAdd(&context, add, &added);
      INFO(status.error_message());
      REQUIRE(status.ok());
      std::map<uint64_t, std::string> peers;
      for (const auto& m : added.members()) {
        if (m.peerurls_size() > 0) peers[m.id()] = m.peerurls(0);
      }
      members_.push_back(std::make_unique<OurStore>([&](mgmt::store::server::StoreConfig& c) {
        c.member_name = "m" + std::to_string(i);
        c.peer_urls = {peer};
        c.join_cluster_id = added.header().cluster_id();
        c.join_member_id = added.member().id();
        c.join_peers = peers;
        if (adjust) adjust(c);
      }));
      REQUIRE(members_.back()->server().wait_for_leader(std::chrono::seconds(10)));
    }
  }

  // Each member's client URL, in the order they joined (the first founded the cluster).
  std::vector<std::string> endpoints() const {
    std::vector<std::string> out;
    for (const auto& m : members_) out.push_back(m->endpoint());
    return out;
  }
  OurStore& member(std::size_t i) { return *members_.at(i); }

 private:
  std::vector<std::unique_ptr<OurStore>> members_;
};

}  // namespace mgmt::test
