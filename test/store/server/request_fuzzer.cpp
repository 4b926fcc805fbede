// request_fuzzer.cpp: a libFuzzer target for what any etcd client can send the store: the KV
// and Lease requests, as protobuf bytes, taken through a member's own path with every rule of
// test/support/store/request_path.h checked (the entry means what the client sent, revisions,
// a put read back, a txn's branch answered, a range's limit, a refusal that says why).
// Input: the first byte picks the request (put, delete, txn, linearizable or serializable range,
// compaction, lease grant, lease revoke, or an InternalRequest as a damaged or future log entry
// would carry it); the rest is its protobuf encoding. An input that does not parse is skipped.
// A broken rule aborts, naming it, so that libFuzzer keeps the input.
// Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh. The unit tier runs the same
// path with seeded random requests (request_path_test.cpp).
#include "test/support/store/request_path.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mgmt::test::RequestPath;
  if (size == 0) return 0;
  // Never destroyed: at exit RocksDB's own statics may be gone before a static of ours would
  // close the store.
  static RequestPath* path = new RequestPath([](const std::string& what) {
    std::fprintf(stderr, "request_fuzzer: broken: %s\n", what.c_str());
    std::abort();
  });
  const auto kinds = static_cast<uint8_t>(RequestPath::Kind::count);
  path->run(static_cast<RequestPath::Kind>(data[0] % kinds),
            std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
