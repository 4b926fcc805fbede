// kv_store.cpp: see kv_store.h. The request semantics follow etcd 3.4's etcdserver/apply.go
// (Range filters/sort/limit, Put flags, Txn compare paths) and mvcc/kvstore*.go (revisions).
#include "store/mvcc/kv_store.h"

#include "common/assert.h"
#include "common/log.h"
#include "store/mvcc/errors.h"
#include "store/mvcc/key_index.h"
#include "store/mvcc/kv_codec.h"
#include "store/mvcc/physical_compactor.h"
#include "store/mvcc/watch_hub.h"

#include "etcd/kv.pb.h"

#include <boost/crc.hpp>

#include <algorithm>
#include <set>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace mgmt::store::mvcc {
namespace {

using KvPtr = std::shared_ptr<const KeyValue>;

int compare_int(int64_t a, int64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

bool compare_kv(const Compare& c, const KeyValue& kv) {
  int result = 0;
  switch (c.target) {
    case Compare::Target::value: {
      int r = kv.value.compare(c.value);
      result = r < 0 ? -1 : (r > 0 ? 1 : 0);
      break;
    }
    case Compare::Target::create:
      result = compare_int(kv.create_revision, c.create_revision);
      break;
    case Compare::Target::mod:
      result = compare_int(kv.mod_revision, c.mod_revision);
      break;
    case Compare::Target::version:
      result = compare_int(kv.version, c.version);
      break;
    case Compare::Target::lease:
      result = compare_int(kv.lease, c.lease);
      break;
  }
  switch (c.result) {
    case Compare::Result::equal:
      return result == 0;
    case Compare::Result::not_equal:
      return result != 0;
    case Compare::Result::greater:
      return result > 0;
    case Compare::Result::less:
      return result < 0;
  }
  return true;
}

}  // namespace

struct KvStore::Impl {
  storage::Storage& storage;
  LeaseHook* leases = nullptr;
  mutable std::shared_mutex mu;
  KeyIndex index;         // guarded by mu
  int64_t current = 1;    // guarded by mu
  int64_t compacted = 0;  // guarded by mu
  // Whether any compaction happened (etcd: compactMainRev starts at -1, so a first compaction
  // at revision 0 succeeds and a second one is refused as compacted). Guarded by mu.
  bool ever_compacted = false;
  WatchHub hub;
  PhysicalCompactor compactor;

  explicit Impl(storage::Storage& s)
      : storage(s),
        compactor(s, [this](int64_t at, const std::string& from,
                            std::vector<PhysicalCompactor::Dropped>& dropped,
                            std::vector<std::shared_ptr<const KeyValue>>& values) {
          std::unique_lock lock(mu);
          return index.compact_some(at, from, PhysicalCompactor::kWalkKeys,
                                    [&](HistoryEntry&& entry) {
                                      dropped.push_back({entry.rev, !entry.kv});
                                      if (entry.kv) values.push_back(std::move(entry.kv));
                                    });
        }) {}

  // One write request in progress: every change gets (main, sub++).
  struct Write {
    storage::Batch& batch;
    int64_t main;
    int64_t sub = 0;
    std::vector<Event> events;
    int64_t read_revision() const { return sub > 0 ? main : main - 1; }
  };

  Result<RangeResponse> range_at(const RangeRequest& r, int64_t cur) const;
  bool apply_compare(const Compare& c, int64_t cur) const;
  void compare_path(const TxnRequest& r, int64_t cur, std::vector<bool>* path) const;
  // check_puts: the puts (with `gone`, the keys the txn's deletes so far removed), else the
  // ranges.
  Result<void> check_txn(const TxnRequest& r, const std::vector<bool>& path, std::size_t* pos,
                         bool check_puts, std::set<std::string>* gone) const;
  Result<void> check_put(const PutRequest& r, int64_t cur, bool lease_first) const;

