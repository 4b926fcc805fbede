// backend.h: the store's state machine behind the gRPC services of one member: the RocksDB
// storage, the MVCC key/value store and the lessor, and the one path every write takes.
//
// Write path (single member, until the Raft driver lands): validate, then apply under the
// write mutex into one storage batch, written with sync=true before the response is sent, so
// an acknowledged write survives a crash. This is the seam the Raft driver replaces: it will
// propose the request and apply it here when committed, in log order. Reads take the KvStore's
// shared lock and never wait for writes on disk.
// Ids: the member id and cluster id are made on the first start from the member name and its
// peer URLs, stored in the meta column, and read back on every later start.
// Thread-safety: all methods are thread-safe.
#pragma once

#include "common/result.h"
#include "store/lease/lessor.h"
#include "store/mvcc/kv_store.h"
#include "store/storage/storage.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mgmt::store::server {

struct BackendConfig {
  std::string data_dir;
  std::string member_name = "default";
  std::vector<std::string> peer_urls;
};

class Backend {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Backend>> open(const BackendConfig& config);
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  uint64_t cluster_id() const { return cluster_id_; }
  uint64_t member_id() const { return member_id_; }
  uint64_t raft_term() const { return 1; }  // one member, one term, until Raft lands
  int64_t revision() const { return kv_->current_revision(); }
  uint64_t applied_index() const;

  mvcc::KvStore& kv() { return *kv_; }
  lease::Lessor& lessor() { return *lessor_; }
  storage::Storage& storage() { return *storage_; }

  [[nodiscard]] Result<mvcc::RangeResponse> range(const mvcc::RangeRequest& r) const;
  [[nodiscard]] Result<mvcc::PutResponse> put(const mvcc::PutRequest& r);
  [[nodiscard]] Result<mvcc::DeleteRangeResponse> delete_range(const mvcc::DeleteRangeRequest& r);
  [[nodiscard]] Result<mvcc::TxnResponse> txn(const mvcc::TxnRequest& r);
  [[nodiscard]] Result<mvcc::CompactResponse> compact(int64_t revision);

  // id 0: a fresh id is picked.
  [[nodiscard]] Result<lease::LeaseInfo> lease_grant(lease::LeaseId id, int64_t ttl_seconds);
  [[nodiscard]] Result<int64_t> lease_revoke(lease::LeaseId id);
  [[nodiscard]] Result<int64_t> lease_renew(lease::LeaseId id);
  [[nodiscard]] Result<lease::LeaseInfo> lease_time_to_live(lease::LeaseId id, bool keys) const;
  // Revokes every lease whose time is up; returns how many.
  std::size_t expire_leases();

  static int64_t now_ms();

 private:
  Backend() = default;
  // Writes `batch` (with the next applied index) synced; a failure stops acknowledgements.
  Result<void> commit(storage::Batch& batch);
  template <typename F>
  auto apply_write(F&& make) -> decltype(make(std::declval<storage::Batch&>()));

  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<lease::Lessor> lessor_;
  std::unique_ptr<mvcc::KvStore> kv_;
  uint64_t cluster_id_ = 0;
  uint64_t member_id_ = 0;
  mutable std::mutex write_mutex_;  // guards every write and applied_index_
  uint64_t applied_index_ = 0;
  uint64_t lease_id_state_ = 0;  // lease id generator (GUARDED_BY write_mutex_)
  bool failed_ = false;  // a batch write failed: refuse every later write (GUARDED_BY write_mutex_)
};

}  // namespace mgmt::store::server
