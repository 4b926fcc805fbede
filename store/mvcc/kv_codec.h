// kv_codec.h: how the kv column stores history (docs/formats/storage.md).
//   key:   8-byte big-endian main revision, '_', 8-byte big-endian sub revision, then 't' for a
//          deletion (etcd's layout: revisions sort in time order, tombstones marked).
//   value: 'K' tag, then u32 key length, key, u32 value length, value, then create_revision,
//          mod_revision, version, lease as big-endian int64. A deletion stores key and
//          mod_revision (the deleting revision), other numbers zero.
// Decoding checks lengths and the tag; a mismatch is reported, never asserted (disk is input).
// Thread-safety: pure functions.
#pragma once

#include "store/mvcc/types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgmt::store::mvcc {

// A position in history: main = the store revision of the write request, sub = the index of the
// change inside it.
struct Revision {
  int64_t main = 0;
  int64_t sub = 0;
  auto operator<=>(const Revision&) const = default;
};

inline constexpr std::size_t kRevisionKeyBytes = 17;

std::string encode_revision_key(Revision rev, bool tombstone);
// Returns false if `bytes` is not a revision key.
bool decode_revision_key(std::string_view bytes, Revision* rev, bool* tombstone);

std::string encode_key_value(const KeyValue& kv);
std::optional<KeyValue> decode_key_value(std::string_view bytes);

}  // namespace mgmt::store::mvcc
