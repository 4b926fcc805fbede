// disk_floor.h: the fastest a store can acknowledge sequential durable writes on this machine.
// A store acknowledges a write only once it is synced to disk, so one client's sequential puts
// cannot go faster than the device completes one small append followed by fdatasync. This
// measures that: appends of `record_bytes` to an already written (zero-filled and synced) file,
// each followed by fdatasync, so each sync flushes data only, never the file's metadata. No
// store does less per write; the benchmark reports every store's sequential puts beside it.
// Bounded: stops at `run_for` or when the file is used up (64 MiB), whichever comes first.
#pragma once

#include "common/result.h"

#include <chrono>
#include <string>
#include <vector>

namespace mgmt::bench {

// A file of `bytes` zeros written and synced, so that later synced writes into it flush data
// only, never allocation or size; opened for writing. The caller closes and removes it (on
// failure nothing is left behind).
[[nodiscard]] Result<int> create_written_file(const std::string& path, std::size_t bytes);

// Appends and syncs in a file it creates in `dir` (and removes); each sync's latency in ms.
[[nodiscard]] Result<std::vector<double>> measure_synced_appends(const std::string& dir,
                                                                 std::size_t record_bytes,
                                                                 std::chrono::seconds run_for);

}  // namespace mgmt::bench
