// raft_log_store.cpp: see raft_log_store.h.
#include "store/server/raft_log_store.h"

#include "common/log.h"
#include "store/raft/codec.h"
#include "store/server/crash_point.h"

namespace mgmt::store::server {

Result<std::unique_ptr<RaftLogStore>> RaftLogStore::open(storage::Storage& storage, Hooks hooks) {
  auto log = storage::RaftLog::open(storage);
  if (!log) return fail(log.error());
  return std::unique_ptr<RaftLogStore>(new RaftLogStore(std::move(*log), std::move(hooks)));
}

raft::InitialState RaftLogStore::initial_state() const {
  raft::InitialState is;
  const auto hs = log_->hard_state();
  is.hard_state = raft::HardState{hs.term, hs.vote, hs.commit};
  const auto meta = log_->snapshot_meta();
  if (!meta.conf_state.empty()) {
    if (auto cs = raft::codec::decode_conf_state(meta.conf_state)) is.conf_state = *cs;
  }
  return is;
}

Result<std::vector<raft::Entry>> RaftLogStore::entries(uint64_t lo, uint64_t hi,
                                                       uint64_t max_bytes) const {
  if (!recent_.empty() && lo >= recent_.front().entry.index && lo < hi &&
      hi - 1 <= recent_.back().entry.index) {
    std::vector<raft::Entry> out;
    uint64_t bytes = 0;
    for (auto it = recent_.begin() + static_cast<std::ptrdiff_t>(lo - recent_.front().entry.index);
         it != recent_.end() && it->entry.index < hi; ++it) {
      bytes += it->bytes;
      if (!out.empty() && bytes > max_bytes) break;
      out.push_back(it->entry);
    }
    return out;
  }
  auto stored = log_->entries(lo, hi, max_bytes);
  if (!stored) return fail(stored.error());
  std::vector<raft::Entry> out;
  out.reserve(stored->size());
  for (const auto& s : *stored) {
    auto e = raft::codec::decode_entry(s.data);
    if (!e) {
      return fail(Code::data_loss, "raft log: entry " + std::to_string(s.index) +
                                       " is damaged; restore this member from a peer");
    }
    out.push_back(std::move(*e));
  }
  return out;
}

RaftLogStore::~RaftLogStore() { end_dump(); }

void RaftLogStore::start_dump() const {
  auto job = std::make_unique<DumpJob>();
  HeldState held = hooks_.hold();
  job->index = held.index;
  job->conf_state = hooks_.conf_state();
  job->started = std::chrono::steady_clock::now();
  auto term = log_->term(held.index);
  if (!term) {
    job->finished = true;
    job->data = fail(Code::unavailable, "the applied index left the log");
  } else {
    job->term = *term;
    job->thread = std::thread([j = job.get(), dump = std::move(held.dump),
                               keep = hooks_.keep_unclaimed, let_go = hooks_.let_go] {
      auto data = dump(j->stop);
      std::unique_lock lock(j->mutex);
      j->data = std::move(data);
      j->finished = true;
      j->finished_cv.notify_all();
      // Kept for the core's next ask; a state nobody came for is not held on to.
      if (j->finished_cv.wait_for(lock, keep, [j] { return j->claimed || j->stop.load(); })) {
        return;
      }
      if (!j->data) return;
      const std::size_t bytes = j->data->size();
      j->data = fail(Code::unavailable, "the dump was let go unclaimed");
      j->let_go = true;
      lock.unlock();
      log::get("raft")->info("let go of the snapshot dumped at index {} ({} bytes): no follower "
                             "asked for it within {:.1f} s",
                             j->index, bytes, keep.count() / 1000.0);
      if (let_go) let_go(j->index);
    });
  }
  dump_ = std::move(job);
}

void RaftLogStore::end_dump() const {
  if (!dump_) return;
  {
    std::lock_guard lock(dump_->mutex);
    dump_->stop = true;
  }
  dump_->finished_cv.notify_all();
  if (dump_->thread.joinable()) dump_->thread.join();
  dump_.reset();
}

Result<raft::Snapshot> RaftLogStore::snapshot() const {
  if (dump_ && dump_->let_go) end_dump();  // its state is gone: dump the current one
  if (!dump_) start_dump();
  DumpJob& job = *dump_;
  {
    std::unique_lock lock(job.mutex);
    if (!job.finished &&
        !job.finished_cv.wait_for(lock, hooks_.dump_wait, [&job] { return job.finished; })) {
      return fail(Code::unavailable, "snapshot: the state at index " + std::to_string(job.index) +
                                         " is still being dumped");
    }
    job.claimed = true;  // the thread, waiting to be claimed, ends now
  }
  job.finished_cv.notify_all();
  if (job.thread.joinable()) job.thread.join();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - job.started);
  if (!job.data) {
    const std::string why = job.data.error().message();
    end_dump();
    return fail(Code::unavailable, "snapshot: " + why);
  }
  if (!log_->term(job.index)) {  // compacted past it meanwhile: dump anew next time
    end_dump();
    return fail(Code::unavailable, "snapshot: the dumped index left the log");
  }
  raft::Snapshot s;
  s.meta = raft::SnapshotMeta{job.index, job.term, job.conf_state};
  s.data = std::move(*job.data);
  if (took > std::chrono::milliseconds(100)) {
    log::get("raft")->info("dumped the state at index {} for a snapshot: {} bytes in {} ms",
                           job.index, s.data.size(), took.count());
  }
  end_dump();
  return s;
}

