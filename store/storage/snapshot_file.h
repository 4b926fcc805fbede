// snapshot_file.h: the bytes of a store snapshot as Maintenance.Snapshot streams them and
// `etcdctl snapshot save` keeps them: a state dump (Storage::dump_state) made to look as etcd's
// snapshot stream does to etcdctl, which checks that a saved file is a multiple of 512 bytes
// followed by a 32-byte SHA-256 digest (etcd sends a bolt file, whose size is a multiple of
// its pages, then the digest of it). Layout (docs/formats/storage.md):
//   dump | zero bytes | u64 BE dump length | SHA-256 of everything before it
// with the zero bytes making everything before the digest a multiple of 512 bytes.
// `mgmt restore` reads such a file back (read_snapshot_file), checking the digest and length.
#pragma once

#include "common/result.h"

#include <string>
#include <string_view>

namespace mgmt::store::storage {

inline constexpr std::size_t kSnapshotBlock = 512;
inline constexpr std::size_t kSha256Bytes = 32;

// The snapshot file of a state dump.
std::string snapshot_file(std::string_view dump);
// The state dump inside a snapshot file; an error naming what is wrong with it.
Result<std::string> read_snapshot_file(std::string_view file);

}  // namespace mgmt::store::storage
