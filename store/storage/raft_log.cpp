// raft_log.cpp: see raft_log.h for the layout and the durability contract.
#include "store/storage/raft_log.h"

#include "common/assert.h"

#include <mutex>

namespace mgmt::store::storage {
namespace {

constexpr const char* kHardStateKey = "hs";
constexpr const char* kSnapshotKey = "snap";

std::string entry_key(uint64_t index) { return "e" + encode_u64(index); }

std::string encode_hard_state(const StoredHardState& hs) {
  return encode_u64(hs.term) + encode_u64(hs.vote) + encode_u64(hs.commit);
}

std::string encode_snapshot(const StoredSnapshotMeta& m) {
  return encode_u64(m.index) + encode_u64(m.term) + m.conf_state;
}

Error damaged(const Storage& s, const std::string& what) {
  return Error(Code::data_loss, "store data dir " + s.dir() + " is damaged: " + what +
                                    "; restore a backup or re-add this member with an empty dir");
}

Error compacted(uint64_t index) {
  return Error(Code::out_of_range,
               "raft log: index " + std::to_string(index) + " is compacted");
}

Error unavailable(uint64_t index) {
  return Error(Code::unavailable, "raft log: index " + std::to_string(index) + " is not stored");
}

}  // namespace

RaftLog::RaftLog(Storage& storage) : storage_(storage) {}

Result<std::unique_ptr<RaftLog>> RaftLog::open(Storage& storage) {
  auto log = std::unique_ptr<RaftLog>(new RaftLog(storage));
  auto hs = storage.get(Column::raft, kHardStateKey);
  if (!hs) return fail(hs.error());
  if (hs->has_value()) {
    const std::string& v = **hs;
    if (v.size() != 24) return fail(damaged(storage, "raft hard state has a wrong size"));
    log->hard_state_ = {*decode_u64(v.substr(0, 8)), *decode_u64(v.substr(8, 8)),
                        *decode_u64(v.substr(16, 8))};
  }
  auto snap = storage.get(Column::raft, kSnapshotKey);
  if (!snap) return fail(snap.error());
  if (snap->has_value()) {
    const std::string& v = **snap;
    if (v.size() < 16) return fail(damaged(storage, "raft snapshot record is too short"));
    log->snapshot_ = {*decode_u64(v.substr(0, 8)), *decode_u64(v.substr(8, 8)), v.substr(16)};
  }
  std::optional<Error> bad;
  uint64_t expect = log->snapshot_.index + 1;
  uint64_t last_term = log->snapshot_.term;
  auto scanned = storage.scan(Column::raft, "e", "f", [&](std::string_view k, std::string_view v) {
    auto index = decode_u64(k.substr(1));
    if (!index || v.size() < 8) {
      bad = damaged(storage, "unreadable raft log record");
      return false;
    }
    if (*index < expect) return true;  // below the snapshot: left by an interrupted compaction
    uint64_t term = *decode_u64(v.substr(0, 8));
    if (*index != expect || term < last_term) {
      bad = damaged(storage, "raft log has a gap or decreasing term at index " +
                                 std::to_string(*index));
      return false;
    }
    log->terms_.push_back(term);
    last_term = term;
    ++expect;
    return true;
  });
  if (!scanned) return fail(scanned.error());
  if (bad) return fail(*bad);
  return log;
}

uint64_t RaftLog::first_index() const {
  std::shared_lock lock(mu_);
  return snapshot_.index + 1;
}

uint64_t RaftLog::last_index() const {
  std::shared_lock lock(mu_);
  return snapshot_.index + terms_.size();
}

StoredHardState RaftLog::hard_state() const {
  std::shared_lock lock(mu_);
  return hard_state_;
}

StoredSnapshotMeta RaftLog::snapshot_meta() const {
  std::shared_lock lock(mu_);
  return snapshot_;
}

Result<uint64_t> RaftLog::term(uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index < snapshot_.index) return fail(compacted(index));
  if (index == snapshot_.index) return snapshot_.term;
  uint64_t offset = index - snapshot_.index - 1;
  if (offset >= terms_.size()) return fail(unavailable(index));
  return terms_[offset];
}