  PutResponse put_locked(Write& w, const PutRequest& r);
  DeleteRangeResponse delete_locked(Write& w, const std::string& key, const std::string& end,
                                    bool want_prev);
  void delete_one(Write& w, const KvPtr& kv);
  KvPtr before_txn(const Write& w, const KvPtr& now) const;
  TxnResponse txn_locked(Write& w, const TxnRequest& r, const std::vector<bool>& path,
                         std::size_t* pos);
  void finish(Write& w);
};

// ---- reads ----

Result<RangeResponse> KvStore::Impl::range_at(const RangeRequest& r, int64_t cur) const {
  if (r.revision > cur) return fail(err_future_rev());
  int64_t at = r.revision > 0 ? r.revision : cur;
  if (at < compacted) return fail(err_compacted());

  std::vector<KvPtr> found;
  index.visit_live(r.key, r.range_end, at, [&](const KvPtr& kv) {
    found.push_back(kv);
    return true;
  });
  RangeResponse resp;
  resp.revision = cur;
  resp.count = static_cast<int64_t>(found.size());
  if (r.count_only) return resp;

  auto drop = [&](auto pred) {
    found.erase(std::remove_if(found.begin(), found.end(), [&](const KvPtr& kv) { return pred(*kv); }),
                found.end());
  };
  if (r.max_mod_revision != 0) drop([&](const KeyValue& kv) { return kv.mod_revision > r.max_mod_revision; });
  if (r.min_mod_revision != 0) drop([&](const KeyValue& kv) { return kv.mod_revision < r.min_mod_revision; });
  if (r.max_create_revision != 0) {
    drop([&](const KeyValue& kv) { return kv.create_revision > r.max_create_revision; });
  }
  if (r.min_create_revision != 0) {
    drop([&](const KeyValue& kv) { return kv.create_revision < r.min_create_revision; });
  }

  // As etcd 3.4: without a sort order or a filter, the limit (and one more, for `more`) is
  // taken in key order first; a sort target other than KEY then orders only those.
  const bool filtered = r.min_mod_revision != 0 || r.max_mod_revision != 0 ||
                        r.min_create_revision != 0 || r.max_create_revision != 0;
  if (r.sort_order == RangeRequest::SortOrder::none && !filtered && r.limit > 0 &&
      found.size() > static_cast<std::size_t>(r.limit) + 1) {
    found.resize(static_cast<std::size_t>(r.limit) + 1);
  }
  auto order = r.sort_order;
  if (r.sort_target != RangeRequest::SortTarget::key && order == RangeRequest::SortOrder::none) {
    order = RangeRequest::SortOrder::ascend;  // etcd: only KEY order comes for free
  }
  if (order != RangeRequest::SortOrder::none) {
    auto less = [&](const KvPtr& a, const KvPtr& b) {
      switch (r.sort_target) {
        case RangeRequest::SortTarget::key:
          return a->key < b->key;
        case RangeRequest::SortTarget::version:
          return a->version < b->version;
        case RangeRequest::SortTarget::create:
          return a->create_revision < b->create_revision;
        case RangeRequest::SortTarget::mod:
          return a->mod_revision < b->mod_revision;
        case RangeRequest::SortTarget::value:
          return a->value < b->value;
      }
      return false;
    };
    if (order == RangeRequest::SortOrder::ascend) {
      std::stable_sort(found.begin(), found.end(), less);
    } else {
      std::stable_sort(found.begin(), found.end(),
                       [&](const KvPtr& a, const KvPtr& b) { return less(b, a); });
    }
  }
  std::size_t n = found.size();
  if (r.limit > 0 && n > static_cast<std::size_t>(r.limit)) {
    n = static_cast<std::size_t>(r.limit);
    resp.more = true;
  }
  resp.kvs.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    resp.kvs.push_back(*found[i]);
    if (r.keys_only) resp.kvs.back().value.clear();
  }
  return resp;
}

bool KvStore::Impl::apply_compare(const Compare& c, int64_t cur) const {
  bool any = false;
  bool all = true;
  index.visit_live(c.key, c.range_end, cur, [&](const KvPtr& kv) {
    any = true;
    if (!compare_kv(c, *kv)) {
      all = false;
      return false;
    }
    return true;
  });
  if (!any) {
    // etcd: a missing key has version/create/mod/lease 0 but no value to compare.
    if (c.target == Compare::Target::value) return false;
    return compare_kv(c, KeyValue{});
  }
  return all;
}

// etcd's compareToPath: every compare on the taken path, nested ones included, is decided
// against the state before the txn writes anything.
void KvStore::Impl::compare_path(const TxnRequest& r, int64_t cur, std::vector<bool>* path) const {
  bool ok = true;
  for (const auto& c : r.compare) {
    if (!apply_compare(c, cur)) {
      ok = false;
      break;
    }
  }
  path->push_back(ok);
  for (const auto& op : ok ? r.success : r.failure) {
    if (op.kind == RequestOp::Kind::txn && op.txn) compare_path(*op.txn, cur, path);
  }
}

