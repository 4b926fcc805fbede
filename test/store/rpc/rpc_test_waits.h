// rpc_test_waits.h: what the tests of the store's RPC server and client share: the bound of
// every wait (a wait that runs out is a failure, not a slow machine), the etcd methods they
// call, and waits on futures that fail the test instead of hanging it.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

namespace mgmt::test::rpc_waits {

inline constexpr auto kWait = std::chrono::seconds(30);

inline constexpr const char* kPut = "/etcdserverpb.KV/Put";
inline constexpr const char* kRange = "/etcdserverpb.KV/Range";
inline constexpr const char* kWatch = "/etcdserverpb.Watch/Watch";

// The future's value, once it is ready within kWait (the test fails when it is not).
template <typename Future>
auto await(Future& future, const char* what) {
  INFO("waiting for " << what);
  REQUIRE(future.wait_for(kWait) == std::future_status::ready);
  return future.get();
}

template <typename Future>
bool is_ready(Future& future) {
  return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace mgmt::test::rpc_waits
