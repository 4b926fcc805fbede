// storage.h: the one RocksDB database of a store member, with a column family per concern.
//
// On-disk layout (docs/formats/storage.md has the full description):
//   default  unused (RocksDB requires it)
//   raft     Raft log entries and hard state (see raft_log_store.h once the Raft core lands)
//   kv       MVCC history: key = revision (8-byte big-endian main, '_', 8-byte big-endian sub,
//            then 't' for a tombstone), value = encoded KeyValue (store/mvcc/kv_codec.h)
//   leases   lease id (8-byte big-endian) -> encoded lease (store/lease/lessor.h)
//   meta     named scalars: "format", "cluster_id", "member_id", "applied_index",
//            "consistent_index", "mvcc_revision", "compacted_revision", "scheduled_compact"
//
// Atomicity and crash behaviour: every change is a Batch written by write(); RocksDB's WAL makes
// a batch all-or-nothing. Applying a committed Raft entry puts its kv/lease changes AND the new
// applied index into ONE batch, so after a crash the entry is either fully applied with its
// index recorded or not applied at all (and will be applied again from the log). A batch written
// with sync=true is on disk when write() returns; a sync=false batch may be lost by a power
// failure (never torn), which is only allowed for state that Raft can reproduce.
//
// Opening: a LOCK file held with flock() for the life of the Storage (a second opener of the same
// directory gets "... another mgmt agent is running ..."). A directory whose stored cluster id
// differs from the expected one, an unknown format, or a damaged database is refused with a
// one-line error; nothing is deleted or repaired, with one exception: a torn last WAL record
// followed by the preallocated zeros (a power cut mid-write) is cut (wal_tail.h).
// The WAL files are preallocated with their size, so a synced write does not rewrite the inode.
//
// Thread-safety: all methods may be called from any thread (RocksDB is thread-safe); the caller
// orders writes (one apply strand, one Raft strand).
#pragma once

#include "common/histogram.h"
#include "common/result.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rocksdb {
class DB;
class Env;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace mgmt::store::storage {

enum class Column : int { raft = 0, kv = 1, leases = 2, meta = 3 };

// Names of the scalars kept in Column::meta.
namespace meta {
inline constexpr const char* kFormat = "format";
inline constexpr const char* kClusterId = "cluster_id";
inline constexpr const char* kMemberId = "member_id";
inline constexpr const char* kAppliedIndex = "applied_index";
inline constexpr const char* kConsistentIndex = "consistent_index";
inline constexpr const char* kMvccRevision = "mvcc_revision";
inline constexpr const char* kCompactedRevision = "compacted_revision";
}  // namespace meta

// A set of changes written atomically by Storage::write().
class Batch {
 public:
  Batch();
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;

  void put(Column column, std::string_view key, std::string_view value);
  void del(Column column, std::string_view key);
  // Deletes [begin, end) in the column.
  void del_range(Column column, std::string_view begin, std::string_view end);
  void put_u64(std::string_view meta_name, uint64_t value);  // into Column::meta, big-endian
  bool empty() const;
  std::size_t count() const;

 private:
  friend class Storage;
  struct Op;
  std::unique_ptr<std::vector<Op>> ops_;
};

struct Options {
  std::string dir;                     // the data directory (created if missing)
  rocksdb::Env* env = nullptr;         // nullptr = the default Env; tests pass MemEnv/fault envs
  // true: `dir` is a real directory (created, locked with flock, checked for foreign files);
  // false only for an in-memory Env (rocksdb::NewMemEnv), where there is nothing to lock.
  bool local_dir = true;
  std::optional<uint64_t> cluster_id;  // when set: refuse a dir recorded with another cluster id
  bool create_if_missing = true;       // false: refuse a dir without a database
};

class Storage {
 public:
  // Opens or creates the database. Errors (one line, naming the dir): locked by another agent
  // (Code::unavailable), another cluster (failed_precondition), damaged or unknown format
  // (data_loss), I/O (internal).
  [[nodiscard]] static Result<std::unique_ptr<Storage>> open(const Options& options);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  const std::string& dir() const;

