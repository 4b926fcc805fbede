// snapshot_file_test.cpp: the snapshot file (store/storage/snapshot_file.h): any dump comes back
// whole, in a file etcdctl keeps (512-byte blocks and a SHA-256 digest); a changed or cut file,
// or an etcd snapshot, is refused with what is wrong.
#include "store/storage/snapshot_file.h"

#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <string>

using namespace mgmt::store::storage;

TEST_CASE("snapshot file: every dump comes back whole from a file etcdctl keeps",
          "[storage][snapshot]") {
  for (std::size_t n : {0, 1, 470, 471, 472, 503, 504, 505, 511, 512, 513, 1000, 4096, 70000}) {
    std::string dump = "MGMTSTATE1" + std::string(n, '\0');  // a dump's header, then bytes
    for (std::size_t i = 10; i < dump.size(); ++i) dump[i] = static_cast<char>(i * 7 + n);
    const std::string file = snapshot_file(dump);
    INFO("dump of " << n << " bytes");
    CHECK(file.size() % kSnapshotBlock == kSha256Bytes);
    CHECK(file.size() < dump.size() + kSnapshotBlock + kSha256Bytes + 8);
    auto back = read_snapshot_file(file);
    REQUIRE(back);
    CHECK(*back == dump);
  }
}

TEST_CASE("snapshot file: a changed, cut or foreign file is refused", "[storage][snapshot]") {
  const std::string file = snapshot_file("MGMTSTATE1" + std::string(3000, 'd'));
  for (std::size_t at : {std::size_t{0}, std::size_t{2999}, file.size() - 40, file.size() - 1}) {
    std::string changed = file;
    changed[at] = static_cast<char>(changed[at] ^ 1);
    auto r = read_snapshot_file(changed);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("digest does not match") != std::string::npos);
  }
  auto cut = read_snapshot_file(file.substr(0, file.size() - 100));
  REQUIRE_FALSE(cut);
  CHECK(cut.error().message().find("not a store snapshot") != std::string::npos);
  // Framed right, but no state dump inside.
  auto empty = read_snapshot_file(snapshot_file("not a dump"));
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message().find("etcdctl snapshot restore") != std::string::npos);
  // An etcd snapshot: a bolt file (here 8 pages of 0xff) and the SHA-256 of it.
  const std::string bolt(4096, '\xff');
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bolt.data(), bolt.size(), digest, &length, EVP_sha256(), nullptr);
  auto etcd = read_snapshot_file(bolt + std::string(reinterpret_cast<char*>(digest), length));
  REQUIRE_FALSE(etcd);
  CHECK(etcd.error().message().find("etcdctl snapshot restore") != std::string::npos);
}
