// storage.cpp: Storage on RocksDB. Layout and crash behaviour: storage.h and
// docs/formats/storage.md.
#include "store/storage/storage.h"
#include "store/storage/wal_tail.h"

#include "common/log.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace mgmt::store::storage {
namespace {

constexpr uint64_t kFormatVersion = 1;
constexpr const char* kLockFile = "mgmt.lock";
const char* const kColumnNames[] = {"raft", "kv", "leases", "meta"};

// The error for a RocksDB status, one line, naming the dir and what to do.
// What to do with a damaged store dir; every message that finds one ends with it.
constexpr const char* kDamagedRemedy =
    "restore it from a backup, or move it away and re-add the member with an empty dir";

Error status_error(const std::string& dir, const std::string& what, const rocksdb::Status& s) {
  std::string text = s.ToString();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  // A file the database names is missing (its MANIFEST, say): damaged too.
  if (s.IsCorruption() || s.IsPathNotFound()) {
    return Error(Code::data_loss,
                 "store data dir " + dir + " is damaged (" + what + ": " + text + "); " +
                     kDamagedRemedy);
  }
  return Error(Code::internal, "store data dir " + dir + ": " + what + " failed: " + text +
                                   "; check the disk and the dir's permissions");
}

}  // namespace

std::string encode_u64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::optional<uint64_t> decode_u64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

uint32_t crc32(std::string_view bytes) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (char ch : bytes) c = table[(c ^ static_cast<unsigned char>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

namespace {
constexpr std::string_view kStateMagic = "MGMTSTATE1";

bool is_identity(std::string_view meta_name) {
  return meta_name == meta::kFormat || meta_name == meta::kClusterId ||
         meta_name == meta::kMemberId;
}

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t get_u32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  return v;
}
}  // namespace

// ---- Batch ----

struct Batch::Op {
  enum class Kind { put, del, del_range };
  Kind kind;
  Column column;
  std::string key;
  std::string value;  // put: the value; del_range: the end key
};

Batch::Batch() : ops_(std::make_unique<std::vector<Op>>()) {}
Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

void Batch::put(Column column, std::string_view key, std::string_view value) {
  ops_->push_back(Op{Op::Kind::put, column, std::string(key), std::string(value)});
}
void Batch::del(Column column, std::string_view key) {
  ops_->push_back(Op{Op::Kind::del, column, std::string(key), {}});
}
void Batch::del_range(Column column, std::string_view begin, std::string_view end) {
  ops_->push_back(Op{Op::Kind::del_range, column, std::string(begin), std::string(end)});
}
void Batch::put_u64(std::string_view meta_name, uint64_t value) {
  put(Column::meta, meta_name, encode_u64(value));
}
bool Batch::empty() const { return ops_->empty(); }
std::size_t Batch::count() const { return ops_->size(); }

// ---- Storage ----

namespace {

// RocksDB's write-ahead log files, preallocated WITH their size (RocksDB's default keeps the
// size, so the file grows with every write). A synced write into a growing file costs a second
// synchronous disk write for the inode: measured here, fdatasync after a small append takes
// about 100 us on a growing file and 70 us on a preallocated one (2 device writes instead of 3).
// etcd preallocates its WAL segments the same way. RocksDB trims the file when it closes it;
// after a crash the file ends in zeros, which its log reader skips as padding (the format
// RocksDB's own preallocating mmap writer used to leave), so recovery is unchanged.
class PreallocatedWalFileSystem : public rocksdb::FileSystemWrapper {
 public:
  using rocksdb::FileSystemWrapper::FileSystemWrapper;
  static const char* kClassName() { return "MgmtPreallocatedWalFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    return target()->NewWritableFile(name, for_file(name, options), file, debug);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* debug) override {
    return target()->ReopenWritableFile(name, for_file(name, options), file, debug);
  }

 private:
  static rocksdb::FileOptions for_file(const std::string& name,
                                       const rocksdb::FileOptions& options) {
    rocksdb::FileOptions out = options;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0) {
      out.fallocate_with_keep_size = false;
    }
    return out;
  }
};

// The Env every store on a real disk uses (RocksDB's default, with the WAL preallocated).
rocksdb::Env* store_env() {
  static std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(
      std::make_shared<PreallocatedWalFileSystem>(rocksdb::FileSystem::Default()));
  return env.get();
}

}  // namespace

