// store_load.cpp: a load generator for any etcd v3 store (ours or etcd), for tools/bench-store.sh.
// Bounded in count and time: N clients share `--ops` operations of one workload, and stop at
// `--seconds` after the start. Every client connects and makes a few untimed requests first;
// then all start together, so that the measure holds neither connection set-up nor a cold
// connection. Prints one line: workload, ops, seconds, ops/s, p50/p99/max latency in ms.
//   store_load --endpoints URL[,URL] --workload put|get|get-serializable|txn|watch
//              [--clients 8] [--ops 2000] [--keys 1000] [--seconds 60] [--conns 1]
// put, get, get-serializable and txn: closed loops on the first endpoint, `--conns` connections
// shared by the clients, one thread (async_load.h).
// watch: the same loops put under "watch/" (`--clients 1`: sequential puts) while a watcher on
// that prefix, on the first connection, measures the delay from the start of each put to its
// event; ops/s counts the events.
//   store_load --workload disk --dir DIR [--seconds 3] [--bytes 256]
// disk: no store; the rate of synced appends the device under DIR gives (disk_floor.h), the
// ceiling of any store's sequential puts on it.
#include "store/client/etcd_client.h"
#include "test/bench/async_load.h"
#include "test/bench/disk_floor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using mgmt::store::client::EtcdClient;
using clock_type = mgmt::bench::LoadClock;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) out.push_back(part);
  return out;
}

void report(const std::string& workload, std::vector<double> lat, double seconds) {
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))];
  };
  std::printf("%-17s ops %6zu  %6.2f s  %9.1f ops/s  p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms\n",
              workload.c_str(), lat.size(), seconds, seconds > 0 ? lat.size() / seconds : 0.0,
              pct(0.50), pct(0.99), lat.empty() ? 0.0 : lat.back());
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args = {{"--clients", "8"}, {"--ops", "2000"},
                                             {"--keys", "1000"}, {"--seconds", "60"},
                                             {"--conns", "1"}};
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (args["--workload"] == "disk" && args.count("--dir")) {
    const auto bytes = static_cast<std::size_t>(std::stoul(args.count("--bytes") ? args["--bytes"]
                                                                                 : "256"));
    const auto run_for = std::chrono::seconds(std::stoi(args["--seconds"]));
    auto measured = mgmt::bench::measure_synced_appends(args["--dir"], bytes, run_for);
    if (!measured) {
      std::fprintf(stderr, "store_load: %s\n", measured.error().message().c_str());
      return 1;
    }
    double ms = 0;  // the appends back to back, without the file's preparation
    for (double l : *measured) ms += l;
    report("disk", *measured, ms / 1000);
    return 0;
  }
  if (!args.count("--endpoints") || !args.count("--workload")) {
    std::fprintf(stderr, "usage: store_load --endpoints URL[,URL] --workload "
                         "put|get|get-serializable|txn|watch [--clients N] [--ops N] "
                         "[--keys N] [--seconds N] [--conns N]\n"
                         "       store_load --workload disk --dir DIR [--seconds N] "
                         "[--bytes N]\n");
    return 2;
  }
  const auto endpoints = split(args["--endpoints"]);
  const std::string workload = args["--workload"];
  if (workload != "put" && workload != "get" && workload != "get-serializable" &&
      workload != "txn" && workload != "watch") {
    std::fprintf(stderr, "store_load: unknown workload \"%s\"; use put, get, get-serializable, "
                         "txn or watch\n", workload.c_str());
    return 2;
  }
  const int clients = std::stoi(args["--clients"]);
  const int ops = std::stoi(args["--ops"]);
  const int keys = std::stoi(args["--keys"]);
  const int conns = std::stoi(args["--conns"]);
  const auto run_for = std::chrono::seconds(std::stoi(args["--seconds"]));

  {  // Preload the keys the reads and txns use.
    auto c = EtcdClient::open(endpoints);
    if (!c) {
      std::fprintf(stderr, "store_load: %s\n", c.error().message().c_str());
      return 1;
    }
    for (int k = 0; k < keys && workload != "put" && workload != "watch"; ++k) {
      if (!(*c)->put("load/" + std::to_string(k), "0")) {
        std::fprintf(stderr, "store_load: preload failed\n");
        return 1;
      }
    }
  }

  std::vector<double> latencies;
  auto start = clock_type::now();

  // Every workload: `clients` closed loops (each sends its next request when the last one
  // is answered, as etcd's benchmark tool does) over `conns` connections, all driven by ONE
  // thread through gRPC's asynchronous API. The load generator shares the machine with the
  // store it measures, so it must cost little: 64 threads on synchronous calls took about
  // 120 us of CPU per put, more than either store, and squeezed both of them alike.
  constexpr int kWarmupOps = 20;
  mgmt::bench::AsyncLoad load(endpoints.front(), workload, clients, conns, keys);
  if (!load.run(kWarmupOps, ops, run_for, latencies, start)) return 1;  // the cause is printed
  const double seconds =
      std::chrono::duration<double>(load.finished_at() - start).count();
  report(workload, latencies, seconds);
  const int errors = load.failed();
  if (errors > 0) std::fprintf(stderr, "store_load: %d operations failed\n", errors);
  return errors > 0 ? 1 : 0;
}
