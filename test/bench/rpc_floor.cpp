// rpc_floor.cpp: the fastest a gRPC C++ store can acknowledge one client's sequential puts on
// this machine. It serves etcd's KV service, and its Put does only what any durable store must:
// one synced write of the request into a file (written beforehand, as disk_floor.h's, so the
// sync flushes data only), answered from the gRPC thread that read the request (the callback
// API, as the store's). No Raft, no state, no apply: a real store does more. The store benchmark
// (tools/bench-store.sh) runs put@1 against it beside both stores, so that their ratio can be
// read against the best this machine allows. Range answers an empty result. Loopback only;
// it exits by itself after --seconds (default 900), or on SIGTERM or SIGINT.
//   rpc_floor --listen 127.0.0.1:PORT --dir DIR [--seconds N]
#include "etcd/rpc.grpc.pb.h"
#include "test/bench/disk_floor.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <string>

namespace {

constexpr std::size_t kFileBytes = 64 << 20;

class FloorKv final : public etcdserverpb::KV::CallbackService {
 public:
  explicit FloorKv(int fd) : fd_(fd) {}

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* call,
                                const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override {
    auto* reactor = call->DefaultReactor();
    const std::string record = request->SerializeAsString();
    bool synced = false;
    {
      std::lock_guard lock(mutex_);
      if (offset_ + record.size() > kFileBytes) offset_ = 0;  // the file stays written
      synced = ::pwrite(fd_, record.data(), record.size(), static_cast<off_t>(offset_)) ==
                   static_cast<ssize_t>(record.size()) &&
               ::fdatasync(fd_) == 0;
      offset_ += record.size();
      response->mutable_header()->set_revision(static_cast<int64_t>(++revision_));
    }
    reactor->Finish(synced ? grpc::Status::OK
                           : grpc::Status(grpc::StatusCode::INTERNAL, "rpc_floor: write failed"));
    return reactor;
  }

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* call,
                                  const etcdserverpb::RangeRequest*,
                                  etcdserverpb::RangeResponse* response) override {
    auto* reactor = call->DefaultReactor();
    std::lock_guard lock(mutex_);
    response->mutable_header()->set_revision(static_cast<int64_t>(revision_));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const int fd_;
  std::mutex mutex_;  // one write and sync at a time, as one client's puts
  std::size_t offset_ = 0;
  uint64_t revision_ = 1;
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"--seconds", "900"}};
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (!args.count("--listen") || !args.count("--dir")) {
    std::fprintf(stderr, "usage: rpc_floor --listen 127.0.0.1:PORT --dir DIR [--seconds N]\n");
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

  FloorKv service(*fd);
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
  std::printf("rpc_floor: serving on %s\n", args["--listen"].c_str());
  std::fflush(stdout);
  timespec timeout{std::stoi(args["--seconds"]), 0};
  sigtimedwait(&stop_signals, nullptr, &timeout);
  server->Shutdown();
  ::close(*fd);
  ::unlink(path.c_str());
  return 0;
}