Result<std::vector<StoredEntry>> RaftLog::entries(uint64_t lo, uint64_t hi,
                                                  uint64_t max_bytes) const {
  std::shared_lock lock(mu_);
  if (lo <= snapshot_.index) return fail(compacted(lo));
  uint64_t last = snapshot_.index + terms_.size();
  if (hi > last + 1) return fail(unavailable(hi - 1));
  std::vector<StoredEntry> out;
  uint64_t bytes = 0;
  std::optional<Error> bad;
  if (lo >= hi) return out;
  auto scanned = storage_.scan(Column::raft, entry_key(lo), entry_key(hi),
                               [&](std::string_view k, std::string_view v) {
                                 StoredEntry e;
                                 e.index = *decode_u64(k.substr(1));
                                 if (e.index != lo + out.size() || v.size() < 8) {
                                   bad = damaged(storage_, "raft log record missing at index " +
                                                               std::to_string(lo + out.size()));
                                   return false;
                                 }
                                 e.term = *decode_u64(v.substr(0, 8));
                                 e.data.assign(v.substr(8));
                                 bytes += e.data.size();
                                 if (!out.empty() && bytes > max_bytes) return false;
                                 out.push_back(std::move(e));
                                 return true;
                               });
  if (!scanned) return fail(scanned.error());
  if (bad) return fail(*bad);
  if (out.empty() || (out.size() < hi - lo && bytes <= max_bytes)) {
    return fail(damaged(storage_, "raft log records missing from index " +
                                      std::to_string(lo + out.size())));
  }
  return out;
}

Result<void> RaftLog::save(const std::optional<StoredHardState>& hard_state,
                           const std::vector<StoredEntry>& entries) {
  std::unique_lock lock(mu_);
  Batch batch;
  uint64_t last = snapshot_.index + terms_.size();
  // terms_ changes only once the write succeeded: keep its first `keep` terms, then these.
  std::size_t keep = terms_.size();
  std::vector<uint64_t> appended;
  if (!entries.empty()) {
    uint64_t first = entries.front().index;
    if (first <= snapshot_.index || first > last + 1) {
      return fail(Code::invalid_argument,
                  "raft log: cannot append at index " + std::to_string(first) + " to a log of [" +
                      std::to_string(snapshot_.index + 1) + ", " + std::to_string(last) + "]");
    }
    // Truncate the conflicting suffix [first, last].
    if (first <= last) {
      batch.del_range(Column::raft, entry_key(first), entry_key(last + 1));
      keep = first - snapshot_.index - 1;
    }
    uint64_t prev_term = keep == 0 ? snapshot_.term : terms_[keep - 1];
    appended.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      MGMT_ASSERT(e.index == first + i);   // consecutive: the core's contract
      MGMT_ASSERT(e.term >= prev_term);    // terms never decrease along the log
      prev_term = e.term;
      batch.put(Column::raft, entry_key(e.index), encode_u64(e.term) + e.data);
      appended.push_back(e.term);
    }
  }
  if (hard_state) batch.put(Column::raft, kHardStateKey, encode_hard_state(*hard_state));
  if (batch.empty()) return ok();
  // Only new entries, a new term or a vote must be on disk before the core acts on them; a
  // commit index that moved alone is a hint that may be lost (it is learned again from the
  // leader). RocksDB's log is a sequence: a later synced write makes this one durable too.
  const bool must_sync = !entries.empty() ||
                         (hard_state && (hard_state->term != hard_state_.term ||
                                         hard_state->vote != hard_state_.vote));
  if (auto w = storage_.write(batch, must_sync); !w) return w;
  terms_.resize(keep);
  terms_.insert(terms_.end(), appended.begin(), appended.end());
  if (hard_state) hard_state_ = *hard_state;
  return ok();
}

Result<void> RaftLog::apply_snapshot(const StoredSnapshotMeta& meta) {
  std::unique_lock lock(mu_);
  if (meta.index <= snapshot_.index) {
    return fail(Code::out_of_range, "raft log: snapshot at index " + std::to_string(meta.index) +
                                        " is older than the current one at " +
                                        std::to_string(snapshot_.index));
  }
  Batch batch;
  batch.del_range(Column::raft, entry_key(0), entry_key(UINT64_MAX));
  batch.put(Column::raft, kSnapshotKey, encode_snapshot(meta));
  StoredHardState hs = hard_state_;
  hs.term = std::max(hs.term, meta.term);
  hs.commit = std::max(hs.commit, meta.index);
  batch.put(Column::raft, kHardStateKey, encode_hard_state(hs));
  if (auto w = storage_.write(batch, true); !w) return w;
  snapshot_ = meta;
  terms_.clear();
  hard_state_ = hs;
  return ok();
}

Result<void> RaftLog::compact(uint64_t index, std::string conf_state) {
  std::unique_lock lock(mu_);
  if (index <= snapshot_.index) return fail(compacted(index));
  uint64_t last = snapshot_.index + terms_.size();
  if (index > last) return fail(unavailable(index));
  StoredSnapshotMeta meta{index, terms_[index - snapshot_.index - 1], std::move(conf_state)};
  Batch batch;
  batch.put(Column::raft, kSnapshotKey, encode_snapshot(meta));
  batch.del_range(Column::raft, entry_key(0), entry_key(index + 1));
  if (auto w = storage_.write(batch, true); !w) return w;
  terms_.erase(terms_.begin(), terms_.begin() + static_cast<std::ptrdiff_t>(index - snapshot_.index));
  snapshot_ = std::move(meta);
  return ok();
}

}  // namespace mgmt::store::storage
