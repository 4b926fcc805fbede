// restore.cpp: see restore.h.
#include "store/server/restore.h"

#include "store/server/backend.h"
#include "store/storage/snapshot_file.h"
#include "store/storage/storage.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mgmt::store::server {

Result<RestoreSummary> restore_snapshot(const std::string& file, const std::string& data_dir) {
  if (std::error_code ec; std::filesystem::is_directory(file, ec)) {
    return fail(Code::invalid_argument,
                file + " is a directory; give the file `etcdctl snapshot save` wrote");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail(Code::not_found, "cannot read the snapshot " + file + ": " +
                                     std::strerror(errno) + "; check the path");
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  auto dump = storage::read_snapshot_file(bytes.str());
  if (!dump) return fail(dump.error().code(), file + ": " + dump.error().message());

  std::error_code ec;
  if (std::filesystem::exists(data_dir, ec)) {
    return fail(Code::already_exists,
                "the data dir " + data_dir + " already exists; restore into a new --prefix, or "
                "move it away (nothing was changed)");
  }
  auto removed_dir = [&] {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir, ignored);
  };
  storage::Options options;
  options.dir = data_dir;
  auto opened = storage::Storage::open(options);
  if (!opened) {
    removed_dir();
    return fail(opened.error());
  }
  std::unique_ptr<storage::Storage> store = std::move(*opened);
  auto done = [&]() -> Result<RestoreSummary> {
    if (auto l = store->load_state(*dump); !l) return fail(l.error());
    // Not the old cluster's membership: the new member founds a cluster of its own.
    storage::Batch batch;
    for (const char* prefix : {kMemberPrefix, kRemovedPrefix, kAlarmPrefix}) {
      std::string end = prefix;
      end.back() = static_cast<char>(end.back() + 1);
      auto scanned = store->scan(storage::Column::meta, prefix, end,
                                 [&](std::string_view key, std::string_view) {
                                   batch.del(storage::Column::meta, key);
                                   return true;
                                 });
      if (!scanned) return fail(scanned.error());
    }
    if (auto w = store->write(batch, /*sync=*/true); !w) return fail(w.error());
    RestoreSummary summary;
    auto revision = store->get_u64(storage::meta::kMvccRevision);
    if (!revision) return fail(revision.error());
    summary.revision = static_cast<int64_t>(revision->value_or(1));
    auto applied = store->get_u64(storage::meta::kAppliedIndex);
    if (!applied) return fail(applied.error());
    summary.applied_index = applied->value_or(0);
    auto counted = store->scan(storage::Column::kv, "", "", [&](std::string_view, std::string_view) {
      ++summary.keys;
      return true;
    });
    if (!counted) return fail(counted.error());
    return summary;
  }();
  store.reset();
  if (!done) removed_dir();
  return done;
}

}  // namespace mgmt::store::server
