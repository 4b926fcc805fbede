// kv_store.h: etcd 3.4's multi-version key/value store (server/mvcc's kvstore + watchableStore)
// on top of store/storage.
//
// Model: one global revision, 1 in a fresh store. Each write request that changes something
// (put, delete of at least one key, txn with at least one such op) is ONE new main revision; the
// individual changes inside it get sub-revisions 0, 1, 2, ... Reads, deletes of nothing, compaction
// and lease grants do not bump it. Per key: create_revision, mod_revision, version, lease.
//
// Memory and disk: every revision of every key since the last compaction is in RocksDB's kv
// column (key = revision, value = KeyValue; see storage.h) and in an in-memory index (key ->
// its revisions, with the KeyValue of each) that open() rebuilds from the column. compact(rev)
// drops what no read at >= rev can see (for each key: every revision older than its newest
// revision <= rev, and that one too if it is a deletion): reads below rev are refused at once;
// once the batch recording it is written (on_batch_written()), a background thread drops them
// from the index a few keys at a time and from the column (store/mvcc/physical_compactor.h);
// until then reads, hash_kv and watches skip them (KeyIndex::dropped_by). open() compacts the
// rebuilt index again, which finds and deletes what a stop left behind.
//
// Writes take a storage::Batch: the caller (the apply loop) adds the applied index to the same
// batch and writes it, so an entry's effects and its index land together. The in-memory state
// and the watchers see a write as soon as the call returns, before the batch is on disk; that is
// safe because only committed Raft entries are applied and re-applying them after a crash yields
// the same state. If writing the batch fails the process must stop (as etcd panics). The
// overloads without a batch write their own (unsynced) batch, for tests and tools.
//
// Watches: watch() registers a watcher on a key or range from a start revision; history from
// start_revision up to the current revision is delivered first (in responses of up to 1000
// revisions, etcd's watchBatchMaxRevs), then every later event, each exactly once and in revision
// order (the events of one revision never split across responses). A start revision
// below the compacted revision gets one response with compact_revision set, then the watcher is
// gone (etcd cancels it). One watch() replays at most kReplayMaxEvents events or
// kReplayMaxBytes of keys and values, so that a watch from revision 1 on a big store neither
// copies its whole history at once nor holds the store's lock while it does; past that, the
// sink hears behind_from and the watcher gets nothing more (as etcd's "unsynced" watchers): the
// caller watches again from behind_from once it has sent what it got.
//
// Thread-safety: all public methods are thread-safe. Reads share a lock; writes are exclusive.
// Watch sinks are called with internal locks held, in revision order: a sink must be quick
// (enqueue and return) and must not call back into the KvStore or the LeaseHook.
// Lock order: KvStore, then the watch hub or the LeaseHook (never both); a LeaseHook must never
// call the KvStore while holding its own lock.
#pragma once

#include "common/result.h"
#include "store/mvcc/types.h"
#include "store/storage/storage.h"

#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::store::mvcc {

// What the store needs from leases (implemented by store/lease's Lessor): existence checks for
// puts with a lease, and attach/detach as keys gain, lose or change their lease.
class LeaseHook {
 public:
  virtual ~LeaseHook() = default;
  virtual bool lease_exists(LeaseId id) const = 0;
  virtual void attach(LeaseId id, const std::string& key) = 0;
  virtual void detach(LeaseId id, const std::string& key) = 0;
};

using WatcherId = uint64_t;

struct WatchRequest {
  std::string key;
  std::string range_end;       // as in RangeRequest
  int64_t start_revision = 0;  // 0 = current + 1 (only new events)
  bool no_put = false;         // etcd's NOPUT filter
  bool no_delete = false;      // etcd's NODELETE filter
  bool prev_kv = false;
};

// One delivery to a watcher.
struct WatchEvents {
  WatcherId watcher = 0;
  // The revision for the response header, as etcd sets it: the events' revision for live events;
  // the store's current revision for history replay and progress; 0 for a compacted response.
  int64_t revision = 0;
  int64_t compact_revision = 0;  // non-zero: start was compacted; no events; watcher removed
  std::vector<Event> events;     // empty for a progress notification
  // Non-zero: the history replay stopped before this revision, and this watcher gets nothing
  // more; watch again from it for the rest. No events.
  int64_t behind_from = 0;
};

