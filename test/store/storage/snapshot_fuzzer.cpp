// snapshot_fuzzer.cpp: a libFuzzer target for what `mgmt restore` and a member installing a
// snapshot read from outside: the snapshot file (store/storage/snapshot_file.h) and the state
// dump inside it (Storage::load_state). Two kinds of input:
//   raw: the bytes are a snapshot file; read_snapshot_file must refuse or return a dump, never
//        crash;
//   framed: the bytes are a dump's records, given the header and a right CRC, so that the
//        record parser is reached; load_state must load them or refuse them, never crash, and
//        a refused dump must leave the state as it was.
// Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh.
#include "store/storage/snapshot_file.h"
#include "store/storage/storage.h"

#include <rocksdb/env.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

mgmt::store::storage::Storage& storage() {
  static std::unique_ptr<rocksdb::Env> env(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  static std::unique_ptr<mgmt::store::storage::Storage> s = [] {
    mgmt::store::storage::Options options;
    options.dir = "/fuzz/store";
    options.env = env.get();
    options.local_dir = false;
    auto opened = mgmt::store::storage::Storage::open(options);
    if (!opened) std::abort();
    return std::move(*opened);
  }();
  return *s;
}

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto dump = mgmt::store::storage::read_snapshot_file(bytes);
    if (dump) (void)storage().load_state(*dump);
    return 0;
  }
  const auto before = storage().dump_state();
  if (!before) std::abort();
  std::string dump = "MGMTSTATE1" + bytes;
  put_u32(dump, mgmt::store::storage::crc32(dump));
  if (!storage().load_state(dump)) {
    const auto after = storage().dump_state();
    if (!after || *after != *before) std::abort();  // a refused dump changed the state
  }
  return 0;
}
