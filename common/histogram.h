// histogram.h: a Prometheus histogram of durations, as etcd publishes its disk latencies
// (etcd_disk_wal_fsync_duration_seconds and friends), so that the dashboards and alerts written
// for etcd read ours unchanged.
// Invariants: the upper bounds are fixed at construction and ascending; observe() is lock-free
// and safe from any thread; expose() writes cumulative bucket counts (each `le` counts every
// observation at or below it, `+Inf` equals `_count`). A scrape racing an observation may see it
// in one line and not yet in another, as Go's client does; counts never go down.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mgmt {

class Histogram {
 public:
  // Upper bounds in seconds, ascending (the implicit last bucket is +Inf).
  explicit Histogram(std::vector<double> upper_bounds);
  // Prometheus' ExponentialBuckets: start, start*factor, ... (count bounds).
  static std::vector<double> exponential(double start, double factor, int count);

  void observe(double seconds);
  void observe(std::chrono::steady_clock::duration d) {
    observe(std::chrono::duration<double>(d).count());
  }

  uint64_t count() const;
  double sum() const;
  // Appends the text exposition: # HELP, # TYPE, then name_bucket{le="..."}, name_sum, name_count.
  void expose(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket, not cumulative; +Inf last
  std::atomic<uint64_t> sum_nanos_{0};
};

}  // namespace mgmt
