// rpc_server_test.cpp: the store's own gRPC server (store/rpc) as gRPC C++ clients see it, over
// socket pairs and loopback TCP: unary calls answered late and from other threads, many at once
// on one connection; statuses and their percent-encoded messages, unknown methods, requests over
// the size limit; blocking handlers, server streams past the HTTP/2 windows and their cancel;
// bidi reactors (echo, cancel, a late Finish); stop() with streams open; and garbage bytes.
// Every wait is bounded (futures with a timeout, call deadlines); none relies on a sleep.
// Catch2's assertions are not thread-safe: handlers only record, the test thread checks.
#include "store/rpc/rpc_server.h"
#include "test/store/rpc/rpc_test_waits.h"

#include "etcd/rpc.grpc.pb.h"

#include <catch2/catch.hpp>
#include <grpc/grpc.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rpc = mgmt::rpc;
using etcdserverpb::KV;
using etcdserverpb::Lease;
using etcdserverpb::Maintenance;
using etcdserverpb::PutRequest;
using etcdserverpb::PutResponse;
using etcdserverpb::RangeRequest;
using etcdserverpb::RangeResponse;
using etcdserverpb::SnapshotRequest;
using etcdserverpb::SnapshotResponse;
using etcdserverpb::Watch;
using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;
using namespace std::chrono_literals;
using namespace mgmt::test::rpc_waits;

namespace {

// gRPC shuts its library down when its last channel goes, and that can wait 10 s for a poller
// thread of its own: one reference held for the whole run spares each test that.
[[maybe_unused]] const bool grpc_kept = [] {
  grpc_init();
  return true;
}();

constexpr const char* kSnapshot = "/etcdserverpb.Maintenance/Snapshot";

// Bounds a client call: a server that never answers fails it with DEADLINE_EXCEEDED.
void bound(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + kWait);
}

// A client channel on one end of a socket pair whose other end the server serves: one
// connection, for as long as the channel lives.
std::shared_ptr<grpc::Channel> connect(rpc::RpcServer& server,
                                       grpc::ChannelArguments args = {}) {
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  server.serve(pair[0]);
  return grpc::CreateCustomInsecureChannelFromFd("localhost", pair[1], args);
}

