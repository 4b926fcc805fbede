// snapshot_file.cpp: see snapshot_file.h.
#include "store/storage/snapshot_file.h"

#include <openssl/evp.h>

namespace mgmt::store::storage {
namespace {

std::string sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace

std::string snapshot_file(std::string_view dump) {
  std::string out(dump);
  std::size_t padded = out.size() + 8;
  padded += (kSnapshotBlock - padded % kSnapshotBlock) % kSnapshotBlock;
  out.resize(padded - 8, '\0');
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((dump.size() >> shift) & 0xff));
  }
  out += sha256(out);
  return out;
}

Result<std::string> read_snapshot_file(std::string_view file) {
  if (file.size() < kSnapshotBlock + kSha256Bytes ||
      (file.size() - kSha256Bytes) % kSnapshotBlock != 0) {
    return fail(Code::invalid_argument,
                "not a store snapshot: its size (" + std::to_string(file.size()) +
                    " bytes) is not a multiple of 512 plus a 32-byte digest; save one with "
                    "`etcdctl snapshot save FILE` against an mgmt store");
  }
  const std::string_view body = file.substr(0, file.size() - kSha256Bytes);
  if (sha256(body) != file.substr(body.size())) {
    return fail(Code::data_loss,
                "the snapshot is damaged: its SHA-256 digest does not match its contents; save "
                "it again");
  }
  uint64_t length = 0;
  for (std::size_t i = body.size() - 8; i < body.size(); ++i) {
    length = (length << 8) | static_cast<unsigned char>(body[i]);
  }
  if (length > body.size() - 8) {
    return fail(Code::invalid_argument,
                "not a store snapshot: its length field is past its end (an etcd snapshot? "
                "restore that one with `etcdctl snapshot restore`)");
  }
  const std::string_view dump = body.substr(0, length);
  if (dump.substr(0, 10) != "MGMTSTATE1") {  // Storage::dump_state's header
    return fail(Code::invalid_argument,
                "not a store snapshot: it does not hold an mgmt state dump (an etcd snapshot? "
                "restore that one with `etcdctl snapshot restore`)");
  }
  return std::string(dump);
}

}  // namespace mgmt::store::storage