Result<void> RaftLogStore::save(const std::optional<raft::Snapshot>& snapshot,
                                const std::vector<raft::Entry>& entries,
                                const std::optional<raft::HardState>& hard_state) {
  if (snapshot) {
    log::get("raft")->info("installing the leader's snapshot at index {} ({} bytes)",
                           snapshot->meta.index, snapshot->data.size());
    forget_through(UINT64_MAX);
    if (auto i = hooks_.install(*snapshot); !i) return i;
    crash_point("after-snapshot-state");
    storage::StoredSnapshotMeta meta{snapshot->meta.index, snapshot->meta.term,
                                     raft::codec::encode(snapshot->meta.conf_state)};
    if (auto a = log_->apply_snapshot(meta); !a) return a;
  }
  std::optional<storage::StoredHardState> hs;
  if (hard_state) hs = storage::StoredHardState{hard_state->term, hard_state->vote,
                                                hard_state->commit};
  std::vector<storage::StoredEntry> stored;
  stored.reserve(entries.size());
  for (const auto& e : entries) {
    stored.push_back(storage::StoredEntry{e.index, e.term, raft::codec::encode(e)});
  }
  if (!hs && stored.empty()) return ok();
  const auto started = std::chrono::steady_clock::now();
  stall_point("log-persist");
  auto saved = log_->save(hs, stored);
  save_time_ += std::chrono::steady_clock::now() - started;
  if (!saved) {
    forget_through(UINT64_MAX);  // what is stored is uncertain: read it back from the disk
    return saved;
  }
  remember(entries, stored);
  crash_point("after-log-persist");
  return saved;
}

void RaftLogStore::remember(const std::vector<raft::Entry>& entries,
                            const std::vector<storage::StoredEntry>& stored) {
  if (entries.empty()) return;
  const uint64_t first = entries.front().index;
  // The new entries replace any cached suffix from `first` on.
  while (!recent_.empty() && recent_.back().entry.index >= first) {
    recent_bytes_ -= recent_.back().bytes;
    recent_.pop_back();
  }
  if (!recent_.empty() && recent_.back().entry.index + 1 != first) forget_through(UINT64_MAX);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    recent_.push_back(Recent{entries[i], stored[i].data.size()});
    recent_bytes_ += stored[i].data.size();
  }
  while (recent_.size() > kRecentEntries || recent_bytes_ > kRecentBytes) {
    recent_bytes_ -= recent_.front().bytes;
    recent_.pop_front();
  }
}

void RaftLogStore::forget_through(uint64_t index) {
  while (!recent_.empty() && recent_.front().entry.index <= index) {
    recent_bytes_ -= recent_.front().bytes;
    recent_.pop_front();
  }
}

Result<void> RaftLogStore::compact(uint64_t index, const raft::ConfState& conf_state,
                                   std::string) {
  if (index < log_->first_index() || index > log_->last_index()) return ok();
  // A synced write: it also makes every earlier (unsynced) apply batch durable, so the state
  // machine never needs entries the log no longer has.
  auto compacted = log_->compact(index, raft::codec::encode(conf_state));
  if (compacted) forget_through(index);
  return compacted;
}

Result<void> RaftLogStore::bootstrap(const raft::Entry& first) {
  return log_->save(storage::StoredHardState{first.term, 0, first.index},
                    {storage::StoredEntry{first.index, first.term, raft::codec::encode(first)}});
}

Result<void> RaftLogStore::adopt_state(uint64_t applied, const raft::ConfState& conf_state) {
  storage::StoredSnapshotMeta meta{applied, 1, raft::codec::encode(conf_state)};
  if (auto a = log_->apply_snapshot(meta); !a) return a;
  return log_->save(storage::StoredHardState{1, 0, applied}, {});
}

}  // namespace mgmt::store::server
