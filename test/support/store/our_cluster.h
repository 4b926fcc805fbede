// our_cluster.h: a cluster of our store's members served in the test's own process on
// loopback, formed as an operator forms an etcd cluster: the first member founds it, and each
// next one is added as a voter (MemberAdd) and then started with the ids it was given. Unlike
// agents (mgmt_cluster.h), the members write nothing of their own into the store, so tests
// can compare its keys and revisions with etcd's. As etcd's, the cluster takes a member only
// once its first member has been connected to every voter for 5 s, so three members take about
// 5 s to form. Header-only: link mgmt_store_server and
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
#include <thread>
#include <vector>

namespace mgmt::test {

class OurCluster {
 public:
  // adjust: changes to every member's configuration before it opens.
  explicit OurCluster(
      int size, const std::function<void(mgmt::store::server::StoreConfig&)>& adjust = nullptr)
      : adjust_(adjust) {
    members_.push_back(std::make_unique<OurStore>([&](mgmt::store::server::StoreConfig& c) {
      c.member_name = "m0";
      c.ideal_voters = 0;  // as etcd: a learner is promoted by MemberPromote only
      if (adjust) adjust(c);
    }));
    REQUIRE(members_[0]->server().wait_for_leader(std::chrono::seconds(10)));
    for (int i = 1; i < size; ++i) {
      const std::string peer = "http://127.0.0.1:" + std::to_string(free_port());
      auto stub = etcdserverpb::Cluster::NewStub(members_[0]->channel());
      etcdserverpb::MemberAddRequest add;
      add.add_peerurls(peer);
      etcdserverpb::MemberAddResponse added;
      // As with etcd, a member is added once the first has been connected to every voter for
      // the health interval (reconfig_checks.h): until then it answers "unhealthy cluster".
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      for (;;) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        const grpc::Status status = stub->MemberAdd(&context, add, &added);
        if (status.ok()) break;
        INFO(status.error_message());
        REQUIRE(status.error_message() == "etcdserver: unhealthy cluster");
        REQUIRE(std::chrono::steady_clock::now() < until);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polls a condition
      }
      join(added, peer, "m" + std::to_string(i));
      REQUIRE(members_.back()->server().wait_for_leader(std::chrono::seconds(10)));
      wait_started(added.member().id());
    }
  }

  // Each member's client URL, in the order they joined (the first founded the cluster).
  std::vector<std::string> endpoints() const {
    std::vector<std::string> out;
    for (const auto& m : members_) out.push_back(m->endpoint());
    return out;
  }
  OurStore& member(std::size_t i) { return *members_.at(i); }

  // Starts the member that `added` (MemberAdd's answer) names, listening on `peer_url`;
  // returns its client URL.
  std::string join(const etcdserverpb::MemberAddResponse& added, const std::string& peer_url,
                   const std::string& name) {
    std::map<uint64_t, std::string> peers;
    for (const auto& m : added.members()) {
      if (m.peerurls_size() > 0) peers[m.id()] = m.peerurls(0);
    }
    members_.push_back(std::make_unique<OurStore>([&](mgmt::store::server::StoreConfig& c) {
      c.member_name = name;
      c.peer_urls = {peer_url};
      c.join_cluster_id = added.header().cluster_id();
      c.join_member_id = added.member().id();
      c.join_peers = peers;
      c.ideal_voters = 0;
      if (adjust_) adjust_(c);
    }));
    return members_.back()->endpoint();
  }

 private:
  // Waits until member `id` has published its name: etcd counts it as started from then on, and
  // adds a voter only while a quorum of the grown cluster has started.
  void wait_started(uint64_t id) {
    auto stub = etcdserverpb::Cluster::NewStub(members_[0]->channel());
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      etcdserverpb::MemberListResponse list;
      if (stub->MemberList(&context, {}, &list).ok()) {
        for (const auto& m : list.members()) {
          if (m.id() == id && !m.name().empty()) return;
        }
      }
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polls a condition
    }
  }

  std::function<void(mgmt::store::server::StoreConfig&)> adjust_;
  std::vector<std::unique_ptr<OurStore>> members_;
};

}  // namespace mgmt::test
