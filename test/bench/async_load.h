// async_load.h: the closed-loop part of store_load (puts, gets, CAS txns, watch delivery):
// `clients` loops, each sending its next request when its last one is answered (as etcd's
// benchmark tool does), over `conns` connections of their own, all driven by one thread on one
// gRPC completion queue. For watch delivery the loops put under "watch/" while one watcher on that
// prefix, on the first connection, times each put from its start to its event.
// Why one thread: the load generator runs on the machine whose store it measures, so what it
// costs is taken from the store. Synchronous calls on a thread per client cost about 120 us of
// CPU per put here, more than the store itself spent on it.
// Invariants: at most `clients` requests in flight; no request is sent after the deadline or
// past `ops`; run() returns only when every request sent has been answered (each has a 10 s
// deadline) and, for watch delivery, every put's event came or 10 s more passed, so it is
// bounded in time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::bench {

using LoadClock = std::chrono::steady_clock;

// A duration in milliseconds, as the load generator reports latencies.
inline double to_ms(LoadClock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

class AsyncLoad {
 public:
  // workload: put, get, get-serializable, txn or watch; endpoint: a client URL (http://host:port).
  AsyncLoad(const std::string& endpoint, std::string workload, int clients, int conns, int keys);
  ~AsyncLoad();

  // Connects, lets every client make `warmup` untimed requests, then starts them all at once
  // (`start`) and runs until `ops` requests were sent or `run_for` passed. Appends each timed
  // request's latency in ms (for watch: each timed put's delay to its event). False when it
  // could not connect, a warm-up request failed or the watch was not created (the cause is
  // printed).
  bool run(int warmup, int ops, std::chrono::seconds run_for, std::vector<double>& latencies,
           LoadClock::time_point& start);
  // Timed requests that failed (for watch: also the events that never came), and when the last
  // answer (event) came.
  int failed() const;
  LoadClock::time_point finished_at() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgmt::bench