// A port on 127.0.0.1 whose accepted connections go to the server, as the store's listener
// hands them.
class TcpFront {
 public:
  explicit TcpFront(rpc::RpcServer& server) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    auto* any = reinterpret_cast<sockaddr*>(&address);
    REQUIRE(::bind(listen_fd_, any, sizeof address) == 0);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(listen_fd_, any, &length) == 0);
    port_ = ntohs(address.sin_port);
    REQUIRE(::pipe2(wake_, O_CLOEXEC) == 0);
    thread_ = std::thread([this, &server] {
      for (;;) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
        if (fds[1].revents != 0) return;
        if ((fds[0].revents & POLLIN) == 0) continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) server.serve(fd);
      }
    });
  }
  ~TcpFront() {
    [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpFront(const TcpFront&) = delete;
  TcpFront& operator=(const TcpFront&) = delete;

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

// A server whose I/O thread says who it is.
struct Server {
  explicit Server(rpc::RpcServer::Options options = {}) : server(with_io_id(options)) {}
  rpc::RpcServer::Options with_io_id(rpc::RpcServer::Options options) {
    options.on_io_thread_start = [this] { io_thread.set_value(std::this_thread::get_id()); };
    return options;
  }
  std::thread::id io_id() {
    if (!io_id_) io_id_ = await(io_future, "the I/O thread's start");
    return *io_id_;
  }

  std::promise<std::thread::id> io_thread;
  std::future<std::thread::id> io_future = io_thread.get_future();
  std::optional<std::thread::id> io_id_;
  rpc::RpcServer server;  // last: stopped (by its destructor) before the rest goes
};

// A unary Put that echoes the key, with the revision the request's lease names.
void add_echo_put(rpc::RpcServer& server) {
  server.add_unary<PutRequest>(kPut, [](const PutRequest& request, rpc::Responder responder) {
    PutResponse response;
    response.mutable_header()->set_revision(request.lease());
    response.mutable_prev_kv()->set_key(request.key());
    responder.finish(response);
  });
}

// One echo Put through `stub`; true when it came back as sent.
bool echo_works(KV::Stub& stub, const std::string& key) {
  grpc::ClientContext context;
  bound(context);
  PutRequest request;
  request.set_key(key);
  request.set_lease(7);
  PutResponse response;
  const grpc::Status status = stub.Put(&context, request, &response);
  return status.ok() && response.prev_kv().key() == key && response.header().revision() == 7;
}

// What a bidi reactor went through, for the test thread to check.
struct StreamLog {
  std::mutex mutex;
  std::vector<std::string> events;
  std::atomic<int> writes_ok{0};
  std::atomic<int> writes_failed{0};
  std::atomic<bool> finish_asked{false};  // set by a test before it calls Finish itself
  int writes_ok_at_done = -1;
  bool finish_asked_at_done = false;
  std::promise<void> cancelled;
  std::promise<void> done;
  std::future<void> cancelled_future = cancelled.get_future();
  std::future<void> done_future = done.get_future();

  void add(const std::string& event) {
    std::lock_guard lock(mutex);
    events.push_back(event);
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mutex);
    return events;
  }
};

// Answers each WatchRequest with a WatchResponse whose watch_id is the request's
// start_revision; finishes on the half-close, and on a cancel when told to.
class EchoReactor final : public rpc::BidiReactor<WatchRequest, WatchResponse> {
 public:
  EchoReactor(StreamLog& log, bool finish_on_cancel)
      : log_(log), finish_on_cancel_(finish_on_cancel) {}

  void OnRead(const WatchRequest& request) override {
    log_.add("read");
    WatchResponse response;
    response.set_watch_id(request.create_request().start_revision());
    StartWrite(&response);
  }
  void OnWriteDone(bool ok) override { (ok ? log_.writes_ok : log_.writes_failed)++; }
  void OnHalfClose() override {
    log_.add("half-close");
    Finish(rpc::Status::OK);
  }
  void OnCancel() override {
    log_.add("cancel");
    log_.cancelled.set_value();
    if (finish_on_cancel_) Finish(rpc::Status(rpc::StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override {
    log_.add("done");
    log_.writes_ok_at_done = log_.writes_ok.load();
    log_.finish_asked_at_done = log_.finish_asked.load();
    StreamLog& record = log_;
    delete this;
    record.done.set_value();  // the last touch: the test may drop the log from here on
  }

 private:
  StreamLog& log_;
  bool finish_on_cancel_;
};

WatchRequest watch_request(int64_t id) {
  WatchRequest request;
  request.mutable_create_request()->set_start_revision(id);
  return request;
}

// A PutRequest whose encoding is exactly `size` bytes.
PutRequest put_of_size(std::size_t size) {
  PutRequest request;
  request.set_key("k");
  std::size_t value = size;
  for (;;) {
    request.set_value(std::string(value, 'v'));
    const std::size_t now = request.ByteSizeLong();
    if (now == size) return request;
    value -= now - size;  // the value's length prefix shrinks by a byte at most
  }
}

// 32 KiB whose bytes depend on the message's index, so that a swap or a loss shows.
std::string chunk(int index) {
  std::string bytes(32 << 10, '\0');
  for (std::size_t j = 0; j < bytes.size(); ++j) {
    bytes[j] = static_cast<char>((static_cast<std::size_t>(index) * 131 + j * 7 + (j >> 8)) & 0xff);
  }
  return bytes;
}

// Runs `job` on a thread of its own; fails the test (and aborts, since the job would outlive
// what it uses) when it does not return within kWait.
void returns_in_time(const std::function<void()>& job, const char* what) {
  std::promise<void> returned;
  auto future = returned.get_future();
  std::thread thread([&] {
    job();
    returned.set_value();
  });
  if (future.wait_for(kWait) != std::future_status::ready) {
    FAIL_CHECK(what << " did not return within " << kWait.count() << " s");
    std::fprintf(stderr, "%s hangs; aborting\n", what);
    std::abort();
  }
  thread.join();
}

}  // namespace

TEST_CASE("rpc: a unary call answered later from another thread arrives", "[rpc]") {
  Server s;
  struct Held {
    rpc::Responder responder;
    std::thread::id thread;
    std::string key;
  };
  std::promise<Held> held;
  auto held_future = held.get_future();
  s.server.add_unary<PutRequest>(kPut, [&](const PutRequest& request, rpc::Responder responder) {
    held.set_value(Held{std::move(responder), std::this_thread::get_id(), request.key()});
  });
  s.server.start();
  TcpFront front(s.server);
  auto stub = KV::NewStub(grpc::CreateChannel(front.target(), grpc::InsecureChannelCredentials()));

  grpc::ClientContext context;
  bound(context);
  PutRequest request;
  request.set_key("later");
  PutResponse response;
  std::promise<grpc::Status> answered;
  auto answered_future = answered.get_future();
  stub->async()->Put(&context, &request, &response,
                     [&](grpc::Status status) { answered.set_value(std::move(status)); });

  Held call = await(held_future, "the handler");
  CHECK(call.key == "later");
  CHECK(call.thread == s.io_id());  // unary handlers run on the I/O thread
  CHECK_FALSE(is_ready(answered_future));  // nothing answered yet, so nothing arrived

  std::thread answerer([responder = call.responder] {
    PutResponse late;
    late.mutable_header()->set_revision(42);
    responder.finish(late);
    responder.fail(rpc::Status(rpc::StatusCode::INTERNAL, "too late"));  // the first counts
  });
  answerer.join();
  const grpc::Status status = await(answered_future, "the answer");
  CHECK(status.ok());
  CHECK(status.error_message().empty());
  CHECK(response.header().revision() == 42);
  CHECK(s.server.connections() == 1);
}

TEST_CASE("rpc: many concurrent unary calls on one connection each get their own answer",
          "[rpc]") {
  constexpr int kCalls = 200;
  Server s;
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<std::pair<std::string, rpc::Responder>> held;
  s.server.add_unary<PutRequest>(kPut, [&](const PutRequest& request, rpc::Responder responder) {
    std::lock_guard lock(mutex);
    held.emplace_back(request.key(), std::move(responder));
    arrived.notify_all();
  });
  s.server.start();
  auto stub = KV::NewStub(connect(s.server));

  struct Call {
    grpc::ClientContext context;
    PutRequest request;
    PutResponse response;
    grpc::Status status;
  };
  std::vector<Call> calls(kCalls);
  std::atomic<int> finished{0};
  std::promise<void> all_finished;
  auto all_finished_future = all_finished.get_future();
  for (int i = 0; i < kCalls; ++i) {
    Call& call = calls[static_cast<std::size_t>(i)];
    bound(call.context);
    call.request.set_key("key-" + std::to_string(i));
    stub->async()->Put(&call.context, &call.request, &call.response,
                       [&call, &finished, &all_finished](grpc::Status status) {
                         call.status = std::move(status);
                         if (++finished == kCalls) all_finished.set_value();
                       });
  }
  // All of them reach their handler before any is answered: they are open at once.
  {
    std::unique_lock lock(mutex);
    REQUIRE(arrived.wait_for(lock, kWait, [&] { return held.size() == kCalls; }));
  }
  CHECK(finished == 0);
  std::map<std::string, int> keys;
  for (const auto& [key, responder] : held) keys[key]++;
  CHECK(keys.size() == kCalls);
  // Answered in the reverse order, from another thread: each answer names its own call.
  std::thread answerer([&held] {
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      PutResponse response;
      response.mutable_header()->set_revision(std::stoll(it->first.substr(4)));
      response.mutable_prev_kv()->set_key(it->first);
      it->second.finish(response);
    }
  });
  answerer.join();
  await(all_finished_future, "every answer");
  int right = 0;
  for (int i = 0; i < kCalls; ++i) {
    const Call& call = calls[static_cast<std::size_t>(i)];
    if (call.status.ok() && call.response.header().revision() == i &&
        call.response.prev_kv().key() == call.request.key()) {
      ++right;
    } else {
      FAIL_CHECK("call " << i << ": " << call.status.error_code() << " "
                         << call.status.error_message() << ", revision "
                         << call.response.header().revision());
    }
  }
  CHECK(right == kCalls);
  CHECK(s.server.connections() == 1);
}

TEST_CASE("rpc: a handler's failure arrives with its code and message intact", "[rpc]") {
  Server s;
  // The request says how to fail: its lease is the code, its value the message.
  s.server.add_unary<PutRequest>(kPut, [](const PutRequest& request, rpc::Responder responder) {
    responder.fail(rpc::Status(static_cast<rpc::StatusCode>(request.lease()), request.value()));
  });
  s.server.start();
  auto stub = KV::NewStub(connect(s.server));

  const std::vector<std::pair<grpc::StatusCode, std::string>> cases = {
      {grpc::StatusCode::FAILED_PRECONDITION, "etcdserver: requested lease not found"},
      {grpc::StatusCode::INVALID_ARGUMENT, "100% sure: %41 and %zz and a lone % stay as sent"},
      {grpc::StatusCode::UNAVAILABLE, "line one\nline two\r\n\ttabbed"},
      {grpc::StatusCode::PERMISSION_DENIED,
       "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91 and bytes \x01\x7f\xfe\xff"},
      {grpc::StatusCode::OUT_OF_RANGE, std::string("a nul \0 inside", 14)},
      {grpc::StatusCode::NOT_FOUND, ""},
  };
  for (const auto& [code, message] : cases) {
    grpc::ClientContext context;
    bound(context);
    PutRequest request;
    request.set_lease(static_cast<int64_t>(code));
    request.set_value(message);
    PutResponse response;
    const grpc::Status status = stub->Put(&context, request, &response);
    INFO("code " << code);
    CHECK(status.error_code() == code);
    CHECK(status.error_message() == message);
  }
}

TEST_CASE("rpc: an unknown method or service gets UNIMPLEMENTED", "[rpc]") {
  Server s;
  add_echo_put(s.server);
  s.server.start();
  auto channel = connect(s.server);
  auto kv = KV::NewStub(channel);
  {
    grpc::ClientContext context;
    bound(context);
    RangeResponse response;
    const grpc::Status status = kv->Range(&context, RangeRequest(), &response);
    CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
    CHECK(status.error_message() == "unknown method Range for service etcdserverpb.KV");
  }
  {
    grpc::ClientContext context;
    bound(context);
    etcdserverpb::LeaseGrantResponse response;
    auto lease = Lease::NewStub(channel);
    const grpc::Status status =
        lease->LeaseGrant(&context, etcdserverpb::LeaseGrantRequest(), &response);
    CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
    CHECK(status.error_message() == "unknown service etcdserverpb.Lease");
  }
  {  // a stream is refused the same way, before any message
    grpc::ClientContext context;
    bound(context);
    auto watch = Watch::NewStub(channel);
    auto stream = watch->Watch(&context);
    WatchResponse response;
    CHECK_FALSE(stream->Read(&response));
    const grpc::Status status = stream->Finish();
    CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
    CHECK(status.error_message() == "unknown service etcdserverpb.Watch");
  }
  CHECK(echo_works(*kv, "still served"));
}

TEST_CASE("rpc: a declined service's every method gets UNIMPLEMENTED with the reason given",
          "[rpc]") {
  Server s;
  add_echo_put(s.server);
  s.server.decline_service("etcdserverpb.Lease", "leases live elsewhere; ask the other server");
  s.server.start();
  auto channel = connect(s.server);
  auto lease = Lease::NewStub(channel);
  {
    grpc::ClientContext context;
    bound(context);
    etcdserverpb::LeaseGrantResponse response;
    const grpc::Status status =
        lease->LeaseGrant(&context, etcdserverpb::LeaseGrantRequest(), &response);
    CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
    CHECK(status.error_message() == "leases live elsewhere; ask the other server");
  }
  {  // a stream of the same service, before any message
    grpc::ClientContext context;
    bound(context);
    auto stream = lease->LeaseKeepAlive(&context);
    etcdserverpb::LeaseKeepAliveResponse response;
    CHECK_FALSE(stream->Read(&response));
    const grpc::Status status = stream->Finish();
    CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
    CHECK(status.error_message() == "leases live elsewhere; ask the other server");
  }
  auto kv = KV::NewStub(channel);
  CHECK(echo_works(*kv, "still served"));
}

TEST_CASE("rpc: an over-limit request gets RESOURCE_EXHAUSTED and the connection serves on",
          "[rpc]") {
  constexpr std::size_t kLimit = 64 << 10;
  rpc::RpcServer::Options options;
  options.max_receive_bytes = kLimit;
  Server s(options);
  std::promise<rpc::Responder> held;
  auto held_future = held.get_future();
  s.server.add_unary<PutRequest>(kPut, [&](const PutRequest& request, rpc::Responder responder) {
    if (request.key() == "hold") return held.set_value(std::move(responder));
    PutResponse response;
    response.mutable_header()->set_revision(static_cast<int64_t>(request.value().size()));
    responder.finish(response);
  });
  s.server.start();
  auto stub = KV::NewStub(connect(s.server));

  // A call left open across the refusals, answered after them.
  grpc::ClientContext held_context;
  bound(held_context);
  PutRequest held_request;
  held_request.set_key("hold");
  PutResponse held_response;
  std::promise<grpc::Status> held_status;
  auto held_status_future = held_status.get_future();
  stub->async()->Put(&held_context, &held_request, &held_response,
                     [&](grpc::Status status) { held_status.set_value(std::move(status)); });
  rpc::Responder responder = await(held_future, "the held call's handler");

  auto put = [&](const PutRequest& request) {
    grpc::ClientContext context;
    bound(context);
    PutResponse response;
    grpc::Status status = stub->Put(&context, request, &response);
    return std::make_pair(status, response);
  };
  // Exactly the limit passes; a byte more, or a megabyte more, does not.
  auto [at_limit, at_limit_response] = put(put_of_size(kLimit));
  CHECK(at_limit.ok());
  CHECK(at_limit_response.header().revision() > 0);
  for (const std::size_t size : {kLimit + 1, std::size_t{1} << 20, std::size_t{3} << 20}) {
    INFO("a request of " << size << " bytes");
    auto [status, response] = put(put_of_size(size));
    CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(status.error_message() == "grpc: received message larger than max (" +
                                        std::to_string(size) + " vs. " + std::to_string(kLimit) +
                                        ")");
    auto [after, after_response] = put(put_of_size(100));  // the same connection serves on
    CHECK(after.ok());
    CHECK(after_response.header().revision() > 0);
  }
  CHECK_FALSE(is_ready(held_status_future));
  PutResponse late;
  late.mutable_header()->set_revision(5);
  responder.finish(late);
  CHECK(await(held_status_future, "the held call's answer").ok());
  CHECK(held_response.header().revision() == 5);
  CHECK(s.server.connections() == 1);
}

TEST_CASE("rpc: an over-limit message on a bidi stream ends it with OnCancel then OnDone",
          "[rpc]") {
  constexpr std::size_t kLimit = 64 << 10;
  rpc::RpcServer::Options options;
  options.max_receive_bytes = kLimit;
  Server s(options);
  std::array<StreamLog, 2> logs;
  std::atomic<std::size_t> made{0};
  s.server.add_bidi<WatchRequest, WatchResponse>(kWatch, [&](const rpc::CallInfo&) {
    return new EchoReactor(logs[made++ % logs.size()], true);
  });
  s.server.start();
  auto stub = Watch::NewStub(connect(s.server));

  grpc::ClientContext context;
  bound(context);
  auto stream = stub->Watch(&context);
  REQUIRE(stream->Write(watch_request(1)));
  WatchResponse response;
  REQUIRE(stream->Read(&response));
  WatchRequest big = watch_request(2);
  big.mutable_create_request()->set_key(std::string(kLimit, 'k'));
  stream->Write(big);  // the server may have refused the stream before the client is done
  CHECK_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message() == "grpc: received message larger than max (" +
                                      std::to_string(big.ByteSizeLong()) + " vs. " +
                                      std::to_string(kLimit) + ")");
  // The reactor never called Finish: it hears of the end (OnCancel), finishes, and is done.
  await(logs[0].done_future, "the refused stream's OnDone");
  CHECK(logs[0].seen() == std::vector<std::string>{"read", "cancel", "done"});

  grpc::ClientContext other_context;  // the connection serves on
  bound(other_context);
  auto other = stub->Watch(&other_context);
  REQUIRE(other->Write(watch_request(3)));
  REQUIRE(other->Read(&response));
  CHECK(response.watch_id() == 3);
  REQUIRE(other->WritesDone());
  CHECK(other->Finish().ok());
  await(logs[1].done_future, "the second stream's OnDone");
}

TEST_CASE("rpc: blocking handlers run on workers and may wait", "[rpc]") {
  Server s;
  std::promise<void> second_arrived;
  std::shared_future<void> second = second_arrived.get_future().share();
  std::mutex mutex;
  std::vector<std::thread::id> threads;
  s.server.add_blocking<RangeRequest, RangeResponse>(
      kRange, [&](const RangeRequest& request, RangeResponse& response, const rpc::CallInfo&) {
        {
          std::lock_guard lock(mutex);
          threads.push_back(std::this_thread::get_id());
        }
        if (request.key() == "first") {
          // Waits for a call that comes after it: the I/O thread and the other workers go on.
          if (second.wait_for(kWait) != std::future_status::ready) {
            return rpc::Status(rpc::StatusCode::DEADLINE_EXCEEDED, "the second never came");
          }
        } else {
          second_arrived.set_value();
        }
        response.add_kvs()->set_key(request.key());
        response.set_count(1);
        return rpc::Status::OK;
      });
  s.server.start();
  auto stub = KV::NewStub(connect(s.server));

  grpc::ClientContext first_context;
  bound(first_context);
  RangeRequest first_request;
  first_request.set_key("first");
  RangeResponse first_response;
  std::promise<grpc::Status> first_status;
  auto first_future = first_status.get_future();
  stub->async()->Range(&first_context, &first_request, &first_response,
                       [&](grpc::Status status) { first_status.set_value(std::move(status)); });

  grpc::ClientContext context;
  bound(context);
  RangeRequest request;
  request.set_key("second");
  RangeResponse response;
  const grpc::Status status = stub->Range(&context, request, &response);
  REQUIRE(status.ok());
  REQUIRE(response.kvs_size() == 1);
  CHECK(response.kvs(0).key() == "second");

  const grpc::Status first = await(first_future, "the first call");
  CHECK(first.ok());
  CHECK(first.error_message().empty());
  REQUIRE(first_response.kvs_size() == 1);
  CHECK(first_response.kvs(0).key() == "first");
  std::lock_guard lock(mutex);
  REQUIRE(threads.size() == 2);
  CHECK(threads[0] != threads[1]);
  CHECK(threads[0] != s.io_id());
  CHECK(threads[1] != s.io_id());
}

TEST_CASE("rpc: a server stream of 8 MiB in 32 KiB messages arrives whole and in order",
          "[rpc]") {
  constexpr int kChunks = 256;
  Server s;
  std::atomic<int> written{0};
  s.server.add_server_stream<SnapshotRequest, SnapshotResponse>(
      kSnapshot,
      [&](const SnapshotRequest&, rpc::Writer<SnapshotResponse>& writer, const rpc::CallInfo&) {
        for (int i = 0; i < kChunks; ++i) {
          SnapshotResponse response;
          response.set_remaining_bytes(static_cast<uint64_t>(kChunks - 1 - i) * (32 << 10));
          response.set_blob(chunk(i));
          if (!writer.Write(response)) return rpc::Status(rpc::StatusCode::ABORTED, "left");
          ++written;
        }
        return rpc::Status::OK;
      });
  s.server.start();
  auto stub = Maintenance::NewStub(connect(s.server));

  grpc::ClientContext context;
  bound(context);
  auto reader = stub->Snapshot(&context, SnapshotRequest());
  SnapshotResponse response;
  int received = 0;
  int wrong = 0;
  while (reader->Read(&response)) {
    if (response.blob() != chunk(received) ||
        response.remaining_bytes() != static_cast<uint64_t>(kChunks - 1 - received) * (32 << 10)) {
      ++wrong;
    }
    ++received;
  }
  const grpc::Status status = reader->Finish();
  CHECK(status.ok());
  CHECK(status.error_message().empty());
  CHECK(received == kChunks);
  CHECK(wrong == 0);
  CHECK(written == kChunks);
}

TEST_CASE("rpc: a client that cancels mid-stream makes Writer::Write return false", "[rpc]") {
  Server s;
  std::promise<void> first_written;
  struct Outcome {
    int writes = 0;  // that returned true
    bool refused = false;
    bool cancelled = false;
  };
  std::promise<Outcome> outcome;
  auto first_future = first_written.get_future();
  auto outcome_future = outcome.get_future();
  s.server.add_server_stream<SnapshotRequest, SnapshotResponse>(
      kSnapshot, [&](const SnapshotRequest&, rpc::Writer<SnapshotResponse>& writer,
                     const rpc::CallInfo& info) {
        Outcome result;
        SnapshotResponse response;
        response.set_blob(chunk(0));
        for (int i = 0; i < (1 << 16); ++i) {  // 2 GiB: far past anything the client reads
          if (!writer.Write(response)) {
            result.refused = true;
            break;
          }
          if (++result.writes == 1) first_written.set_value();
        }
        result.cancelled = info.cancelled();
        outcome.set_value(result);
        return rpc::Status(rpc::StatusCode::ABORTED, "the client left");
      });
  s.server.start();
  auto stub = Maintenance::NewStub(connect(s.server));

  grpc::ClientContext context;
  bound(context);
  auto reader = stub->Snapshot(&context, SnapshotRequest());
  SnapshotResponse response;
  for (int i = 0; i < 3; ++i) REQUIRE(reader->Read(&response));
  await(first_future, "the first write");
  context.TryCancel();
  const Outcome result = await(outcome_future, "the handler's end");
  CHECK(result.refused);
  CHECK(result.cancelled);
  CHECK(result.writes >= 3);
  while (reader->Read(&response)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
}

TEST_CASE("rpc: a bidi echo stream answers each request and finishes after the half-close",
          "[rpc]") {
  constexpr int kMessages = 100;
  Server s;
  StreamLog log;
  auto& done = log.done_future;
  s.server.add_bidi<WatchRequest, WatchResponse>(
      kWatch, [&](const rpc::CallInfo&) { return new EchoReactor(log, true); });
  s.server.start();
  auto stub = Watch::NewStub(connect(s.server));

  grpc::ClientContext context;
  bound(context);
  auto stream = stub->Watch(&context);
  WatchResponse response;
  int wrong = 0;
  // Half one at a time, half all written before any is read.
  for (int i = 0; i < kMessages / 2; ++i) {
    REQUIRE(stream->Write(watch_request(i)));
    REQUIRE(stream->Read(&response));
    if (response.watch_id() != i) ++wrong;
  }
  for (int i = kMessages / 2; i < kMessages; ++i) REQUIRE(stream->Write(watch_request(i)));
  for (int i = kMessages / 2; i < kMessages; ++i) {
    REQUIRE(stream->Read(&response));
    if (response.watch_id() != i) ++wrong;
  }
  CHECK(wrong == 0);
  REQUIRE(stream->WritesDone());
  CHECK_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  CHECK(status.ok());
  await(done, "OnDone");
  std::vector<std::string> expected(kMessages, "read");
  expected.push_back("half-close");
  expected.push_back("done");
  CHECK(log.seen() == expected);
  CHECK(log.writes_ok_at_done == kMessages);  // every OnWriteDone came before OnDone
  CHECK(log.writes_failed == 0);
}

TEST_CASE("rpc: a client cancelling a bidi stream gives OnCancel then OnDone", "[rpc]") {
  Server s;
  StreamLog log;
  auto& done = log.done_future;
  s.server.add_bidi<WatchRequest, WatchResponse>(
      kWatch, [&](const rpc::CallInfo&) { return new EchoReactor(log, true); });
  s.server.start();
  auto stub = Watch::NewStub(connect(s.server));

  grpc::ClientContext context;
  bound(context);
  auto stream = stub->Watch(&context);
  REQUIRE(stream->Write(watch_request(1)));
  WatchResponse response;
  REQUIRE(stream->Read(&response));
  CHECK(response.watch_id() == 1);
  context.TryCancel();
  CHECK(stream->Finish().error_code() == grpc::StatusCode::CANCELLED);
  await(done, "OnDone");
  CHECK(log.seen() == std::vector<std::string>{"read", "cancel", "done"});
  CHECK(log.writes_ok_at_done == 1);
}

TEST_CASE("rpc: a reactor that delays Finish after OnCancel gets OnDone only once it finishes",
          "[rpc]") {
  Server s;
  StreamLog log;
  auto& cancelled = log.cancelled_future;
  auto& done = log.done_future;
  std::promise<EchoReactor*> made;
  auto made_future = made.get_future();
  s.server.add_bidi<WatchRequest, WatchResponse>(kWatch, [&](const rpc::CallInfo&) {
    auto* reactor = new EchoReactor(log, false);
    made.set_value(reactor);
    return reactor;
  });
  add_echo_put(s.server);
  s.server.start();
  auto channel = connect(s.server);
  auto stub = Watch::NewStub(channel);
  auto kv = KV::NewStub(channel);

  grpc::ClientContext context;
  bound(context);
  auto stream = stub->Watch(&context);
  REQUIRE(stream->Write(watch_request(1)));
  WatchResponse response;
  REQUIRE(stream->Read(&response));
  EchoReactor* reactor = await(made_future, "the reactor");
  context.TryCancel();
  CHECK(stream->Finish().error_code() == grpc::StatusCode::CANCELLED);
  await(cancelled, "OnCancel");
  // A call answered on the I/O thread after OnCancel: whatever followed OnCancel there ran.
  REQUIRE(echo_works(*kv, "barrier"));
  CHECK_FALSE(is_ready(done));
  log.finish_asked = true;
  reactor->Finish(rpc::Status::OK);  // from the test's thread, well after the stream closed
  await(done, "OnDone");
  CHECK(log.finish_asked_at_done);
  CHECK(log.seen() == std::vector<std::string>{"read", "cancel", "done"});
}

TEST_CASE("rpc: stop() with open streams and a blocked Writer cancels them all and returns",
          "[rpc]") {
  Server s;
  std::array<StreamLog, 2> logs;
  std::atomic<std::size_t> made{0};
  s.server.add_bidi<WatchRequest, WatchResponse>(kWatch, [&](const rpc::CallInfo&) {
    return new EchoReactor(logs[made++ % logs.size()], true);
  });
  std::promise<void> writing;
  struct Outcome {
    int writes = 0;
    bool refused = false;
    bool cancelled = false;
  };
  std::promise<Outcome> outcome;
  auto writing_future = writing.get_future();
  auto outcome_future = outcome.get_future();
  s.server.add_server_stream<SnapshotRequest, SnapshotResponse>(
      kSnapshot, [&](const SnapshotRequest&, rpc::Writer<SnapshotResponse>& writer,
                     const rpc::CallInfo& info) {
        // 3 MiB a message to a client that reads none: the first already waits on the
        // client's flow-control window.
        SnapshotResponse response;
        response.set_blob(std::string(3 << 20, 'b'));
        Outcome result;
        writing.set_value();
        for (int i = 0; i < 64; ++i) {
          if (!writer.Write(response)) {
            result.refused = true;
            break;
          }
          ++result.writes;
        }
        result.cancelled = info.cancelled();
        outcome.set_value(result);
        return rpc::Status::OK;
      });
  s.server.start();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // the window stays small while nothing is read
  auto channel = connect(s.server, args);
  auto watch = Watch::NewStub(channel);
  auto maintenance = Maintenance::NewStub(channel);

  std::array<grpc::ClientContext, 2> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<WatchRequest, WatchResponse>>> streams;
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    bound(contexts[i]);
    streams.push_back(watch->Watch(&contexts[i]));
    REQUIRE(streams.back()->Write(watch_request(static_cast<int64_t>(i))));
    WatchResponse response;
    REQUIRE(streams.back()->Read(&response));
  }
  grpc::ClientContext snapshot_context;
  bound(snapshot_context);
  auto reader = maintenance->Snapshot(&snapshot_context, SnapshotRequest());
  await(writing_future, "the writer's first write");

  returns_in_time([&] { s.server.stop(); }, "stop()");
  const Outcome result = await(outcome_future, "the writer's end");
  CHECK(result.refused);
  CHECK(result.cancelled);
  CHECK(result.writes == 0);  // it was blocked in its first Write
  for (auto& stream_log : logs) {
    await(stream_log.done_future, "a reactor's OnDone");
    CHECK(stream_log.seen() == std::vector<std::string>{"read", "cancel", "done"});
  }
  CHECK(made == logs.size());
  CHECK(s.server.connections() == 0);

  for (auto& stream : streams) CHECK_FALSE(stream->Finish().ok());
  snapshot_context.TryCancel();
  CHECK_FALSE(reader->Finish().ok());
}

TEST_CASE("rpc: garbage on a connection closes it and the server serves other connections",
          "[rpc]") {
  Server s;
  add_echo_put(s.server);
  s.server.start();
  auto kv = KV::NewStub(connect(s.server));
  REQUIRE(echo_works(*kv, "before"));

  std::string garbage;
  SECTION("not HTTP/2 at all") {
    garbage = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
  }
  SECTION("HTTP/2's preface, then frames that are not") {
    garbage = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
              std::string("\xff\xff\xff\x01\x00\x00\x00\x00\x00", 9);  // HEADERS on stream 0
  }
  uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1103515245 + 12345;
    garbage.push_back(static_cast<char>(x >> 24));
  }
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  s.server.serve(pair[0]);
  // The server may close before it read everything: a refused send is fine.
  [[maybe_unused]] auto sent =
      ::send(pair[1], garbage.data(), garbage.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{pair[1], POLLIN, 0};
    if (::poll(&fd, 1, 1000) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(pair[1], buffer, sizeof buffer);  // the server's SETTINGS, GOAWAY
    closed = n == 0 || (n < 0 && errno == ECONNRESET);
  }
  ::close(pair[1]);
  CHECK(closed);
  CHECK(echo_works(*kv, "after"));
  // The I/O thread answered that call after the close finished: one connection left.
  CHECK(s.server.connections() == 1);
  auto other = KV::NewStub(connect(s.server));
  CHECK(echo_works(*other, "a new connection"));
}