Result<void> KvStore::Impl::check_put(const PutRequest& r, int64_t cur, bool lease_first) const {
  auto check_lease = [&]() -> Result<void> {
    if (r.lease != kNoLease && (!leases || !leases->lease_exists(r.lease))) {
      return fail(err_lease_not_found());
    }
    return ok();
  };
  if (lease_first) {
    if (auto v = check_lease(); !v) return v;
  }
  if ((r.ignore_value || r.ignore_lease) && !index.get(r.key, cur)) {
    return fail(err_key_not_found());
  }
  if (!lease_first) {
    if (auto v = check_lease(); !v) return v;
  }
  return ok();
}

Result<void> KvStore::Impl::check_txn(const TxnRequest& r, const std::vector<bool>& path,
                                      std::size_t* pos, bool check_puts,
                                      std::set<std::string>* gone) const {
  bool ok_branch = path[(*pos)++];
  for (const auto& op : ok_branch ? r.success : r.failure) {
    switch (op.kind) {
      case RequestOp::Kind::put:
        if (check_puts) {
          if (auto v = check_put(op.put, current, false); !v) return v;
          // A put that keeps the value or lease of a key an earlier delete of this txn
          // removed has none to keep. (etcd 3.4 takes such a txn and then panics in its
          // apply, and its member exits.)
          if ((op.put.ignore_value || op.put.ignore_lease) && gone->count(op.put.key)) {
            return fail(err_key_not_found());
          }
          gone->erase(op.put.key);
        }
        break;
      case RequestOp::Kind::range:
        if (!check_puts) {
          // As etcd 3.4's checkRequestRange: any revision but 0 below the first one kept (-1
          // before a compaction, as etcd's compactMainRev) is compacted, negative ones too.
          const int64_t first_kept = ever_compacted ? compacted : -1;
          if (op.range.revision > current) return fail(err_future_rev());
          if (op.range.revision != 0 && op.range.revision < first_kept) {
            return fail(err_compacted());
          }
        }
        break;
      case RequestOp::Kind::txn:
        if (op.txn) {
          if (auto v = check_txn(*op.txn, path, pos, check_puts, gone); !v) return v;
        }
        break;
      case RequestOp::Kind::delete_range:
        if (check_puts) {
          index.visit_live(op.delete_range.key, op.delete_range.range_end, current,
                           [&](const KvPtr& kv) {
                             gone->insert(kv->key);
                             return true;
                           });
        }
        break;
    }
  }
  return ok();
}

// ---- writes ----

// An event's prev_kv, as etcd's: the key as it was before this write request (at the
// revision before), not as an earlier op of the same txn left it. `now` is the key as the txn
// sees it.
KvPtr KvStore::Impl::before_txn(const Write& w, const KvPtr& now) const {
  if (!now || now->mod_revision != w.main) return now;
  return index.get(now->key, w.main - 1);
}

PutResponse KvStore::Impl::put_locked(Write& w, const PutRequest& r) {
  KvPtr prev = index.get(r.key, w.read_revision());
  auto kv = std::make_shared<KeyValue>();
  kv->key = r.key;
  kv->value = r.ignore_value && prev ? prev->value : r.value;
  kv->lease = r.ignore_lease && prev ? prev->lease : r.lease;
  kv->mod_revision = w.main;
  kv->create_revision = prev ? prev->create_revision : w.main;
  kv->version = prev ? prev->version + 1 : 1;

  Revision rev{w.main, w.sub++};
  w.batch.put(storage::Column::kv, encode_revision_key(rev, false), encode_key_value(*kv));
  index.append(r.key, rev, kv);
  if (leases) {
    if (prev && prev->lease != kNoLease && prev->lease != kv->lease) {
      leases->detach(prev->lease, r.key);
    }
    if (kv->lease != kNoLease) leases->attach(kv->lease, r.key);
  }
  Event e;
  e.type = Event::Type::put;
  e.kv = *kv;
  // etcd gives a creation no prev_kv, even when the txn deleted the key before putting it.
  if (KvPtr before = before_txn(w, prev); before && kv->create_revision != kv->mod_revision) {
    e.prev_kv = *before;
  }
  w.events.push_back(std::move(e));

  PutResponse resp;
  resp.revision = w.main;
  if (r.prev_kv && prev) resp.prev_kv = *prev;
  return resp;
}