using WatchSink = std::function<void(const WatchEvents&)>;

class KvStore {
 public:
  // Loads the index from storage's kv column and the revisions from its meta column.
  // `leases` may be null (no leases: any put with a lease fails with kErrLeaseNotFound).
  // Requires: storage outlives the store; leases too.
  [[nodiscard]] static Result<std::unique_ptr<KvStore>> open(storage::Storage& storage,
                                                             LeaseHook* leases);
  ~KvStore();
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  void set_lease_hook(LeaseHook* leases);

  int64_t current_revision() const;
  int64_t compacted_revision() const;  // 0 before any compaction (which may also be at 0)
  // The same as etcd's compactMainRev, which HashKV answers: -1 before any compaction.
  int64_t compact_main_revision() const;

  // Reads (never change the revision). Errors: kErrCompacted, kErrFutureRev.
  [[nodiscard]] Result<RangeResponse> range(const RangeRequest& r) const;

  // Writes. Errors (state unchanged, nothing added to the batch): kErrKeyNotFound,
  // kErrLeaseNotFound, and for a txn the range errors of its ops. Validation (validate.h) is the
  // caller's job before proposing; these do not repeat it.
  [[nodiscard]] Result<PutResponse> put(const PutRequest& r, storage::Batch& batch);
  [[nodiscard]] Result<DeleteRangeResponse> delete_range(const DeleteRangeRequest& r,
                                                         storage::Batch& batch);
  [[nodiscard]] Result<TxnResponse> txn(const TxnRequest& r, storage::Batch& batch);
  // Errors: kErrCompacted when rev <= compacted_revision(), kErrFutureRev when rev > current.
  [[nodiscard]] Result<CompactResponse> compact(int64_t revision, storage::Batch& batch);

  // Same, each writing its own unsynced batch.
  [[nodiscard]] Result<PutResponse> put(const PutRequest& r);
  [[nodiscard]] Result<DeleteRangeResponse> delete_range(const DeleteRangeRequest& r);
  [[nodiscard]] Result<TxnResponse> txn(const TxnRequest& r);
  [[nodiscard]] Result<CompactResponse> compact(int64_t revision);
  // The caller wrote a batch that compact(revision, batch) filled: the old revisions are now
  // deleted from disk in the background (store/mvcc/physical_compactor.h).
  void on_batch_written();
  // Waits until the old revisions of every compaction up to `revision` are deleted from disk
  // (etcd's physical compaction); false on timeout or after stop_compaction().
  bool wait_compacted(int64_t revision, std::chrono::milliseconds timeout);
  // Stops deleting in the background (before the state is replaced); the next open() resumes.
  void stop_compaction();

  // Deletes exactly these keys (those that exist) in one revision: lease revoke. Returns the
  // store revision afterwards.
  int64_t delete_keys(const std::vector<std::string>& keys, storage::Batch& batch);

  // Every live key with its lease (lease != 0), for rebuilding lease attachments on open.
  std::vector<std::pair<std::string, LeaseId>> leased_keys() const;

  // Watches. The sink is first called (possibly several times, before watch() returns) with the
  // history, then with live events, or, when the history is longer than one replay, with
  // behind_from last. Returns the watcher's id (never 0).
  WatcherId watch(const WatchRequest& w, WatchSink sink);
  static constexpr std::size_t kReplayMaxEvents = 10000;
  static constexpr std::size_t kReplayMaxBytes = 8 << 20;
  // True if the watcher existed. After it returns the sink is never called again.
  bool cancel_watch(WatcherId id);
  // Sends the watcher (or every watcher, for 0) an empty WatchEvents at the current revision.
  void progress(WatcherId id);
  std::size_t watcher_count() const;

  // The bytes the history holds (KeyIndex::bytes): what the space quota counts.
  int64_t state_bytes() const;

  // etcd 3.4's HashKV of the history up to `revision` (0 = current; a negative one hashes
  // none), bit for bit: CRC-32C of "key", then of each revision's key and KeyValue (etcd's
  // bucket layout, in revision order). As etcd 3.4.23's, a revision at or below the compacted
  // one counts only if it is its key's newest at `revision` and not a deletion, unless no key
  // has such a revision.
  uint32_t hash_kv(int64_t revision) const;

 private:
  struct Impl;
  explicit KvStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgmt::store::mvcc