struct Storage::Impl {
  std::string dir;
  Histogram synced_writes{Histogram::exponential(0.001, 2, 14)};  // etcd's bounds: 1 ms..8 s
  int lock_fd = -1;
  std::unique_ptr<rocksdb::DB> db;
  bool read_only = false;  // the probe before opening an existing dir: it has no WAL to write
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // index 0 = default, then Column + 1

  rocksdb::ColumnFamilyHandle* cf(Column c) const {
    return handles[static_cast<std::size_t>(c) + 1];
  }

  ~Impl() {
    if (db) {
      // What waits in the WAL buffer (manual_wal_flush) goes to disk: a stopped member need not
      // apply its last entries again when it starts.
      if (!read_only) db->FlushWAL(/*sync=*/true).PermitUncheckedError();
      for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
      handles.clear();
      db->Close().PermitUncheckedError();
      db.reset();
    }
    if (lock_fd >= 0) {
      ::flock(lock_fd, LOCK_UN);
      ::close(lock_fd);
    }
  }
};

Storage::Storage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Storage::~Storage() = default;

const std::string& Storage::dir() const { return impl_->dir; }

Result<std::unique_ptr<Storage>> Storage::open(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = options.dir;
  const std::string& dir = options.dir;
  bool exists = false;

  if (options.local_dir) {
    // Real disk: create the dir, take the lock, check what is there.
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return fail(Code::internal, "cannot create store data dir " + dir + ": " + ec.message() +
                                      "; check the path and its permissions");
    }
    std::string lock_path = dir + "/" + kLockFile;
    impl->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (impl->lock_fd < 0) {
      return fail(Code::internal, "cannot open lock file " + lock_path + ": " +
                                      std::strerror(errno) + "; check permissions");
    }
    if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
      return fail(Code::unavailable, "store data dir " + dir +
                                         " is locked: another mgmt agent is running with it; stop "
                                         "it or choose another --prefix");
    }
    exists = std::filesystem::exists(dir + "/CURRENT");
    if (!exists) {
      for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().filename() != kLockFile) {
          return fail(Code::failed_precondition,
                      "store data dir " + dir + " holds files but no store database (" +
                          entry.path().filename().string() +
                          ", no CURRENT); if it was this member's store it is damaged: restore "
                          "it from a backup; else choose an empty or an mgmt store dir");
        }
      }
    }
    // A power cut can leave a torn, never acknowledged record before the preallocated WAL's
    // zeros; cut it as RocksDB would at the end of a file (wal_tail.h).
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (!exists) break;
      if (entry.path().extension() != ".log") continue;
      auto trimmed = trim_torn_wal_tail(entry.path().string());
      if (!trimmed) return fail(trimmed.error());
      if (*trimmed) {
        log::get("store")->warn(
            "{}: dropped a torn last record at byte {} (written when the machine stopped, never "
            "synced nor acknowledged)",
            entry.path().string(), (*trimmed)->torn_at);
      }
    }
  } else {
    rocksdb::Env* env = options.env ? options.env : rocksdb::Env::Default();
    exists = env->FileExists(dir + "/CURRENT").ok();
  }

  if (!exists && !options.create_if_missing) {
    return fail(Code::not_found, "store data dir " + dir + " has no store database");
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !exists;
  db_options.create_missing_column_families = !exists;
  db_options.paranoid_checks = true;
  // A torn last record (a crash during an unsynced write) is dropped; damage anywhere else is an
  // error rather than a silent truncation.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 2;
  // Unsynced writes (apply batches, a commit index that moved alone, a compaction's deletes)
  // stay in RocksDB's WAL buffer until the next synced write, which writes and syncs them with
  // its own, as etcd's WAL holds what it need not sync until the next sync. So the WAL file has
  // no dirty page between syncs for the kernel's writeback to be writing while an append or a
  // sync waits for it. `etcdctl check perf --load=m` on one member, 6 alternating runs each:
  // slowest request 34-38 ms (one 112 ms, with a build beside it), against 43-177 ms with each
  // write in the page cache at once. A process crash now loses them as a power cut did
  // before: the synced Raft log reproduces them.
  db_options.manual_wal_flush = true;
  db_options.env = options.env != nullptr ? options.env : store_env();

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const char* name : kColumnNames) {
    rocksdb::ColumnFamilyOptions column_options;
    // The Raft log's entries live until the next log compaction, then are range-deleted:
    // compressing them when a memtable is flushed is CPU spent on what is soon dropped.
    if (std::string_view(name) == "raft") column_options.compression = rocksdb::kNoCompression;
    descriptors.emplace_back(name, column_options);
  }
  if (exists) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
    if (!s.ok()) return fail(status_error(dir, "reading the column families", s));
    for (const char* name : kColumnNames) {
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        return fail(Code::data_loss,
                    "store data dir " + dir + " lacks column family " + name +
                        ": not an mgmt store, or damaged; nothing was changed: " + kDamagedRemedy);
      }
    }
  }
  // An existing database is first checked through a read-only open, so a dir of another
  // cluster or a damaged one is refused before RocksDB writes anything into it.
  if (exists) {
    auto probe_impl = std::make_unique<Impl>();
    probe_impl->dir = dir;
    probe_impl->read_only = true;
    rocksdb::DB* probe_raw = nullptr;
    rocksdb::Status ps = rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors,
                                                      &probe_impl->handles, &probe_raw);
    if (!ps.ok()) return fail(status_error(dir, "opening the database", ps));
    probe_impl->db.reset(probe_raw);
    Storage probe(std::move(probe_impl));
    if (auto v = probe.verify(options, true); !v) return fail(v.error());
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, descriptors, &impl->handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return fail(Code::unavailable, "store data dir " + dir +
                                         " is locked: another mgmt agent is running with it; stop "
                                         "it or choose another --prefix");
    }
    return fail(status_error(dir, "opening the database", s));
  }
  impl->db.reset(raw);
  auto storage = std::unique_ptr<Storage>(new Storage(std::move(impl)));
  if (auto v = storage->verify(options, exists); !v) return fail(v.error());
  return storage;
}

