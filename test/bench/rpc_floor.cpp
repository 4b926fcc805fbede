// rpc_floor.cpp: the fastest a store on a given gRPC server can acknowledge one client's
// sequential puts on this machine. It serves etcd's KV service, and its Put does only what any
// durable store must: one synced write of the request into a file (written beforehand, as
// disk_floor.h's, so the sync flushes data only), answered from the thread that read the request.
// No Raft, no state, no apply: a real store does more. Two servers:
// - `--server grpc` (the default): gRPC C++'s callback API, the most any gRPC C++ store reaches;
// - `--server ours`: the store's own server (store/rpc/rpc_server.h) on its I/O thread, where
//   the store's own puts are synced, so the store's distance to it is what Raft, the state and
//   the apply cost.
// The store benchmark (tools/bench-store.sh) runs put@1 against both beside both stores, so that
// their ratio can be read against the best this machine allows. Range answers an empty result.
// Loopback only; it exits by itself after --seconds (default 900), or on SIGTERM or SIGINT.
//   rpc_floor --listen 127.0.0.1:PORT --dir DIR [--seconds N] [--server grpc|ours]
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "etcd/rpc.grpc.pb.h"
#include "store/rpc/rpc_server.h"
#include "test/bench/disk_floor.h"

namespace {

constexpr std::size_t kFileBytes = 64 << 20;

// One synced write of `record` into the written file; the revision it got, or 0 if it failed.
class SyncedFile {
 public:
  explicit SyncedFile(int fd) : fd_(fd) {}
  uint64_t write(const std::string& record) {
    std::lock_guard lock(mutex_);
    if (offset_ + record.size() > kFileBytes) offset_ = 0;  // the file stays written
    const bool synced = ::pwrite(fd_, record.data(), record.size(), static_cast<off_t>(offset_)) ==
                            static_cast<ssize_t>(record.size()) &&
                        ::fdatasync(fd_) == 0;
    offset_ += record.size();
    return synced ? ++revision_ : 0;
  }
  uint64_t revision() {
    std::lock_guard lock(mutex_);
    return revision_;
  }

 private:
  const int fd_;
  std::mutex mutex_;  // one write and sync at a time, as one client's puts
  std::size_t offset_ = 0;
  uint64_t revision_ = 1;
};

class FloorKv final : public etcdserverpb::KV::CallbackService {
 public:
  explicit FloorKv(SyncedFile& file) : file_(file) {}

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* call,
                                const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override {
    auto* reactor = call->DefaultReactor();
    const uint64_t revision = file_.write(request->SerializeAsString());
    response->mutable_header()->set_revision(static_cast<int64_t>(revision));
    reactor->Finish(revision ? grpc::Status::OK
                             : grpc::Status(grpc::StatusCode::INTERNAL, "rpc_floor: write failed"));
    return reactor;
  }

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* call,
                                  const etcdserverpb::RangeRequest*,
                                  etcdserverpb::RangeResponse* response) override {
    auto* reactor = call->DefaultReactor();
    response->mutable_header()->set_revision(static_cast<int64_t>(file_.revision()));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  SyncedFile& file_;
};

// The same service on the store's own server, its handlers on the I/O thread.
void add_floor_kv(mgmt::rpc::RpcServer& server, SyncedFile& file) {
  server.add_unary<etcdserverpb::PutRequest>(
      "/etcdserverpb.KV/Put",
      [&file](const etcdserverpb::PutRequest& request, mgmt::rpc::Responder responder) {
        const uint64_t revision = file.write(request.SerializeAsString());
        if (!revision) {
          return responder.fail(
              mgmt::rpc::Status(mgmt::rpc::StatusCode::INTERNAL, "rpc_floor: write failed"));
        }
        etcdserverpb::PutResponse response;
        response.mutable_header()->set_revision(static_cast<int64_t>(revision));
        responder.finish(response);
      });
  server.add_unary<etcdserverpb::RangeRequest>(
      "/etcdserverpb.KV/Range",
      [&file](const etcdserverpb::RangeRequest&, mgmt::rpc::Responder responder) {
        etcdserverpb::RangeResponse response;
        response.mutable_header()->set_revision(static_cast<int64_t>(file.revision()));
        responder.finish(response);
      });
}

// Waits for SIGTERM or SIGINT (blocked in every thread), or `timeout`. A tracer's attach (strace,
// perf) interrupts the wait; that is no reason to stop.
void wait_for_stop(const sigset_t& stop_signals, timespec timeout) {
  while (sigtimedwait(&stop_signals, nullptr, &timeout) < 0 && errno == EINTR) {
  }
}

// A listening TCP socket on "127.0.0.1:PORT", or -1.
int listen_on(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (::inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 64) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"--seconds", "900"}, {"--server", "grpc"}};
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (!args.count("--listen") || !args.count("--dir")) {
    std::fprintf(stderr,
                 "usage: rpc_floor --listen 127.0.0.1:PORT --dir DIR [--seconds N] "
                 "[--server grpc|ours]\n");
    return 2;
  }
  const std::string path = args["--dir"] + "/rpc-floor.bin";
  auto fd = mgmt::bench::create_written_file(path, kFileBytes);
  if (!fd) {
    std::fprintf(stderr, "rpc_floor: %s\n", fd.error().message().c_str());
    return 1;
  }
  // Blocked before gRPC starts its threads, so that they inherit the mask and sigtimedwait
  // below takes the signal.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  SyncedFile file(*fd);
  timespec timeout{std::stoi(args["--seconds"]), 0};
  if (args["--server"] == "ours") {
    const int listener = listen_on(args["--listen"]);
    if (listener < 0) {
      std::fprintf(stderr, "rpc_floor: cannot listen on %s\n", args["--listen"].c_str());
      ::close(*fd);
      ::unlink(path.c_str());
      return 1;
    }
    mgmt::rpc::RpcServer server(mgmt::rpc::RpcServer::Options{});
    add_floor_kv(server, file);
    server.start();
    std::thread accepter([&server, listener] {
      for (;;) {
        const int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (connection < 0) {
          if (errno == EINTR) continue;
          return;  // shut down below
        }
        const int one = 1;
        ::setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        server.serve(connection);
      }
    });
    std::printf("rpc_floor: serving on %s (our server)\n", args["--listen"].c_str());
    std::fflush(stdout);
    wait_for_stop(stop_signals, timeout);
    ::shutdown(listener, SHUT_RDWR);
    accepter.join();
    ::close(listener);
    server.stop();
  } else {
    FloorKv service(file);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(args["--listen"], grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    auto server = builder.BuildAndStart();
    if (!server || port == 0) {
      std::fprintf(stderr, "rpc_floor: cannot listen on %s\n", args["--listen"].c_str());
      ::close(*fd);
      ::unlink(path.c_str());
      return 1;
    }
    std::printf("rpc_floor: serving on %s (gRPC C++)\n", args["--listen"].c_str());
    std::fflush(stdout);
    wait_for_stop(stop_signals, timeout);
    server->Shutdown();
  }
  ::close(*fd);
  ::unlink(path.c_str());
  return 0;
}
