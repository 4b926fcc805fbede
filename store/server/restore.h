// restore.h: `mgmt restore`: a new data dir from a store snapshot (what `etcdctl snapshot save`
// gets from an mgmt store; store/storage/snapshot_file.h), as `etcdctl snapshot restore` does
// for etcd. The dir gets the snapshot's keys with their history since its last compaction, its
// leases and revisions, and none of its cluster's membership: an agent started on it founds a
// new cluster of one member (its Raft log starts after the snapshot's applied index), which
// others join with --seeds.
// Invariants: a snapshot whose digest or inner checksum is wrong changes nothing; an existing
// data dir is never touched; a restore that fails removes only the dir it created.
#pragma once

#include "common/result.h"

#include <cstdint>
#include <string>

namespace mgmt::store::server {

struct RestoreSummary {
  int64_t revision = 0;        // the store revision restored
  uint64_t applied_index = 0;  // where the new member's Raft log starts
  std::size_t keys = 0;        // records of every key's history restored
};

Result<RestoreSummary> restore_snapshot(const std::string& file, const std::string& data_dir);

}  // namespace mgmt::store::server
