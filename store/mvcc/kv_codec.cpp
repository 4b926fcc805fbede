// kv_codec.cpp: see kv_codec.h for the format.
#include "store/mvcc/kv_codec.h"

#include "store/storage/storage.h"

namespace mgmt::store::mvcc {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

bool get_u32(std::string_view& in, uint32_t* v) {
  if (in.size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  in.remove_prefix(4);
  return true;
}

bool get_i64(std::string_view& in, int64_t* v) {
  if (in.size() < 8) return false;
  auto u = storage::decode_u64(in.substr(0, 8));
  *v = static_cast<int64_t>(*u);
  in.remove_prefix(8);
  return true;
}

bool get_bytes(std::string_view& in, std::string* out) {
  uint32_t n = 0;
  if (!get_u32(in, &n) || in.size() < n) return false;
  out->assign(in.data(), n);
  in.remove_prefix(n);
  return true;
}

}  // namespace

std::string encode_revision_key(Revision rev, bool tombstone) {
  std::string out = storage::encode_u64(static_cast<uint64_t>(rev.main));
  out.push_back('_');
  out += storage::encode_u64(static_cast<uint64_t>(rev.sub));
  if (tombstone) out.push_back('t');
  return out;
}

bool decode_revision_key(std::string_view bytes, Revision* rev, bool* tombstone) {
  if (bytes.size() != kRevisionKeyBytes && bytes.size() != kRevisionKeyBytes + 1) return false;
  if (bytes[8] != '_') return false;
  if (bytes.size() == kRevisionKeyBytes + 1 && bytes[kRevisionKeyBytes] != 't') return false;
  rev->main = static_cast<int64_t>(*storage::decode_u64(bytes.substr(0, 8)));
  rev->sub = static_cast<int64_t>(*storage::decode_u64(bytes.substr(9, 8)));
  *tombstone = bytes.size() == kRevisionKeyBytes + 1;
  return true;
}

std::string encode_key_value(const KeyValue& kv) {
  std::string out;
  out.reserve(1 + 8 + kv.key.size() + kv.value.size() + 32);
  out.push_back('K');
  put_u32(out, static_cast<uint32_t>(kv.key.size()));
  out += kv.key;
  put_u32(out, static_cast<uint32_t>(kv.value.size()));
  out += kv.value;
  for (int64_t v : {kv.create_revision, kv.mod_revision, kv.version, kv.lease}) {
    out += storage::encode_u64(static_cast<uint64_t>(v));
  }
  return out;
}

std::optional<KeyValue> decode_key_value(std::string_view in) {
  if (in.empty() || in[0] != 'K') return std::nullopt;
  in.remove_prefix(1);
  KeyValue kv;
  if (!get_bytes(in, &kv.key) || !get_bytes(in, &kv.value)) return std::nullopt;
  if (!get_i64(in, &kv.create_revision) || !get_i64(in, &kv.mod_revision) ||
      !get_i64(in, &kv.version) || !get_i64(in, &kv.lease) || !in.empty()) {
    return std::nullopt;
  }
  return kv;
}

}  // namespace mgmt::store::mvcc
