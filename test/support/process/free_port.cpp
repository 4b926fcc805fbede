// free_port.cpp: see free_port.h.
#include "test/support/process/free_port.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <set>

namespace mgmt::test {
namespace {

// The ports below the kernel's ephemeral range that tests pick from.
constexpr int kLowest = 10000;

int ephemeral_start() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  if (!(range >> low) || low <= kLowest + 1000) low = 32768;
  return low;
}

bool bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int free_port() {
  static std::mutex mutex;
  static std::set<int> given;
  static std::mt19937 random(static_cast<unsigned>(
      ::getpid() ^ std::chrono::steady_clock::now().time_since_epoch().count()));
  static const int highest = ephemeral_start() - 1;
  std::lock_guard lock(mutex);
  std::uniform_int_distribution<int> pick(kLowest, highest);
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const int port = pick(random);
    if (given.count(port) == 0 && bindable(port)) {
      given.insert(port);
      return port;
    }
  }
  return 0;  // none found: the caller's bind fails and says so
}

}  // namespace mgmt::test
