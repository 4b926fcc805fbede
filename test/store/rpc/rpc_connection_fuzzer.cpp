// rpc_connection_fuzzer.cpp: a libFuzzer target for what any client can send the store's gRPC
// server (store/rpc) on a connection: after HTTP/2's preface and an empty SETTINGS, the input's
// bytes as they come, into one end of a socket pair the server serves. Each input gets a server
// of its own, with one unary method (an echo) and one bidi method (an echo reactor); then either
// our end stops sending and the server must close the connection, or the server stops with the
// connection open. Either way stop() must return, every reactor must have had its OnDone, and
// nothing may crash (ASan, UBSan) or hang (a bound of 10 s aborts, naming what hung).
// Input: the first byte picks what goes before the rest: bit 0 a unary call's HEADERS on stream 1,
// bit 1 a bidi call's HEADERS on stream 3 (so that mutated DATA frames reach the handlers), bit 2
// stops the server with the connection open. Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by
// tools/fuzz.sh.
#include "store/rpc/rpc_server.h"

#include "etcd/rpc.pb.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <string_view>
#include <thread>

namespace rpc = mgmt::rpc;

namespace {

constexpr auto kBound = std::chrono::seconds(10);

[[noreturn]] void broken(const char* rule) {
  std::fprintf(stderr, "rpc_connection_fuzzer: broken: %s\n", rule);
  std::abort();
}

std::atomic<int> live_reactors{0};

class EchoReactor final : public rpc::BidiReactor<etcdserverpb::WatchRequest,
                                                  etcdserverpb::WatchResponse> {
 public:
  EchoReactor() { ++live_reactors; }
  void OnRead(const etcdserverpb::WatchRequest& request) override {
    etcdserverpb::WatchResponse response;
    response.set_watch_id(request.create_request().start_revision());
    StartWrite(&response);
  }
  void OnHalfClose() override { Finish(rpc::Status::OK); }
  void OnCancel() override { Finish(rpc::Status(rpc::StatusCode::CANCELLED, "cancelled")); }
  void OnDone() override {
    --live_reactors;
    delete this;
  }
};

// A HEADERS frame (END_HEADERS) opening a gRPC call to `path` on `stream`, its fields as HPACK
// literals without indexing.
std::string headers_frame(uint32_t stream, const std::string& path) {
  std::string block;
  auto field = [&block](std::string_view name, std::string_view value) {
    block.push_back('\0');
    block.push_back(static_cast<char>(name.size()));
    block.append(name);
    block.push_back(static_cast<char>(value.size()));
    block.append(value);
  };
  field(":method", "POST");
  field(":scheme", "http");
  field(":path", path);
  field(":authority", "localhost");
  field("content-type", "application/grpc");
  field("te", "trailers");
  std::string frame;
  const auto n = static_cast<uint32_t>(block.size());
  frame.push_back(static_cast<char>(n >> 16));
  frame.push_back(static_cast<char>(n >> 8));
  frame.push_back(static_cast<char>(n));
  frame.push_back('\x01');  // HEADERS
  frame.push_back('\x04');  // END_HEADERS
  frame.push_back(static_cast<char>((stream >> 24) & 0x7f));
  frame.push_back(static_cast<char>(stream >> 16));
  frame.push_back(static_cast<char>(stream >> 8));
  frame.push_back(static_cast<char>(stream));
  return frame + block;
}

// Writes all of `bytes` to the non-blocking `fd`, reading (and dropping) what the server sends
// meanwhile, so that neither side waits on the other. False when the server closed first.
bool send_all(int fd, std::string_view bytes, std::chrono::steady_clock::time_point deadline) {
  char sink[16384];
  while (!bytes.empty()) {
    if (std::chrono::steady_clock::now() > deadline) broken("the server stopped reading");
    pollfd p{fd, POLLIN | POLLOUT, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    if ((p.revents & POLLIN) != 0 && ::read(fd, sink, sizeof sink) == 0) return false;
    if ((p.revents & (POLLERR | POLLHUP)) != 0) return false;
    if ((p.revents & POLLOUT) != 0) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  return true;
}

// Reads until the server closes its end; aborts when it does not within the deadline.
void wait_for_close(int fd, std::chrono::steady_clock::time_point deadline) {
  char sink[16384];
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) broken("the server kept the connection");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::read(fd, sink, sizeof sink);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const auto deadline = std::chrono::steady_clock::now() + kBound;

  rpc::RpcServer::Options options;
  options.workers = 1;
  options.max_receive_bytes = 1 << 16;
  rpc::RpcServer server(options);
  server.add_unary<etcdserverpb::PutRequest>(
      "/etcdserverpb.KV/Put", [](const etcdserverpb::PutRequest& request, rpc::Responder r) {
        etcdserverpb::PutResponse response;
        response.mutable_prev_kv()->set_key(request.key());
        if (request.lease() == 1) return r.fail(rpc::Status(rpc::StatusCode::NOT_FOUND, "no"));
        r.finish(response);
      });
  server.add_bidi<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>(
      "/etcdserverpb.Watch/Watch", [](const rpc::CallInfo&) { return new EchoReactor(); });
  server.start();

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) broken("socketpair");
  ::fcntl(pair[1], F_SETFL, ::fcntl(pair[1], F_GETFL) | O_NONBLOCK);
  server.serve(pair[0]);

  std::string bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
  bytes.append("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // an empty SETTINGS
  if ((mode & 1) != 0) bytes += headers_frame(1, "/etcdserverpb.KV/Put");
  if ((mode & 2) != 0) bytes += headers_frame(3, "/etcdserverpb.Watch/Watch");
  bytes.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool open = send_all(pair[1], bytes, deadline);

  if ((mode & 4) == 0 && open) {
    ::shutdown(pair[1], SHUT_WR);
    wait_for_close(pair[1], deadline);
  }
  std::promise<void> stopped;
  std::thread stopper([&server, &stopped] {
    server.stop();
    stopped.set_value();
  });
  if (stopped.get_future().wait_until(deadline) != std::future_status::ready) {
    broken("stop() did not return");
  }
  stopper.join();
  wait_for_close(pair[1], deadline);  // stop() closes every connection
  ::close(pair[1]);
  if (server.connections() != 0) broken("a connection outlived stop()");
  if (live_reactors != 0) broken("a reactor never had its OnDone");
  return 0;
}
