// wal_tail_fuzzer.cpp: a libFuzzer target for the WAL tail check (store/storage/wal_tail.h),
// which reads whatever a crash or a damaged disk left. Two kinds of input:
//   raw: the bytes are the file; it must never crash, and a cut must keep the bytes before it,
//        end the file there, and leave nothing more to cut;
//   built: the bytes are payloads, written as well-formed records, then the last one is torn
//        (its end zeroed) and zeros follow, as a power cut leaves a preallocated WAL; the cut
//        must land exactly at the torn record, keeping every whole one.
// Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh.
#include "store/storage/wal_tail.h"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using mgmt::store::storage::trim_torn_wal_tail;
using mgmt::store::storage::wal_record_crc;

namespace {

constexpr size_t kBlock = 32768;

const std::string& path() {
  static const std::string p = std::filesystem::temp_directory_path().string() +
                               "/wal_tail_fuzz." + std::to_string(::getpid()) + ".log";
  return p;
}

void write_file(const std::string& bytes) {
  std::ofstream(path(), std::ios::binary | std::ios::trunc).write(bytes.data(),
                                                                 static_cast<std::streamsize>(bytes.size()));
}

std::string read_file() {
  std::ifstream in(path(), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Appends one whole record (type FULL) of `payload`, padding the block's end as RocksDB does.
void append_record(std::string& file, const std::string& payload) {
  const size_t left = kBlock - file.size() % kBlock;
  if (left < 7) file.append(left, '\0');
  const uint32_t crc = wal_record_crc(1, payload.data(), payload.size());
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>(crc >> (8 * i)));
  file.push_back(static_cast<char>(payload.size() & 0xff));
  file.push_back(static_cast<char>(payload.size() >> 8));
  file.push_back(1);
  file += payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool built = data[0] & 1;
  std::string file;
  size_t torn_start = 0;
  if (!built) {
    file.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  } else {
    // Payloads of 1..64 bytes taken from the input, all in the first block (RocksDB would split
    // a record at a block's end into fragments; whole records are what this mode is about).
    size_t i = 1;
    while (i < size) {
      const size_t n = std::min<size_t>(1 + data[i] % 64, size - i);
      if (file.size() + 7 + n > kBlock - 7) break;
      std::string payload(reinterpret_cast<const char*>(data + i), n);
      if (payload.find_first_not_of('\0') == std::string::npos) payload[0] = 'x';
      torn_start = file.size();
      append_record(file, payload);
      i += n;
    }
    if (file.empty()) return 0;
    // Tear the last record: its last bytes never reached the disk. Then the preallocated zeros.
    const size_t cut = 1 + data[size - 1] % (file.size() - torn_start - 7 + 1);
    std::fill(file.end() - static_cast<std::ptrdiff_t>(cut), file.end(), '\0');
    file.append(4096, '\0');
  }
  write_file(file);
  auto trimmed = trim_torn_wal_tail(path());
  if (!trimmed) std::abort();  // reading and cutting a file we own cannot fail
  const std::string after = read_file();
  if (*trimmed) {
    const auto at = (*trimmed)->torn_at;
    if (at >= file.size() || after.size() != at || file.compare(0, at, after) != 0) std::abort();
    auto again = trim_torn_wal_tail(path());
    if (!again || *again) std::abort();  // nothing more to cut
  } else if (after != file) {
    std::abort();  // untouched when nothing was cut
  }
  // A torn record whose CRC still matches (zeros that were zeros) is a whole record.
  if (built && *trimmed && (*trimmed)->torn_at != torn_start) std::abort();
  std::filesystem::remove(path());
  return 0;
}
