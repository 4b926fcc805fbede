// daemon_test.cpp: `mgmt run` as a process: it tells systemd it is ready through
// NOTIFY_SOCKET, stops cleanly on SIGTERM and SIGINT (a --tmp-prefix data dir removed), and
// refuses a data dir it cannot use (not a directory, or another cluster's member while --seeds
// name a different one), or URLs in use, with one line and its own exit code, deleting nothing.
#include "test/support/process/child_process.h"
#include "test/support/process/free_port.h"
#include "test/support/process/mgmt_binary.h"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using mgmt::test::ChildProcess;
using mgmt::test::mgmt_binary;
using mgmt::test::TempDir;

namespace {

// Loopback ports of their own: tests run side by side.
std::string url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

// A notify socket like systemd's: a unix datagram socket the test reads.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    timeval timeout{30, 0};  // a bound for a broken build, not a synchronisation
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() { ::close(fd_); }
  // The next datagram the agent sends.
  std::string receive() {
    char buffer[4096];
    ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE("run: the agent tells systemd it is ready, then stops on SIGTERM and removes its "
          "--tmp-prefix data dir",
          "[run]") {
  TempDir dir;
  NotifySocket notify(dir.path() + "/notify.sock");
  const std::string tmp = dir.path() + "/tmp";
  std::filesystem::create_directory(tmp);
  ChildProcess agent({mgmt_binary(), "run", "--tmp-prefix", "--hostname", "h1", "--client-urls",
                      url(mgmt::test::free_port()), "--server-urls", url(mgmt::test::free_port())},
                     {{"NOTIFY_SOCKET", notify.path()}, {"TMPDIR", tmp}});
  std::string ready = notify.receive();
  CHECK(ready.find("READY=1") != std::string::npos);
  CHECK(!std::filesystem::is_empty(tmp));
  agent.send_signal(SIGTERM);
  CHECK(notify.receive().find("STOPPING=1") != std::string::npos);
  CHECK(agent.wait_exit() == 0);
  CHECK(agent.output().find("agent: stopping: terminated (SIGTERM)") != std::string::npos);
  CHECK(std::filesystem::is_empty(tmp));
}

TEST_CASE("run: URLs another agent serves are refused in one line naming the URL and the flag",
          "[run]") {
  TempDir dir;
  NotifySocket notify(dir.path() + "/notify.sock");
  const std::string client = url(mgmt::test::free_port());
  const std::string server = url(mgmt::test::free_port());
  ChildProcess first({mgmt_binary(), "run", "--tmp-prefix", "--hostname", "h1", "--client-urls",
                      client, "--server-urls", server},
                     {{"NOTIFY_SOCKET", notify.path()}});
  REQUIRE(notify.receive().find("READY=1") != std::string::npos);
  // gRPC would share the port (SO_REUSEPORT) and the second agent would take half the clients.
  auto same_client = mgmt::test::run_to_completion(
      {mgmt_binary(), "run", "--tmp-prefix", "--hostname", "h2", "--client-urls", client,
       "--server-urls", url(mgmt::test::free_port())});
  INFO(same_client.output);
  CHECK(same_client.exit_code == 11);
  CHECK(same_client.output.find("mgmt run: cannot listen on " + client +
                                ": the address is in use; stop what uses it or choose another "
                                "with --client-urls\n") != std::string::npos);
  // The refused start leaves no store behind: started again with --seeds, a store of its own
  // would keep it out of the cluster it was told to join.
  const std::string prefix = dir.path() + "/h2";
  auto same_server = mgmt::test::run_to_completion(
      {mgmt_binary(), "run", "--prefix", prefix, "--hostname", "h2", "--client-urls",
       url(mgmt::test::free_port()), "--server-urls", server});
  INFO(same_server.output);
  CHECK(same_server.exit_code == 11);
  CHECK(same_server.output.find("mgmt run: cannot listen on " + server +
                                ": the address is in use; stop what uses it or choose another "
                                "with --server-urls\n") != std::string::npos);
  CHECK(same_server.output.find("chttp2") == std::string::npos);  // no raw gRPC log lines
  CHECK(same_server.output.find("leads") == std::string::npos);   // no cluster started
  CHECK(!std::filesystem::exists(prefix + "/store"));
  // The first agent still serves.
  auto list = mgmt::test::run_to_completion(
      {"/bin/sh", "-c", "ETCDCTL_API=3 etcdctl --endpoints=" + client + " member list 2>&1"});
  CHECK(list.output.find(", h1, ") != std::string::npos);
  first.send_signal(SIGTERM);
  CHECK(first.wait_exit() == 0);
}

TEST_CASE("run: the agent stops on SIGINT and keeps its --prefix data dir", "[run]") {
  TempDir dir;
  NotifySocket notify(dir.path() + "/notify.sock");
  std::string prefix = dir.path() + "/data";
  ChildProcess agent({mgmt_binary(), "run", "--prefix", prefix, "--client-urls",
                      url(mgmt::test::free_port()), "--server-urls", url(mgmt::test::free_port())},
                     {{"NOTIFY_SOCKET", notify.path()}});
  REQUIRE(notify.receive().find("READY=1") != std::string::npos);
  agent.send_signal(SIGINT);
  CHECK(agent.wait_exit() == 0);
  CHECK(std::filesystem::is_directory(prefix));
}

TEST_CASE("run: a data dir that is a file is refused in one line and left alone", "[run]") {
  TempDir dir;
  std::string prefix = dir.path() + "/not-a-dir";
  std::ofstream(prefix) << "precious";
  auto done = mgmt::test::run_to_completion({mgmt_binary(), "run", "--prefix", prefix});
  CHECK(done.exit_code == 10);
  CHECK(done.output.find("mgmt run: ") != std::string::npos);
  CHECK(done.output.find("--prefix DIR") != std::string::npos);
  std::ifstream in(prefix);
  std::string content;
  in >> content;
  CHECK(content == "precious");
}

TEST_CASE("run: the systemd unit passes systemd-analyze verify", "[run][systemd]") {
  if (mgmt::test::run_to_completion({"/bin/sh", "-c", "command -v systemd-analyze"}).exit_code !=
      0) {
    FAIL("systemd-analyze is needed: apt-get install systemd (tools/setup.sh does)");
  }
  const char* source = std::getenv("MGMT_SOURCE_DIR");
  REQUIRE(source != nullptr);
  TempDir dir;
  // The unit names the installed binary; point a copy at the one just built.
  std::string unit = dir.path() + "/mgmt.service";
  auto copied = mgmt::test::run_to_completion(
      {"/bin/sh", "-c",
       "sed 's|/usr/local/bin/mgmt|" + mgmt_binary() + "|' " + std::string(source) +
           "/agent/run/systemd/mgmt.service > " + unit});
  REQUIRE(copied.exit_code == 0);
  auto verified = mgmt::test::run_to_completion({"/usr/bin/systemd-analyze", "verify", unit});
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
}

TEST_CASE("run: a data dir of another cluster given --seeds is refused, naming both clusters, "
          "and kept",
          "[run]") {
  TempDir dir;
  NotifySocket notify(dir.path() + "/notify.sock");
  const std::string seeds = url(mgmt::test::free_port());
  ChildProcess theirs({mgmt_binary(), "run", "--tmp-prefix", "--hostname", "h1", "--client-urls",
                       seeds, "--server-urls", url(mgmt::test::free_port())},
                      {{"NOTIFY_SOCKET", notify.path()}});
  REQUIRE(notify.receive().find("READY=1") != std::string::npos);
  // A store of its own, made by a start without --seeds.
  const std::string prefix = dir.path() + "/h2";
  const std::vector<std::string> h2 = {mgmt_binary(),   "run",
                                       "--prefix",      prefix,
                                       "--hostname",    "h2",
                                       "--client-urls", url(mgmt::test::free_port()),
                                       "--server-urls", url(mgmt::test::free_port())};
  {
    NotifySocket own(dir.path() + "/own.sock");
    ChildProcess alone(h2, {{"NOTIFY_SOCKET", own.path()}});
    REQUIRE(own.receive().find("READY=1") != std::string::npos);
    alone.send_signal(SIGTERM);
    REQUIRE(alone.wait_exit() == 0);
  }
  std::vector<std::string> joining = h2;
  joining.insert(joining.end(), {"--seeds", seeds});
  auto refused = mgmt::test::run_to_completion(joining);
  INFO(refused.output);
  CHECK(refused.exit_code == 10);
  CHECK(refused.output.find("mgmt run: data dir " + prefix + "/store holds a member of cluster ") !=
        std::string::npos);
  CHECK(refused.output.find("but the seeds " + seeds + " serve cluster ") != std::string::npos);
  CHECK(refused.output.find("move " + prefix + "/store away") != std::string::npos);
  CHECK(std::filesystem::exists(prefix + "/store/CURRENT"));
  theirs.send_signal(SIGTERM);
  CHECK(theirs.wait_exit() == 0);
}

TEST_CASE("run: seeds that do not answer are named in one line with the remedy", "[run]") {
  const std::string seeds = url(mgmt::test::free_port());  // nothing listens there
  auto done = mgmt::test::run_to_completion(
      {mgmt_binary(), "run", "--tmp-prefix", "--hostname", "h2", "--client-urls",
       url(mgmt::test::free_port()), "--server-urls", url(mgmt::test::free_port()), "--seeds",
       seeds});
  INFO(done.output);
  CHECK(done.exit_code == 11);
  const auto line = done.output.find("mgmt run: cannot reach the store at " + seeds + " (");
  REQUIRE(line != std::string::npos);
  const auto end = done.output.find('\n', line);
  CHECK(done.output.substr(line, end - line).find("Point --seeds at it") != std::string::npos);
  CHECK(done.output.find("mgmt run:", line + 1) == std::string::npos);  // one line, said once
}