void KvStore::Impl::delete_one(Write& w, const KvPtr& kv) {
  Revision rev{w.main, w.sub++};
  KeyValue tomb;
  tomb.key = kv->key;
  tomb.mod_revision = w.main;
  w.batch.put(storage::Column::kv, encode_revision_key(rev, true), encode_key_value(tomb));
  index.append(kv->key, rev, nullptr);
  if (leases && kv->lease != kNoLease) leases->detach(kv->lease, kv->key);
  Event e;
  e.type = Event::Type::del;
  e.kv = std::move(tomb);
  if (KvPtr before = before_txn(w, kv)) e.prev_kv = *before;
  w.events.push_back(std::move(e));
}

DeleteRangeResponse KvStore::Impl::delete_locked(Write& w, const std::string& key,
                                                 const std::string& end, bool want_prev) {
  std::vector<KvPtr> live;
  index.visit_live(key, end, w.read_revision(), [&](const KvPtr& kv) {
    live.push_back(kv);
    return true;
  });
  DeleteRangeResponse resp;
  for (const auto& kv : live) {
    delete_one(w, kv);
    if (want_prev) resp.prev_kvs.push_back(*kv);
  }
  resp.deleted = static_cast<int64_t>(live.size());
  resp.revision = w.read_revision();
  return resp;
}

TxnResponse KvStore::Impl::txn_locked(Write& w, const TxnRequest& r, const std::vector<bool>& path,
                                      std::size_t* pos) {
  TxnResponse resp;
  resp.succeeded = path[(*pos)++];
  for (const auto& op : resp.succeeded ? r.success : r.failure) {
    ResponseOp out;
    out.kind = op.kind;
    switch (op.kind) {
      case RequestOp::Kind::range: {
        auto rr = range_at(op.range, w.read_revision());
        MGMT_ASSERT(rr.has_value());  // checked by check_txn before any write
        out.range = std::move(*rr);
        break;
      }
      case RequestOp::Kind::put:
        out.put = put_locked(w, op.put);
        break;
      case RequestOp::Kind::delete_range:
        out.delete_range = delete_locked(w, op.delete_range.key, op.delete_range.range_end,
                                         op.delete_range.prev_kv);
        break;
      case RequestOp::Kind::txn:
        out.txn = std::make_shared<TxnResponse>(
            op.txn ? txn_locked(w, *op.txn, path, pos) : TxnResponse{});
        out.txn->revision = w.read_revision();
        break;
    }
    resp.responses.push_back(std::move(out));
  }
  resp.revision = w.read_revision();
  return resp;
}

void KvStore::Impl::finish(Write& w) {
  if (w.sub == 0) return;
  current = w.main;
  w.batch.put_u64(storage::meta::kMvccRevision, static_cast<uint64_t>(current));
  hub.notify(w.main, w.events);
}

// ---- KvStore ----

KvStore::KvStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KvStore::~KvStore() = default;

Result<std::unique_ptr<KvStore>> KvStore::open(storage::Storage& storage, LeaseHook* leases) {
  auto impl = std::make_unique<Impl>(storage);
  impl->leases = leases;
  auto rev = storage.get_u64(storage::meta::kMvccRevision);
  if (!rev) return fail(rev.error());
  auto compacted = storage.get_u64(storage::meta::kCompactedRevision);
  if (!compacted) return fail(compacted.error());
  if (rev->has_value()) impl->current = std::max<int64_t>(1, static_cast<int64_t>(**rev));
  if (compacted->has_value()) {
    impl->compacted = static_cast<int64_t>(**compacted);
    impl->ever_compacted = true;
  }

  std::optional<Error> bad;
  int64_t last_main = 0;
  auto scanned = storage.scan(storage::Column::kv, "", "", [&](std::string_view k, std::string_view v) {
    Revision r;
    bool tomb = false;
    auto kv = decode_key_value(v);
    if (!decode_revision_key(k, &r, &tomb) || !kv || kv->mod_revision != r.main) {
      bad = Error(Code::data_loss, "store data dir " + storage.dir() +
                                       " is damaged: unreadable kv record after revision " +
                                       std::to_string(last_main) +
                                       "; restore a backup or re-add this member with an empty dir");
      return false;
    }
    last_main = r.main;
    std::string key = kv->key;
    impl->index.append(key, r, tomb ? nullptr : std::make_shared<const KeyValue>(std::move(*kv)));
    return true;
  });
  if (!scanned) return fail(scanned.error());
  if (bad) return fail(*bad);
  impl->current = std::max(impl->current, last_main);
  if (impl->ever_compacted) {
    // A compaction whose old revisions were not all deleted from disk when the process stopped
    // (they are deleted in the background): the index drops them again, and so does the disk.
    std::vector<PhysicalCompactor::Dropped> left;
    impl->index.compact(impl->compacted, [&](HistoryEntry&& dropped) {
      left.push_back({dropped.rev, !dropped.kv});
    });
    if (!left.empty()) {
      log::get("mvcc")->info("deleting {} old revisions left on disk by the compaction at "
                             "revision {}",
                             left.size(), impl->compacted);
      impl->compactor.stage(impl->compacted, std::move(left));
      impl->compactor.release();
    }
  }
  return std::unique_ptr<KvStore>(new KvStore(std::move(impl)));
}

