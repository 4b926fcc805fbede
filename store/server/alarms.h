// alarms.h: etcd's alarms, replicated state of the cluster: which member raised which alarm
// (etcd 3.4's alarm store). An alarm is raised, cleared and listed by AlarmRequests applied
// through Raft, so every member agrees on the set; while any member has a NOSPACE alarm, the
// cluster refuses what would grow the store (capped(): puts, txns with a put, lease grants), as
// etcd's capped applier does, and still serves reads, deletes and compactions; while any has a
// CORRUPT alarm, it refuses every write, txn, compaction and lease grant or revoke (corrupt():
// etcd's corrupt applier) and serves plain reads. Both hold as long as the set has such an
// alarm, as etcd 3.4's do after a restart; a running etcd 3.4 instead keeps the applier of the
// last alarm raised or cleared (raising NOSPACE under CORRUPT lets deletes through, clearing
// one of two alarms clears both), which ours does not copy.
// Persistence: meta column, "alarm/" + member id (8 bytes, big-endian) + type (1 byte) -> "",
// written in the applying entry's batch; reloaded by load() after open and snapshot installs.
// Thread-safety: all methods are thread-safe; apply() comes from the Raft thread.
#pragma once

#include "common/result.h"
#include "store/storage/storage.h"

#include "etcd/rpc.pb.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace mgmt::store::server {

inline constexpr const char* kAlarmPrefix = "alarm/";

class Alarms {
 public:
  // Whether a client's AlarmRequest can be proposed: an action etcd knows (GET, ACTIVATE,
  // DEACTIVATE), and for ACTIVATE an alarm a member raises (NOSPACE, CORRUPT). etcd 3.4 raised
  // any number as an alarm (and /health said false until it was disarmed) and crashed on an
  // unknown action. DEACTIVATE takes any type, so that such an alarm can still be disarmed.
  [[nodiscard]] static Result<void> check_request(const etcdserverpb::AlarmRequest& request);
  // Reads the raised alarms from the meta column.
  void load(storage::Storage& storage);
  // Applies an AlarmRequest, recording changes in `batch`; the response lists what it
  // activated (or found active), deactivated, or, for GET, the alarms of that type (NONE: all).
  etcdserverpb::AlarmResponse apply(const etcdserverpb::AlarmRequest& request,
                                    storage::Batch& batch);
  std::vector<etcdserverpb::AlarmMember> list() const;
  bool raised(uint64_t member, etcdserverpb::AlarmType type) const;
  // Whether writes that grow the store are refused: some member is out of space.
  bool capped() const { return capped_.load(); }
  // Whether every write is refused: some member found its data corrupt.
  bool corrupt() const { return corrupt_.load(); }

 private:
  void update_capped();  // with mutex_ held: capped_ and corrupt_

  mutable std::mutex mutex_;
  std::set<std::pair<uint64_t, int>> raised_;  // (member, AlarmType)
  std::atomic<bool> capped_{false};
  std::atomic<bool> corrupt_{false};
};

}  // namespace mgmt::store::server
