// raft_tidy_test.cpp: the Raft core stays pure and deterministic. Nothing under store/raft/
// includes threads, clocks, sockets, Asio, gRPC or RocksDB, or uses std::rand, random_device,
// the standard distributions or sleeps; every file starts with its purpose comment and keeps
// lines within 100 columns.
#include <catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

TEST_CASE("store/raft is pure: no threads, clocks, I/O or unseeded randomness", "[unit]") {
  const char* src = std::getenv("MGMT_SOURCE_DIR");
  REQUIRE(src != nullptr);
  const fs::path dir = fs::path(src) / "store" / "raft";
  const std::vector<std::string> forbidden = {
      "<thread>", "<chrono>", "<mutex>", "<condition_variable>", "<future>", "<random>",
      "<fstream>", "<sys/socket.h>", "asio", "grpc", "rocksdb", "std::rand", "random_device",
      "sleep_for", "uniform_int_distribution", "system_clock", "steady_clock"};
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".h" && ext != ".cpp") continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    size_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      INFO(entry.path().filename().string() << ":" << number << ": " << line);
      if (number == 1) CHECK(line.rfind("// ", 0) == 0);  // the purpose comment
      CHECK(line.size() <= 100);
      for (const std::string& word : forbidden) CHECK(line.find(word) == std::string::npos);
    }
  }
  CHECK(files >= 10);
}