void KvStore::set_lease_hook(LeaseHook* leases) {
  std::unique_lock lock(impl_->mu);
  impl_->leases = leases;
}

int64_t KvStore::current_revision() const {
  std::shared_lock lock(impl_->mu);
  return impl_->current;
}

int64_t KvStore::compacted_revision() const {
  std::shared_lock lock(impl_->mu);
  return impl_->compacted;
}

int64_t KvStore::compact_main_revision() const {
  std::shared_lock lock(impl_->mu);
  return impl_->ever_compacted ? impl_->compacted : -1;
}

Result<RangeResponse> KvStore::range(const RangeRequest& r) const {
  std::shared_lock lock(impl_->mu);
  return impl_->range_at(r, impl_->current);
}

Result<PutResponse> KvStore::put(const PutRequest& r, storage::Batch& batch) {
  std::unique_lock lock(impl_->mu);
  if (auto v = impl_->check_put(r, impl_->current, true); !v) return fail(v.error());
  Impl::Write w{batch, impl_->current + 1};
  PutResponse resp = impl_->put_locked(w, r);
  impl_->finish(w);
  return resp;
}

Result<DeleteRangeResponse> KvStore::delete_range(const DeleteRangeRequest& r,
                                                  storage::Batch& batch) {
  std::unique_lock lock(impl_->mu);
  Impl::Write w{batch, impl_->current + 1};
  DeleteRangeResponse resp = impl_->delete_locked(w, r.key, r.range_end, r.prev_kv);
  impl_->finish(w);
  return resp;
}

Result<TxnResponse> KvStore::txn(const TxnRequest& r, storage::Batch& batch) {
  std::unique_lock lock(impl_->mu);
  std::vector<bool> path;
  impl_->compare_path(r, impl_->current, &path);
  std::size_t pos = 0;
  std::set<std::string> gone;
  if (auto v = impl_->check_txn(r, path, &pos, true, &gone); !v) return fail(v.error());
  pos = 0;
  if (auto v = impl_->check_txn(r, path, &pos, false, nullptr); !v) return fail(v.error());
  Impl::Write w{batch, impl_->current + 1};
  pos = 0;
  TxnResponse resp = impl_->txn_locked(w, r, path, &pos);
  impl_->finish(w);
  resp.revision = impl_->current;
  return resp;
}

Result<CompactResponse> KvStore::compact(int64_t revision, storage::Batch& batch) {
  std::unique_lock lock(impl_->mu);
  if (impl_->ever_compacted ? revision <= impl_->compacted : revision < 0) {
    return fail(err_compacted());
  }
  if (revision > impl_->current) return fail(err_future_rev());
  // Reads below `revision` are refused from now on; the index and the disk forget the old
  // revisions in the background, once the batch is written (PhysicalCompactor).
  impl_->compactor.stage(revision);
  impl_->compacted = revision;
  impl_->ever_compacted = true;
  batch.put_u64(storage::meta::kCompactedRevision, static_cast<uint64_t>(revision));
  return CompactResponse{impl_->current};
}

namespace {
template <typename T>
Result<T> write_own(storage::Storage& storage, storage::Batch& batch, Result<T> result) {
  if (!result) return result;
  if (!batch.empty()) {
    if (auto w = storage.write(batch, false); !w) return fail(w.error());
  }
  return result;
}
}  // namespace

