// wal_tail.h: the end of a RocksDB write-ahead log file that a crash left behind, checked before
// RocksDB opens the database.
//
// The store preallocates WAL files with their size (storage.cpp), so after a crash a WAL ends
// in zeros rather than at its last record. RocksDB skips zeros as padding, and it drops a torn
// last record when it is cut short by the end of the file; but a torn record FOLLOWED BY ZEROS
// (a power cut while the last, unsynced record was being written) fails its checksum with more
// file after it, which RocksDB reports as damage. trim_torn_wal_tail() finds exactly that case
// and cuts the file at the torn record's start, which is the state RocksDB recovers from
// without loss: the record was not synced, so it was never acknowledged.
//
// Anything else is left alone: a file whose records are all whole (with or without zeros
// after them), and real damage (a bad record with data after it), which RocksDB then reports.
//
// The format walked is RocksDB's log format (leveldb's): 32 KiB blocks of records, each with a
// 7-byte header (masked crc32c of type and payload, 2-byte length, 1-byte type); a block's last
// 6 bytes or fewer are zero padding.
#pragma once

#include "common/result.h"

#include <cstdint>
#include <optional>
#include <string>

namespace mgmt::store::storage {

struct TrimmedTail {
  uint64_t torn_at;   // the offset the file was cut at
  uint64_t old_size;  // its size before
};

// Cuts a torn last record and the zeros after it from the WAL at `path`; nullopt when there was
// nothing to cut. An error only when the file cannot be read or cut.
[[nodiscard]] Result<std::optional<TrimmedTail>> trim_torn_wal_tail(const std::string& path);

// RocksDB's masked crc32c of a record's type byte and payload (for tests that build records).
uint32_t wal_record_crc(uint8_t type, const char* payload, std::size_t size);

}  // namespace mgmt::store::storage