Result<void> Storage::verify(const Options& options, bool existed) {
  const std::string& dir = impl_->dir;
  auto format = get_u64(meta::kFormat);
  if (!format) return fail(format.error());
  if (!format->has_value()) {
    if (existed) {
      return fail(Code::data_loss, "store data dir " + dir +
                                       " has no format record: not an mgmt store, or damaged; "
                                       "nothing was changed: " + kDamagedRemedy);
    }
    Batch batch;
    batch.put_u64(meta::kFormat, kFormatVersion);
    if (options.cluster_id) batch.put_u64(meta::kClusterId, *options.cluster_id);
    return write(batch, true);
  }
  if (**format != kFormatVersion) {
    return fail(Code::failed_precondition,
                "store data dir " + dir + " has format " + std::to_string(**format) +
                    ", this mgmt understands " + std::to_string(kFormatVersion) +
                    "; use a matching mgmt version");
  }
  if (options.cluster_id) {
    auto cluster = get_u64(meta::kClusterId);
    if (!cluster) return fail(cluster.error());
    if (cluster->has_value() && **cluster != *options.cluster_id) {
      return fail(Code::failed_precondition,
                  "store data dir " + dir + " belongs to another cluster (id " +
                      std::to_string(**cluster) + ", expected " +
                      std::to_string(*options.cluster_id) +
                      "); choose another --prefix or remove that dir yourself");
    }
  }
  return ok();
}