Result<PutResponse> KvStore::put(const PutRequest& r) {
  storage::Batch batch;
  return write_own(impl_->storage, batch, put(r, batch));
}
Result<DeleteRangeResponse> KvStore::delete_range(const DeleteRangeRequest& r) {
  storage::Batch batch;
  return write_own(impl_->storage, batch, delete_range(r, batch));
}
Result<TxnResponse> KvStore::txn(const TxnRequest& r) {
  storage::Batch batch;
  return write_own(impl_->storage, batch, txn(r, batch));
}
Result<CompactResponse> KvStore::compact(int64_t revision) {
  storage::Batch batch;
  auto r = write_own(impl_->storage, batch, compact(revision, batch));
  if (r) on_batch_written();
  return r;
}

void KvStore::on_batch_written() { impl_->compactor.release(); }

bool KvStore::wait_compacted(int64_t revision, std::chrono::milliseconds timeout) {
  return impl_->compactor.wait(revision, timeout);
}

void KvStore::stop_compaction() { impl_->compactor.stop(); }

int64_t KvStore::delete_keys(const std::vector<std::string>& keys, storage::Batch& batch) {
  std::unique_lock lock(impl_->mu);
  Impl::Write w{batch, impl_->current + 1};
  for (const auto& key : keys) {
    KvPtr kv = impl_->index.get(key, w.read_revision());
    if (kv) impl_->delete_one(w, kv);
  }
  impl_->finish(w);
  return impl_->current;
}

std::vector<std::pair<std::string, LeaseId>> KvStore::leased_keys() const {
  std::shared_lock lock(impl_->mu);
  std::vector<std::pair<std::string, LeaseId>> out;
  impl_->index.visit_live("", std::string(1, '\0'), impl_->current, [&](const KvPtr& kv) {
    if (kv->lease != kNoLease) out.emplace_back(kv->key, kv->lease);
    return true;
  });
  return out;
}

WatcherId KvStore::watch(const WatchRequest& w, WatchSink sink) {
  std::shared_lock lock(impl_->mu);
  int64_t cur = impl_->current;
  int64_t start = w.start_revision > 0 ? w.start_revision : cur + 1;
  WatcherId id = impl_->hub.add(w, std::move(sink), start);
  // A start below the compaction, or a negative one, is compacted, as with etcd 3.4 (whose
  // compacted revision is -1 before any compaction).
  if (w.start_revision < 0 || (w.start_revision > 0 && start < impl_->compacted)) {
    impl_->hub.send_compacted(id, impl_->ever_compacted ? impl_->compacted : -1);
    return id;
  }
  if (start > cur) return id;
  // History replay: the changes in range with main revision in [start, cur], by revision,
  // merged from the keys' histories (each already in revision order), up to one replay's worth.
  struct Cursor {
    const std::string* key;
    const KeyIndex::History* history;
    std::size_t at;  // the next entry to replay
    Revision rev() const { return (*history)[at].rev; }
  };
  auto later = [](const Cursor& a, const Cursor& b) { return a.rev() > b.rev(); };
  std::vector<Cursor> heap;
  impl_->index.visit_histories(w.key, w.range_end, [&](const std::string& key,
                                                      const KeyIndex::History& h) {
    auto first = std::lower_bound(h.begin(), h.end(), start, [](const auto& entry, int64_t rev) {
      return entry.rev.main < rev;
    });
    // A deletion at the compacted revision that the compaction's walk has not reached yet.
    while (first != h.end() &&
           KeyIndex::dropped_by(h, static_cast<std::size_t>(first - h.begin()),
                                impl_->compacted)) {
      ++first;
    }
    if (first != h.end()) heap.push_back({&key, &h, static_cast<std::size_t>(first - h.begin())});
  });
  std::make_heap(heap.begin(), heap.end(), later);
  // Responses of at most kWatchBatchMaxRevisions revisions, header revision = current.
  constexpr std::size_t kWatchBatchMaxRevisions = 1000;
  std::vector<Event> batch;
  int64_t batch_rev = 0;
  std::size_t revisions = 0;
  std::size_t events = 0;
  std::size_t bytes = 0;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Cursor& c = heap.back();
    const HistoryEntry& entry = (*c.history)[c.at];
    if (entry.rev.main != batch_rev) {
      // A replay ends between revisions, never inside one.
      if (events >= kReplayMaxEvents || bytes >= kReplayMaxBytes) {
        if (!batch.empty()) impl_->hub.deliver_to(id, batch_rev, cur, batch);
        impl_->hub.stop_behind(id, entry.rev.main, cur);
        return id;
      }
      if (revisions == kWatchBatchMaxRevisions) {
        impl_->hub.deliver_to(id, batch_rev, cur, batch);
        batch.clear();
        revisions = 0;
      }
      ++revisions;
      batch_rev = entry.rev.main;
    }
    Event e;
    if (entry.kv) {
      e.type = Event::Type::put;
      e.kv = *entry.kv;
    } else {
      e.type = Event::Type::del;
      e.kv.key = *c.key;
      e.kv.mod_revision = entry.rev.main;
    }
    // prev_kv as etcd's: the key at the revision before this one, not as an earlier op of
    // the same txn left it; and none for a creation.
    std::size_t before = c.at;
    while (before > 0 && (*c.history)[before - 1].rev.main == entry.rev.main) --before;
    const bool creation = entry.kv && entry.kv->create_revision == entry.kv->mod_revision;
    if (!creation && before > 0 && (*c.history)[before - 1].kv) {
      e.prev_kv = *(*c.history)[before - 1].kv;
    }
    bytes += e.kv.key.size() + e.kv.value.size() + (e.prev_kv ? e.prev_kv->value.size() : 0);
    ++events;
    batch.push_back(std::move(e));
    if (++c.at < c.history->size()) {
      std::push_heap(heap.begin(), heap.end(), later);
    } else {
      heap.pop_back();
    }
  }
  if (!batch.empty()) impl_->hub.deliver_to(id, batch_rev, cur, batch);
  return id;
}

