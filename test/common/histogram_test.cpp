// histogram_test.cpp: the histogram's text is what Prometheus and etcd's dashboards read:
// cumulative buckets with etcd's bounds, +Inf equal to the count, the sum in seconds.
#include "common/histogram.h"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

TEST_CASE("histogram: buckets are cumulative, a value on a bound counts in it", "[histogram]") {
  mgmt::Histogram h({0.001, 0.002, 0.004});
  h.observe(0.0005);
  h.observe(0.002);  // on a bound: le="0.002" counts it
  h.observe(0.003);
  h.observe(std::chrono::milliseconds(10));  // above every bound: only +Inf
  std::string out;
  h.expose(out, "etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync.");
  CHECK(out ==
        "# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync.\n"
        "# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n"
        "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 1\n"
        "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 2\n"
        "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.004\"} 3\n"
        "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 4\n"
        "etcd_disk_wal_fsync_duration_seconds_sum 0.0155\n"
        "etcd_disk_wal_fsync_duration_seconds_count 4\n");
}

TEST_CASE("histogram: etcd's exponential bounds print as etcd prints them", "[histogram]") {
  const auto bounds = mgmt::Histogram::exponential(0.001, 2, 14);
  REQUIRE(bounds.size() == 14);
  mgmt::Histogram h(bounds);
  std::string out;
  h.expose(out, "x", "y");
  CHECK(out.find("x_bucket{le=\"0.001\"} 0\n") != std::string::npos);
  CHECK(out.find("x_bucket{le=\"0.128\"} 0\n") != std::string::npos);
  CHECK(out.find("x_bucket{le=\"8.192\"} 0\n") != std::string::npos);
  CHECK(out.find("x_sum 0\nx_count 0\n") != std::string::npos);
}

TEST_CASE("histogram: observations from many threads are all counted", "[histogram]") {
  mgmt::Histogram h(mgmt::Histogram::exponential(0.001, 2, 14));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.observe(0.001 * (t + 1));
    });
  }
  for (auto& t : threads) t.join();
  CHECK(h.count() == 40000);
  CHECK(h.sum() == Approx(0.001 * 10000 * (1 + 2 + 3 + 4)));
  std::string out;
  h.expose(out, "x", "y");
  CHECK(out.find("x_bucket{le=\"0.001\"} 10000\n") != std::string::npos);
  CHECK(out.find("x_bucket{le=\"0.004\"} 40000\n") != std::string::npos);
  CHECK(out.find("x_bucket{le=\"+Inf\"} 40000\n") != std::string::npos);
}