  // Writes the batch atomically; with sync the WAL is fsynced before returning. Without, the
  // batch is visible to reads at once but waits in the WAL buffer until the next synced write
  // (or close) writes it with its own: a crash may lose it. An error means the batch may or may
  // not be durable; the caller must stop acknowledging (etcd panics here).
  [[nodiscard]] Result<void> write(Batch& batch, bool sync);
  // How long each synced write took, the WAL's append and fsync together (etcd's
  // etcd_disk_wal_fsync_duration_seconds: what a slow disk shows in first).
  const Histogram& synced_write_seconds() const;

  // Flushes memtables to SST files (checkpoints, tests). Durability does not depend on it.
  [[nodiscard]] Result<void> flush();

  // The bytes the state holds (kv, leases, meta: SST files and memtables; not the Raft log,
  // which etcd keeps in its WAL, outside its db, nor the preallocated WAL, whose size says
  // nothing): what Status reports as the db size, a few KB for an empty store.
  int64_t state_bytes() const;
  // Flushes, then rewrites every column's files without what was deleted or overwritten, so
  // that the space they took is free now rather than at RocksDB's next compaction (etcd's
  // defrag). Takes time proportional to the data; reads and writes go on meanwhile.
  [[nodiscard]] Result<void> compact_all();

  [[nodiscard]] Result<std::optional<std::string>> get(Column column, std::string_view key) const;
  [[nodiscard]] Result<std::optional<uint64_t>> get_u64(std::string_view meta_name) const;

  // Calls visit(key, value) for keys in [begin, end) in order (end empty = to the last key),
  // stopping early when visit returns false.
  [[nodiscard]] Result<void> scan(
      Column column, std::string_view begin, std::string_view end,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // The state machine as one byte string: the kv and leases columns and the meta column (minus
  // format, cluster_id, member_id), read at one consistent point, for Raft snapshots and
  // Maintenance.Snapshot. Format (docs/formats/storage.md): "MGMTSTATE1", then records
  // (u8 column, u32 BE key length, key, u32 BE value length, value), then u32 BE CRC-32 of all
  // bytes before it.
  [[nodiscard]] Result<std::string> dump_state() const;
  // One consistent point of the state machine (a RocksDB snapshot), held while the returned
  // object lives; taking it is cheap. It must not outlive this Storage.
  class StatePoint;
  [[nodiscard]] std::shared_ptr<const StatePoint> hold_state() const;
  // dump_state() as of `point`, from any thread, while writes go on. Stops early with
  // Code::cancelled once `*stop` is set.
  [[nodiscard]] Result<std::string> dump_state(const StatePoint& point,
                                               const std::atomic<bool>* stop = nullptr) const;
  // Replaces the state machine with a dump_state() string in one synced batch (checked first:
  // a damaged string changes nothing; Code::data_loss). This member's format, cluster_id and
  // member_id are kept. The caller reopens KvStore and Lessor afterwards.
  [[nodiscard]] Result<void> load_state(std::string_view state);

  // Records the cluster and member id (first start) or checks them (later starts).
  [[nodiscard]] Result<void> bind_cluster(uint64_t cluster_id, uint64_t member_id);

 private:
  struct Impl;
  explicit Storage(std::unique_ptr<Impl> impl);
  // Checks (or, for a new database, writes) the format record and the cluster id.
  Result<void> verify(const Options& options, bool existed);
  std::unique_ptr<Impl> impl_;
};

class Storage::StatePoint {
 public:
  StatePoint(rocksdb::DB* db, const rocksdb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
  ~StatePoint();
  StatePoint(const StatePoint&) = delete;
  StatePoint& operator=(const StatePoint&) = delete;
  const rocksdb::Snapshot* snapshot() const { return snapshot_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

// CRC-32 (IEEE, as zlib) of bytes.
uint32_t crc32(std::string_view bytes);

// Big-endian encoding used by every column (keys sort numerically).
std::string encode_u64(uint64_t v);
std::optional<uint64_t> decode_u64(std::string_view bytes);

}  // namespace mgmt::store::storage
