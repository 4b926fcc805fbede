// metrics_test.cpp: /metrics carries etcd's disk and proposal figures, with etcd's names, so
// that the dashboards and alerts written for etcd (slow WAL fsync, leader changes, failed
// proposals) read a member of ours: the histograms count every synced log write and every
// apply, their buckets are cumulative, and the counters follow what the member did.
#include "store/client/etcd_client.h"
#include "test/support/store/metrics_page.h"
#include "test/support/store/our_store.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

using mgmt::test::metric_sample;
using mgmt::test::metrics_page;

namespace {

// A histogram's buckets never decrease along `le`, and +Inf is its count.
void check_histogram(const std::string& page, const std::string& name) {
  INFO(name);
  CHECK(page.find("# TYPE " + name + " histogram\n") != std::string::npos);
  double previous = 0;
  for (const char* le : {"0.001", "0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128",
                         "0.256", "0.512", "1.024", "2.048", "4.096", "8.192", "+Inf"}) {
    const double at = metric_sample(page, name + "_bucket{le=\"" + le + "\"}");
    INFO(le);
    CHECK(at >= previous);
    previous = at;
  }
  CHECK(previous == metric_sample(page, name + "_count"));
  CHECK(metric_sample(page, name + "_sum") >= 0);
}

}  // namespace

TEST_CASE("metrics: etcd's fsync and backend commit histograms count the member's writes, "
          "and its leader and proposal counters follow it", "[store][metrics]") {
  mgmt::test::OurStore store;
  REQUIRE(store.server().wait_for_leader(10s));
  const int port = store.port();
  const std::string before = metrics_page(port);
  check_histogram(before, "etcd_disk_wal_fsync_duration_seconds");
  check_histogram(before, "etcd_disk_backend_commit_duration_seconds");
  // Elected once: the one change a new single member sees.
  CHECK(metric_sample(before, "etcd_server_leader_changes_seen_total") == 1);
  CHECK(metric_sample(before, "etcd_server_proposals_pending") == 0);
  CHECK(metric_sample(before, "etcd_server_proposals_failed_total") == 0);

  auto client = mgmt::store::client::EtcdClient::open({store.endpoint()});
  REQUIRE(client);
  constexpr int kPuts = 20;
  for (int i = 0; i < kPuts; ++i) REQUIRE((*client)->put("m/" + std::to_string(i), "v"));

  const std::string after = metrics_page(port);
  check_histogram(after, "etcd_disk_wal_fsync_duration_seconds");
  check_histogram(after, "etcd_disk_backend_commit_duration_seconds");
  // Sequential puts: each is its own synced log write and its own apply.
  const auto grew = [&](const std::string& name) {
    return metric_sample(after, name + "_count") - metric_sample(before, name + "_count");
  };
  CHECK(grew("etcd_disk_wal_fsync_duration_seconds") >= kPuts);
  CHECK(grew("etcd_disk_backend_commit_duration_seconds") >= kPuts);
  CHECK(metric_sample(after, "etcd_disk_wal_fsync_duration_seconds_sum") >
        metric_sample(before, "etcd_disk_wal_fsync_duration_seconds_sum"));
  CHECK(metric_sample(after, "etcd_server_leader_changes_seen_total") == 1);
  CHECK(metric_sample(after, "etcd_server_proposals_pending") == 0);
  CHECK(metric_sample(after, "etcd_server_proposals_failed_total") == 0);
}
