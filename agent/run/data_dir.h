// data_dir.h: where an agent keeps its state. `--prefix DIR` names it (default /var/lib/mgmt);
// `--tmp-prefix` makes a fresh one under $TMPDIR that is removed when the agent stops.
// Invariants: a DataDir never deletes anything it did not create itself in this process.
// Thread-safety: none; owned by the Daemon.
#pragma once

#include "common/result.h"

#include <filesystem>
#include <memory>
#include <string>

namespace mgmt::agent::run {

inline constexpr const char* kDefaultPrefix = "/var/lib/mgmt";

class DataDir {
 public:
  // Creates (if needed) and checks the directory: it must be a writable directory.
  [[nodiscard]] static Result<std::unique_ptr<DataDir>> open(const std::string& prefix,
                                                             bool temporary);
  ~DataDir();
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  bool temporary() const { return temporary_; }

 private:
  DataDir(std::filesystem::path path, bool temporary);
  std::filesystem::path path_;
  bool temporary_;
};

}  // namespace mgmt::agent::run
