// wal_tail.cpp: see wal_tail.h.
#include "store/storage/wal_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace mgmt::store::storage {
namespace {

constexpr uint64_t kBlockSize = 32768;
constexpr uint64_t kHeaderSize = 7;

// crc32c (Castagnoli), the checksum RocksDB's log format uses.
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

uint32_t crc32c_extend(uint32_t crc, const unsigned char* data, std::size_t size) {
  const auto& t = crc_table();
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = t[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t read_le32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

bool all_zero(const std::vector<unsigned char>& bytes, uint64_t from) {
  for (uint64_t i = from; i < bytes.size(); ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

Error io_error(const std::string& what, const std::string& path) {
  return Error(Code::internal, "cannot " + what + " write-ahead log " + path + ": " +
                                   std::strerror(errno) + "; check the disk and permissions");
}

}  // namespace

uint32_t wal_record_crc(uint8_t type, const char* payload, std::size_t size) {
  uint32_t crc = crc32c_extend(0, &type, 1);
  crc = crc32c_extend(crc, reinterpret_cast<const unsigned char*>(payload), size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;  // RocksDB's mask
}

Result<std::optional<TrimmedTail>> trim_torn_wal_tail(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail(io_error("open", path));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(io_error("stat", path));
  std::vector<unsigned char> bytes(static_cast<std::size_t>(st.st_size));
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done,
                              static_cast<off_t>(done));
    if (n < 0) return fail(io_error("read", path));
    if (n == 0) {
      bytes.resize(done);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  const uint64_t size = bytes.size();
  uint64_t offset = 0;
  while (offset < size) {
    const uint64_t block_left = kBlockSize - offset % kBlockSize;
    if (block_left < kHeaderSize) {  // a block's zero padding
      offset += block_left;
      continue;
    }
    if (offset + kHeaderSize > size) return std::nullopt;  // cut short at the end: RocksDB's case
    const unsigned char* h = bytes.data() + offset;
    const uint64_t length = static_cast<uint64_t>(h[4]) | static_cast<uint64_t>(h[5]) << 8;
    const uint8_t type = h[6];
    if (read_le32(h) == 0 && length == 0 && type == 0) return std::nullopt;  // zeros: the end
    const uint64_t end = offset + kHeaderSize + length;
    const bool fits = length <= block_left - kHeaderSize;
    if (fits && end > size) return std::nullopt;  // cut short at the end: RocksDB's case
    if (fits && read_le32(h) == wal_record_crc(type, reinterpret_cast<const char*>(h + 7),
                                               static_cast<std::size_t>(length))) {
      offset = end;
      continue;
    }
    // A bad record. Torn (only zeros after what it claims) or damage (data after it)?
    const uint64_t claimed_end = fits ? end : offset + block_left;
    if (!all_zero(bytes, std::min(claimed_end, size))) return std::nullopt;  // RocksDB reports
    if (::ftruncate(fd, static_cast<off_t>(offset)) != 0 || ::fdatasync(fd) != 0) {
      return fail(io_error("cut the torn end of", path));
    }
    return TrimmedTail{offset, size};
  }
  return std::nullopt;
}

}  // namespace mgmt::store::storage