Result<void> Storage::write(Batch& batch, bool sync) {
  rocksdb::WriteBatch wb;
  for (const auto& op : *batch.ops_) {
    rocksdb::Status s;
    switch (op.kind) {
      case Batch::Op::Kind::put:
        s = wb.Put(impl_->cf(op.column), op.key, op.value);
        break;
      case Batch::Op::Kind::del:
        s = wb.Delete(impl_->cf(op.column), op.key);
        break;
      case Batch::Op::Kind::del_range:
        s = wb.DeleteRange(impl_->cf(op.column), op.key, op.value);
        break;
    }
    if (!s.ok()) return fail(status_error(impl_->dir, "building a write batch", s));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  const auto started = std::chrono::steady_clock::now();
  rocksdb::Status s = impl_->db->Write(wo, &wb);
  if (sync) impl_->synced_writes.observe(std::chrono::steady_clock::now() - started);
  if (!s.ok()) return fail(status_error(impl_->dir, sync ? "a synced write" : "a write", s));
  return ok();
}

const Histogram& Storage::synced_write_seconds() const { return impl_->synced_writes; }

Result<void> Storage::flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(impl_->handles.begin() + 1, impl_->handles.end());
  rocksdb::Status s = impl_->db->Flush(fo, cfs);
  if (!s.ok()) return fail(status_error(impl_->dir, "a flush", s));
  return ok();
}

int64_t Storage::state_bytes() const {
  int64_t total = 0;
  for (Column c : {Column::kv, Column::leases, Column::meta}) {
    for (const std::string& property : {rocksdb::DB::Properties::kTotalSstFilesSize,
                                        rocksdb::DB::Properties::kCurSizeAllMemTables}) {
      uint64_t bytes = 0;
      if (impl_->db->GetIntProperty(impl_->cf(c), property, &bytes)) {
        total += static_cast<int64_t>(bytes);
      }
    }
  }
  return total;
}

Result<void> Storage::compact_all() {
  if (auto f = flush(); !f) return f;
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto it = impl_->handles.begin() + 1; it != impl_->handles.end(); ++it) {
    rocksdb::Status s = impl_->db->CompactRange(options, *it, nullptr, nullptr);
    if (!s.ok()) return fail(status_error(impl_->dir, "a compaction of the files", s));
  }
  return ok();
}

Result<std::optional<std::string>> Storage::get(Column column, std::string_view key) const {
  std::string value;
  rocksdb::Status s =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->cf(column), rocksdb::Slice(key.data(), key.size()),
                     &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return fail(status_error(impl_->dir, "a read", s));
  return std::optional<std::string>(std::move(value));
}

Result<std::optional<uint64_t>> Storage::get_u64(std::string_view meta_name) const {
  auto v = get(Column::meta, meta_name);
  if (!v) return fail(v.error());
  if (!v->has_value()) return std::optional<uint64_t>();
  auto decoded = decode_u64(**v);
  if (!decoded) {
    return fail(Code::data_loss, "store data dir " + impl_->dir + " is damaged: meta record " +
                                     std::string(meta_name) + " has " +
                                     std::to_string((*v)->size()) + " bytes, expected 8");
  }
  return std::optional<uint64_t>(*decoded);
}

Result<void> Storage::scan(
    Column column, std::string_view begin, std::string_view end,
    const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf(column)));
  for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    std::string_view key(k.data(), k.size());
    if (!end.empty() && key >= end) break;
    rocksdb::Slice v = it->value();
    if (!visit(key, std::string_view(v.data(), v.size()))) break;
  }
  if (!it->status().ok()) return fail(status_error(impl_->dir, "a scan", it->status()));
  return ok();
}

Storage::StatePoint::~StatePoint() { db_->ReleaseSnapshot(snapshot_); }

std::shared_ptr<const Storage::StatePoint> Storage::hold_state() const {
  return std::make_shared<const StatePoint>(impl_->db.get(), impl_->db->GetSnapshot());
}

Result<std::string> Storage::dump_state() const { return dump_state(*hold_state()); }

