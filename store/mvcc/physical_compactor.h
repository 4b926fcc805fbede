// physical_compactor.h: deletes compacted revisions from the kv column in the background, as
// etcd's scheduled compaction does. A compaction drops its revisions from the in-memory index at
// once (reads never see them again) and stages their keys here; once the batch that records the
// compaction is written, release() hands them to a thread that deletes them in small batches,
// so that neither the store's lock nor the Raft thread waits for a big RocksDB write (500,000
// deletes in one batch took 2 s).
// Invariants: a deletion is written only after the batch recording its compaction (RocksDB keeps
// the order of writes, so a crash never leaves a deletion without its compaction); what is not
// deleted when the process stops is found and deleted again by the next KvStore::open, which
// compacts the rebuilt index at the recorded revision.
// Thread-safety: all methods are thread-safe; the thread starts with the first release().
#pragma once

#include "store/mvcc/kv_codec.h"
#include "store/storage/storage.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mgmt::store::mvcc {

class PhysicalCompactor {
 public:
  // Deletes written per batch: small enough that a write waiting behind one is not held long.
  static constexpr std::size_t kBatchKeys = 1000;

  // A revision of the kv column to delete, and whether it is a deletion's (its key's form).
  struct Dropped {
    Revision rev;
    bool tombstone = false;
  };

  explicit PhysicalCompactor(storage::Storage& storage) : storage_(storage) {}
  ~PhysicalCompactor() { stop(); }
  PhysicalCompactor(const PhysicalCompactor&) = delete;
  PhysicalCompactor& operator=(const PhysicalCompactor&) = delete;

  // Revisions that the compaction at `revision` dropped from the index (not deleted yet), and
  // their values, which the thread frees (freeing 300,000 of them took the Raft thread 100 ms).
  void stage(int64_t revision, std::vector<Dropped> dropped,
             std::vector<std::shared_ptr<const KeyValue>> values = {});
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
    std::vector<Dropped> keys;
    std::vector<std::shared_ptr<const KeyValue>> values;
  };
  void run();

  storage::Storage& storage_;
  std::vector<Job> staged_;  // guarded by mutex_
  std::mutex mutex_;         // guards everything below
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  int64_t done_ = 0;  // every compaction up to this revision is deleted
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace mgmt::store::mvcc