bool KvStore::cancel_watch(WatcherId id) { return impl_->hub.remove(id); }

void KvStore::progress(WatcherId id) {
  std::shared_lock lock(impl_->mu);
  impl_->hub.progress(id, impl_->current);
}

std::size_t KvStore::watcher_count() const { return impl_->hub.size(); }

int64_t KvStore::state_bytes() const { return impl_->index.bytes(); }

uint32_t KvStore::hash_kv(int64_t revision) const {
  std::shared_lock lock(impl_->mu);
  const int64_t at = revision == 0 ? impl_->current : revision;
  // etcd's "lower": revisions at or below the compacted one count only if they are in `keep`.
  const int64_t compacted = impl_->ever_compacted ? impl_->compacted : -1;
  struct Counted {
    Revision rev;
    const std::string* key;
    const KeyValue* kv;  // null for a deletion
    bool kept;           // the key's newest entry at `at`, and not a deletion
  };
  std::vector<Counted> entries;
  bool keep_any = false;
  impl_->index.visit_histories("", std::string(1, '\0'), [&](const std::string& key,
                                                              const KeyIndex::History& hist) {
    std::size_t newest = hist.size();  // the key's newest entry at or before `at`
    for (std::size_t i = 0; i < hist.size() && hist[i].rev.main <= at; ++i) newest = i;
    for (std::size_t i = 0; i < hist.size() && hist[i].rev.main <= at; ++i) {
      // What the compaction's walk will drop and has not reached yet: gone in etcd.
      if (KeyIndex::dropped_by(hist, i, impl_->compacted)) continue;
      const bool kept = i == newest && hist[i].kv;
      keep_any = keep_any || kept;
      entries.push_back({hist[i].rev, &key, hist[i].kv.get(), kept});
    }
  });
  // In the order of etcd's key bucket: by revision.
  std::sort(entries.begin(), entries.end(),
            [](const Counted& a, const Counted& b) { return a.rev < b.rev; });
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc32c;
  auto write = [&](const std::string& bytes) { crc32c.process_bytes(bytes.data(), bytes.size()); };
  write("key");
  mvccpb::KeyValue pb;
  std::string value;
  for (const Counted& e : entries) {
    if (e.rev.main <= compacted && keep_any && !e.kept) continue;
    write(encode_revision_key(e.rev, e.kv == nullptr));
    pb.Clear();
    pb.set_key(*e.key);
    if (e.kv) {
      pb.set_create_revision(e.kv->create_revision);
      pb.set_mod_revision(e.kv->mod_revision);
      pb.set_version(e.kv->version);
      pb.set_value(e.kv->value);
      pb.set_lease(e.kv->lease);
    }
    pb.SerializeToString(&value);
    write(value);
  }
  return crc32c.checksum();
}

}  // namespace mgmt::store::mvcc
