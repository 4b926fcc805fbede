// temp_store.h: a Storage in a fresh temporary directory on the real disk, removed afterwards,
// for the mvcc tests.
// Thread-safety: none; one per test.
#pragma once

#include "store/storage/storage.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace mgmt::store::test {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "mgmt-store-XXXXXX").string();
    char* made = ::mkdtemp(templ.data());
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<storage::Storage> open_storage(const std::string& dir) {
  storage::Options options;
  options.dir = dir;
  auto s = storage::Storage::open(options);
  if (!s) FAIL(s.error().message());
  return std::move(*s);
}

}  // namespace mgmt::store::test
