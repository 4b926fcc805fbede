// raft_log_store.h: the Raft core's durable log on the member's RocksDB (storage::RaftLog),
// as the driver's DurableLog. Entries are stored in the core's own encoding (raft/codec.h).
// Snapshots are made on demand from the live state: snapshot() takes a consistent point of the
// state machine at its applied index (Storage::hold_state, cheap) with the membership at that
// index, and dumps it (Storage::dump_state) on a thread of its own, so that a large state does
// not stall the thread that runs Raft (on the leader, the one that also serves the client and
// peer ports). A dump that takes longer than Hooks::dump_wait is answered "not ready yet" and
// the core asks again on a later heartbeat. The finished snapshot is handed over, not kept: it
// holds the whole state, and a copy on that thread cost as much as the encoding. A finished dump
// nobody asks for within Hooks::keep_unclaimed is let go. So nothing but the log's compaction
// point is kept for long, on disk or in memory. Installing a snapshot restores the state machine
// FIRST (one synced batch) and then moves the log: a crash in between leaves a state machine
// ahead of its log, from which the member resumes (entries it already applied are skipped).
// The newest entries saved (up to kRecentEntries, kRecentBytes) are also kept decoded in memory:
// the core reads them back at once to apply and to send them, and a RocksDB scan plus decoding
// per Ready was measurable.
// Thread-safety: the Raft thread only (the dump's thread touches only its job).
#pragma once

#include "store/raft/driver.h"
#include "store/storage/raft_log.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace mgmt::store::server {

class RaftLogStore : public raft::DurableLog {
 public:
  // A consistent point of the state machine: the index it is applied to, and its dump, which
  // may run on any thread and stops early (failing) once `stop` is set.
  struct HeldState {
    uint64_t index = 0;
    std::function<Result<std::string>(const std::atomic<bool>& stop)> dump;
  };
  struct Hooks {
    // Holds the state machine's current point (cheap; on the Raft thread).
    std::function<HeldState()> hold;
    // The membership as of the applied index.
    std::function<raft::ConfState()> conf_state;
    // Replaces the state machine with a snapshot's data.
    std::function<Result<void>(const raft::Snapshot&)> install;
    // How long snapshot() waits for a dump it started before it answers "not ready yet".
    std::chrono::milliseconds dump_wait{5};
    // How long a finished dump waits to be asked for (the follower may have caught up another
    // way, or this member lost the lead) before its bytes are let go; the next ask dumps anew.
    std::chrono::milliseconds keep_unclaimed{30000};
    // Told (on the dump's thread) when a finished dump was let go unclaimed; may be empty.
    std::function<void(uint64_t index)> let_go;
  };
  ~RaftLogStore() override;

  [[nodiscard]] static Result<std::unique_ptr<RaftLogStore>> open(storage::Storage& storage,
                                                                  Hooks hooks);

  raft::InitialState initial_state() const override;
  uint64_t first_index() const override { return log_->first_index(); }
  uint64_t last_index() const override { return log_->last_index(); }
  Result<uint64_t> term(uint64_t index) const override { return log_->term(index); }
  Result<std::vector<raft::Entry>> entries(uint64_t lo, uint64_t hi,
                                           uint64_t max_bytes) const override;
  Result<raft::Snapshot> snapshot() const override;
  Result<void> save(const std::optional<raft::Snapshot>& snapshot,
                    const std::vector<raft::Entry>& entries,
                    const std::optional<raft::HardState>& hard_state) override;
  Result<void> compact(uint64_t index, const raft::ConfState& conf_state,
                       std::string data) override;

  // First start of a new cluster: entry 1 adds this member (the one voter), committed.
  [[nodiscard]] Result<void> bootstrap(const raft::Entry& first);
  // A data dir from before the store ran on Raft: its state becomes a snapshot at `applied`.
  [[nodiscard]] Result<void> adopt_state(uint64_t applied, const raft::ConfState& conf_state);
  bool empty() const { return log_->last_index() == 0 && log_->snapshot_meta().index == 0; }

 // The time save() spent writing and syncing since the last call (the Raft thread's
  // slow-round report).
  std::chrono::steady_clock::duration take_save_time() { return std::exchange(save_time_, {}); }

 private:
  static constexpr std::size_t kRecentEntries = 4096;
  // A dump in progress on its own thread.
  struct DumpJob {
    uint64_t index = 0;
    uint64_t term = 0;
    raft::ConfState conf_state;
    std::chrono::steady_clock::time_point started;
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable finished_cv;  // finished, claimed or stop
    bool finished = false;
    bool claimed = false;  // snapshot() took the result: the thread ends at once
    std::atomic<bool> let_go{false};  // finished, and its bytes were let go unclaimed
    Result<std::string> data = std::string();
    std::thread thread;
  };
  static constexpr uint64_t kRecentBytes = 8 << 20;
  struct Recent {
    raft::Entry entry;
    uint64_t bytes;  // its encoded size, the measure max_bytes counts
  };
  RaftLogStore(std::unique_ptr<storage::RaftLog> log, Hooks hooks)
      : log_(std::move(log)), hooks_(std::move(hooks)) {}
  void remember(const std::vector<raft::Entry>& entries,
                const std::vector<storage::StoredEntry>& stored);
  void forget_through(uint64_t index);
  // Starts a dump of the state machine's current point on a thread of its own.
  void start_dump() const;
  // Ends the dump job (stopping it if it still runs) and joins its thread.
  void end_dump() const;

  std::unique_ptr<storage::RaftLog> log_;
  Hooks hooks_;
  std::chrono::steady_clock::duration save_time_{};  // since take_save_time()
  std::deque<Recent> recent_;  // consecutive indexes, ending at the log's last index
  uint64_t recent_bytes_ = 0;
  // snapshot() is const for the core, but it starts the dumps.
  mutable std::unique_ptr<DumpJob> dump_;
};

}  // namespace mgmt::store::server
