// lessor.h: etcd 3.4's leases (server/lease's lessor): ids, TTLs, attached keys, expiry.
//
// Who decides what: grant and revoke are Raft-applied on every member (they take the apply
// batch). Expiry is decided by the leader only, from time passed in as `now_ms` (a monotonic
// millisecond clock read by the caller; nothing here reads a clock): expired(now_ms) lists the
// leases whose deadline passed, and the leader proposes a revoke for each through Raft.
// Keep-alive (renew) is leader-local, as in etcd: it moves the deadline, not the log.
// A member that is not the leader keeps no deadlines (its leases never expire); promote(now_ms)
// on becoming leader gives every lease a full TTL again (etcd's Promote), so a failover never
// expires leases early; demote() drops the deadlines again.
//
// Persistence: Column::leases, key = 8-byte big-endian id, value = 16 bytes (id, granted TTL
// seconds, both big-endian int64). Attached keys are not stored: open() rebuilds them from the
// kv store's live keys (attach_existing()). Remaining TTL is not persisted (as etcd 3.4).
//
// Errors, with etcd's text: "etcdserver: requested lease not found" (Code::not_found),
// "etcdserver: lease already exists" (failed_precondition), "etcdserver: too large lease TTL"
// (out_of_range), "lessor: not primary" for renew on a non-leader (failed_precondition; the
// server answers as etcd does for a follower, forwarding or "etcdserver: not leader").
//
// Thread-safety: all methods are thread-safe (one internal mutex). As an mvcc::LeaseHook it is
// called by the KvStore under the store's lock; revoke() calls the KvStore without holding its own
// lock, so the lock order is always KvStore -> Lessor.
#pragma once

#include "common/result.h"
#include "store/mvcc/kv_store.h"
#include "store/storage/storage.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::store::lease {

using LeaseId = mvcc::LeaseId;

inline constexpr const char* kErrLeaseNotFound = "etcdserver: requested lease not found";
inline constexpr const char* kErrLeaseExists = "etcdserver: lease already exists";
inline constexpr const char* kErrLeaseTtlTooLarge = "etcdserver: too large lease TTL";
inline constexpr const char* kErrNotPrimary = "lessor: not primary";
// etcd's MaxLeaseTTL (seconds).
inline constexpr int64_t kMaxLeaseTtlSeconds = 9000000000;

struct Options {
  // etcd: ceil(1.5 * election timeout); 2 s for the default 1 s election timeout. Grants with a
  // smaller TTL get this one.
  int64_t min_ttl_seconds = 2;
};

struct LeaseInfo {
  LeaseId id = 0;
  int64_t granted_ttl_seconds = 0;  // TTL as granted (after the minimum was applied)
  int64_t ttl_seconds = 0;          // remaining, whole seconds rounded down (granted if no deadline)
  std::vector<std::string> keys;    // attached keys, sorted (only when asked for)
};

class Lessor : public mvcc::LeaseHook {
 public:
  // Loads the leases from Column::leases. Call attach_existing(kv) once the KvStore is open.
  [[nodiscard]] static Result<std::unique_ptr<Lessor>> open(storage::Storage& storage,
                                                            Options options);
  ~Lessor() override;

  void attach_existing(const mvcc::KvStore& kv);

  // Raft-applied. id must be non-zero (the server picks a fresh one when the client sent 0).
  // Returns the granted lease (TTL raised to the minimum). The revision does not change.
  [[nodiscard]] Result<LeaseInfo> grant(LeaseId id, int64_t ttl_seconds, int64_t now_ms,
                                        storage::Batch& batch);
  // Raft-applied. Deletes the attached keys in ONE kv revision and forgets the lease. Returns the
  // store revision afterwards (unchanged when no key was attached).
  [[nodiscard]] Result<int64_t> revoke(LeaseId id, mvcc::KvStore& kv, storage::Batch& batch);

  // Leader-local keep-alive: the deadline becomes now + TTL. Returns the granted TTL.
  [[nodiscard]] Result<int64_t> renew(LeaseId id, int64_t now_ms);
  [[nodiscard]] Result<LeaseInfo> time_to_live(LeaseId id, bool with_keys, int64_t now_ms) const;
  std::vector<LeaseId> list() const;  // sorted ids
  bool contains(LeaseId id) const;

  // Leader only: leases whose deadline is <= now_ms, oldest deadline first, at most `max`.
  // A lease is listed again on every call until its revoke is applied (or it is renewed); the
  // caller rate-limits its revoke proposals (etcd checks every 500 ms).
  std::vector<LeaseId> expired(int64_t now_ms, std::size_t max = 1000) const;

  void promote(int64_t now_ms);
  void demote();
  bool is_primary() const;

  // mvcc::LeaseHook
  bool lease_exists(LeaseId id) const override;
  void attach(LeaseId id, const std::string& key) override;
  void detach(LeaseId id, const std::string& key) override;

 private:
  struct Impl;
  explicit Lessor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgmt::store::lease
