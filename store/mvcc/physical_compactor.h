// physical_compactor.h: carries out compactions in the background, as etcd's scheduled
// compaction does. A compaction is recorded at once (reads below it are refused from then on)
// and staged here; once the batch that records it is written, release() hands it to a thread
// that walks the in-memory index a few keys at a time (the walk callback, which takes the
// store's lock for at most kWalkKeys keys) and deletes what each step dropped from the kv column
// in small batches. So neither the store's lock nor the Raft thread waits for the walk of a big
// index (200,000 keys took 100 ms under the lock) or a big RocksDB write (500,000 deletes in one
// batch took 2 s). What the walk has not reached yet is invisible to reads at or after the
// compaction (KeyIndex::dropped_by).
// Invariants: a deletion is written only after the batch recording its compaction (RocksDB keeps
// the order of writes, so a crash never leaves a deletion without its compaction); what is not
// walked or deleted when the process stops is found and deleted again by the next
// KvStore::open, which compacts the rebuilt index at the recorded revision. Compactions are
// carried out one at a time, in the order staged.
// Thread-safety: all methods are thread-safe; the thread starts with the first release().
#pragma once

#include "store/mvcc/kv_codec.h"
#include "store/storage/storage.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mgmt::store::mvcc {

class PhysicalCompactor {
 public:
  // Deletes written per batch: small enough that a write waiting behind one is not held long.
  static constexpr std::size_t kBatchKeys = 1000;
  // Keys of the index compacted per step of a walk, under the store's lock (about 0.5 ms).
  static constexpr std::size_t kWalkKeys = 1000;

  // A revision of the kv column to delete, and whether it is a deletion's (its key's form).
  struct Dropped {
    Revision rev;
    bool tombstone = false;
  };

  // One step of the walk of a compaction at `at`: compacts at most kWalkKeys keys of the index
  // from `from` on, under the store's lock, adding what it dropped to `dropped` and `values`;
  // returns the key to go on from, or nullopt when done (KeyIndex::compact_some).
  using Walk = std::function<std::optional<std::string>(
      int64_t at, const std::string& from, std::vector<Dropped>& dropped,
      std::vector<std::shared_ptr<const KeyValue>>& values)>;

  PhysicalCompactor(storage::Storage& storage, Walk walk)
      : storage_(storage), walk_(std::move(walk)) {}
  ~PhysicalCompactor() { stop(); }
  PhysicalCompactor(const PhysicalCompactor&) = delete;
  PhysicalCompactor& operator=(const PhysicalCompactor&) = delete;

  // The compaction at `revision`, recorded in a batch not written yet: the thread walks the
  // index for it once released.
  void stage(int64_t revision);
  // Revisions that a compaction at `revision` already dropped from the index (not deleted from
  // disk yet): what KvStore::open found left on disk.
  void stage(int64_t revision, std::vector<Dropped> dropped);
  // The batch recording the staged compactions is written: delete their keys.
  void release();
  // Waits until every released compaction up to `revision` is deleted; false on timeout, or
  // when the compactor stopped (a failed write, or stop()) first.
  bool wait(int64_t revision, std::chrono::milliseconds timeout);
  // Stops the thread; what is left is deleted by the next KvStore::open. Idempotent.
  void stop();

 private:
  struct Job {
    int64_t revision;
    bool walk = false;          // walk the index for what to delete
    std::vector<Dropped> keys;  // else: delete these
  };
  void run();
  // Deletes these revisions in batches of kBatchKeys; false if stopped or a write failed.
  bool erase(int64_t revision, const std::vector<Dropped>& keys);

  storage::Storage& storage_;
  Walk walk_;
  std::vector<Job> staged_;  // guarded by mutex_
  std::mutex mutex_;         // guards everything below
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  int64_t done_ = 0;  // every compaction up to this revision is deleted
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace mgmt::store::mvcc
