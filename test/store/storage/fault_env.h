// fault_env.h: a RocksDB Env whose writable files fail Sync or Append on demand (LevelDB's
// SpecialEnv), for storage fault tests.
// Thread-safety: the flags are atomics; set them from the test thread.
#pragma once

#include <rocksdb/env.h>

#include <atomic>
#include <memory>
#include <string>

namespace mgmt::store::test {

// Writable files whose Sync/Append fail on demand (LevelDB's SpecialEnv, in RocksDB 7's Env).
class FaultEnv : public rocksdb::EnvWrapper {
 public:
  explicit FaultEnv(rocksdb::Env* base) : rocksdb::EnvWrapper(base) {}
  std::atomic<bool> fail_sync{false};
  std::atomic<bool> no_space{false};

  const char* Name() const override { return "MgmtFaultEnv"; }

  rocksdb::Status NewWritableFile(const std::string& name, std::unique_ptr<rocksdb::WritableFile>* out,
                                  const rocksdb::EnvOptions& options) override {
    std::unique_ptr<rocksdb::WritableFile> file;
    rocksdb::Status s = target()->NewWritableFile(name, &file, options);
    if (s.ok()) *out = std::make_unique<File>(this, std::move(file));
    return s;
  }

 private:
  class File : public rocksdb::WritableFileWrapper {
   public:
    File(FaultEnv* env, std::unique_ptr<rocksdb::WritableFile> file)
        : rocksdb::WritableFileWrapper(file.get()), env_(env), file_(std::move(file)) {}
    rocksdb::Status Append(const rocksdb::Slice& data) override {
      if (env_->no_space) return rocksdb::Status::NoSpace("injected: disk full");
      return rocksdb::WritableFileWrapper::Append(data);
    }
    rocksdb::Status Sync() override {
      if (env_->fail_sync) return rocksdb::Status::IOError("injected: fsync failed");
      return rocksdb::WritableFileWrapper::Sync();
    }
    rocksdb::Status Fsync() override { return Sync(); }

   private:
    FaultEnv* env_;
    std::unique_ptr<rocksdb::WritableFile> file_;
  };
};

}  // namespace mgmt::store::test