Result<std::string> Storage::dump_state(const StatePoint& point,
                                        const std::atomic<bool>* stop) const {
  std::string out(kStateMagic);
  rocksdb::ReadOptions ro;
  ro.snapshot = point.snapshot();
  ro.verify_checksums = true;
  rocksdb::Status status;
  std::size_t records = 0;
  for (Column c : {Column::kv, Column::leases, Column::meta}) {
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cf(c)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (stop && ++records % 1024 == 0 && stop->load(std::memory_order_relaxed)) {
        return fail(Code::cancelled, "reading the state for a snapshot: stopped");
      }
      std::string_view k(it->key().data(), it->key().size());
      if (c == Column::meta && is_identity(k)) continue;
      out.push_back(static_cast<char>(c));
      put_u32(out, static_cast<uint32_t>(k.size()));
      out += k;
      put_u32(out, static_cast<uint32_t>(it->value().size()));
      out.append(it->value().data(), it->value().size());
    }
    if (!it->status().ok()) {
      status = it->status();
      break;
    }
  }
  if (!status.ok()) return fail(status_error(impl_->dir, "reading the state for a snapshot", status));
  put_u32(out, crc32(out));
  return out;
}

Result<void> Storage::load_state(std::string_view state) {
  auto bad = [&](const std::string& why) {
    return fail(Code::data_loss, "store snapshot is damaged (" + why +
                                     "); nothing was changed; fetch the snapshot again");
  };
  if (state.size() < kStateMagic.size() + 4 || state.substr(0, kStateMagic.size()) != kStateMagic) {
    return bad("no MGMTSTATE1 header");
  }
  std::string_view body = state.substr(0, state.size() - 4);
  if (get_u32(state.substr(state.size() - 4)) != crc32(body)) return bad("checksum mismatch");
  Batch batch;
  std::string last(64, '\xff');
  batch.del_range(Column::kv, "", last);
  batch.del_range(Column::leases, "", last);
  // Meta: drop everything but the member's identity (rewritten below from the snapshot).
  auto cleared = scan(Column::meta, "", "", [&](std::string_view k, std::string_view) {
    if (!is_identity(k)) batch.del(Column::meta, k);
    return true;
  });
  if (!cleared) return cleared;
  std::string_view in = body.substr(kStateMagic.size());
  while (!in.empty()) {
    if (in.size() < 5) return bad("truncated record");
    int column = static_cast<unsigned char>(in[0]);
    uint32_t klen = get_u32(in.substr(1));
    in.remove_prefix(5);
    // In 64 bits: a length near 2^32 must not wrap around the check.
    if (in.size() < uint64_t{klen} + 4) return bad("truncated key");
    std::string_view key = in.substr(0, klen);
    uint32_t vlen = get_u32(in.substr(klen));
    in.remove_prefix(klen + 4u);
    if (in.size() < vlen) return bad("truncated value");
    std::string_view value = in.substr(0, vlen);
    in.remove_prefix(vlen);
    if (column != static_cast<int>(Column::kv) && column != static_cast<int>(Column::leases) &&
        column != static_cast<int>(Column::meta)) {
      return bad("unknown column " + std::to_string(column));
    }
    if (column == static_cast<int>(Column::meta) && is_identity(key)) continue;
    batch.put(static_cast<Column>(column), key, value);
  }
  return write(batch, true);
}

Result<void> Storage::bind_cluster(uint64_t cluster_id, uint64_t member_id) {
  auto cluster = get_u64(meta::kClusterId);
  if (!cluster) return fail(cluster.error());
  auto member = get_u64(meta::kMemberId);
  if (!member) return fail(member.error());
  if (cluster->has_value() && **cluster != cluster_id) {
    return fail(Code::failed_precondition,
                "store data dir " + impl_->dir + " belongs to another cluster (id " +
                    std::to_string(**cluster) + ", expected " + std::to_string(cluster_id) +
                    "); choose another --prefix or remove that dir yourself");
  }
  if (member->has_value() && **member != member_id) {
    return fail(Code::failed_precondition,
                "store data dir " + impl_->dir + " belongs to member " +
                    std::to_string(**member) + ", not " + std::to_string(member_id) +
                    "; choose another --prefix or remove that dir yourself");
  }
  if (cluster->has_value() && member->has_value()) return ok();
  Batch batch;
  batch.put_u64(meta::kClusterId, cluster_id);
  batch.put_u64(meta::kMemberId, member_id);
  return write(batch, true);
}

}  // namespace mgmt::store::storage
