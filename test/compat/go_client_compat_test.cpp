// go_client_compat_test.cpp: the Go clientv3 (etcd 3.4's, from Debian's
// golang-etcd-server-dev; mgmt itself is written against clientv3) runs the same script
// (go_client/main.go) against Debian's etcd 3.4 and against our store; the outputs must be
// identical. The script covers KV, Txn, watches (history, prev_kv, progress on request and
// periodic, compacted), compaction, leases, error texts, and the concurrency package:
// sessions, a contended mutex, an election with observe and resign, and STM transactions.
#include "test/support/store/endpoint_channel.h"
#include "test/support/store/our_store.h"
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/real_etcd.h"
#include "test/support/process/required_program.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

using mgmt::test::RealEtcd;

namespace {

std::string run_go_client(const std::string& endpoint) {
  // Only stdout: clientv3 logs its retries on stderr, with timestamps.
  auto done = mgmt::test::run_to_completion(
      {"/bin/sh", "-c", "timeout 120 " + std::string(MGMT_GO_CLIENT) + " " + endpoint +
                            " 2>/dev/null"});
  return "exit " + std::to_string(done.exit_code) + "\n" + done.output;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("compat: the Go clientv3 sees the same answers from our store as from etcd 3.4",
          "[compat][go]") {
  if (!std::filesystem::exists(MGMT_GO_CLIENT)) {
    FAIL("the Go client was not built: install golang-go and golang-etcd-server-dev "
         "(tools/setup.sh --for-tests does) and configure again");
  }
  mgmt::test::require_program("etcd", "etcd-server");
  // Both tick watch progress every 500 ms, for the script's WithProgressNotify watcher.
  RealEtcd etcd({"--experimental-watch-progress-notify-interval=500ms"});
  REQUIRE(etcd.ready());
  mgmt::test::OurStore ours([](mgmt::store::server::StoreConfig& config) {
    config.watch_progress_notify_interval = std::chrono::milliseconds(500);
  });
  const auto expected = lines(run_go_client(mgmt::test::grpc_target(etcd.endpoint())));
  const auto actual = lines(run_go_client(mgmt::test::grpc_target(ours.endpoint())));
  REQUIRE(expected.size() > 40);  // the script ran to its end against etcd
  CHECK(expected.front() == "exit 0");
  for (std::size_t i = 0; i < std::max(expected.size(), actual.size()); ++i) {
    const std::string want = i < expected.size() ? expected[i] : "(nothing)";
    const std::string got = i < actual.size() ? actual[i] : "(nothing)";
    INFO("line " << i);
    CHECK(got == want);
  }
}
