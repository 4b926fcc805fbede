// physical_compactor.cpp: see physical_compactor.h.
#include "store/mvcc/physical_compactor.h"

#include "common/log.h"
#include "common/thread_name.h"

namespace mgmt::store::mvcc {

void PhysicalCompactor::stage(int64_t revision) {
  std::lock_guard lock(mutex_);
  staged_.push_back(Job{revision, true, {}});
}

void PhysicalCompactor::stage(int64_t revision, std::vector<Dropped> dropped) {
  std::lock_guard lock(mutex_);
  staged_.push_back(Job{revision, false, std::move(dropped)});
}

void PhysicalCompactor::release() {
  std::lock_guard lock(mutex_);
  if (staged_.empty() || stopped_) return;
  for (Job& job : staged_) jobs_.push_back(std::move(job));
  staged_.clear();
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  changed_.notify_all();
}

bool PhysicalCompactor::wait(int64_t revision, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return stopped_ || done_ >= revision; });
  return done_ >= revision;
}

void PhysicalCompactor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PhysicalCompactor::erase(int64_t revision, const std::vector<Dropped>& keys) {
  for (std::size_t at = 0; at < keys.size(); at += kBatchKeys) {
    storage::Batch batch;
    const std::size_t end = std::min(keys.size(), at + kBatchKeys);
    for (std::size_t i = at; i < end; ++i) {
      batch.del(storage::Column::kv, encode_revision_key(keys[i].rev, keys[i].tombstone));
    }
    if (auto w = storage_.write(batch, /*sync=*/false); !w) {
      log::get("mvcc")->error("deleting the revisions compacted at {} failed ({}); the next "
                              "start deletes them",
                              revision, w.error().message());
      std::lock_guard lock(mutex_);
      stopped_ = true;
      changed_.notify_all();
      return false;
    }
    std::lock_guard lock(mutex_);
    if (stopped_) return false;
  }
  return true;
}

void PhysicalCompactor::run() {
  name_this_thread("mvcc-compact");
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopped_ || !jobs_.empty(); });
      if (stopped_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    const auto start = std::chrono::steady_clock::now();
    std::size_t deleted = 0;
    if (job.walk) {
      std::optional<std::string> from = std::string();
      while (from) {
        std::vector<Dropped> dropped;
        std::vector<std::shared_ptr<const KeyValue>> values;
        from = walk_(job.revision, *from, dropped, values);
        values.clear();  // freed here, not under the store's lock
        if (!erase(job.revision, dropped)) return;
        deleted += dropped.size();
        std::lock_guard lock(mutex_);
        if (stopped_) return;
      }
    } else {
      if (!erase(job.revision, job.keys)) return;
      deleted = job.keys.size();
    }
    if (deleted >= 10 * kBatchKeys) {
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      log::get("mvcc")->info("finished the compaction at revision {}: {} old revisions deleted "
                             "from disk in {} ms",
                             job.revision, deleted, took.count());
    }
    std::lock_guard lock(mutex_);
    done_ = std::max(done_, job.revision);
    changed_.notify_all();
  }
}

}  // namespace mgmt::store::mvcc
