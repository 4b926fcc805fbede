// rpc_client_test.cpp: the store's own gRPC client connection (store/rpc/rpc_client.h) on its
// EventLoop, against our own RpcServer over loopback TCP (127.0.0.1): a unary call started
// before the connection is up; statuses with percent-encoded messages; unknown methods; a bidi
// echo stream of 1000 messages; an 8 MiB request past the HTTP/2 windows, with pending() and
// on_drained; a refused connect, a connect that never completes and a silent server (keepalive);
// a deadline; cancel() (also from inside on_message); the server stopping; on_connected. Against
// a hand-made HTTP/2 server (RawServer, the fuzzer's finds): a grpc-status that is no gRPC code,
// a server that breaks HTTP/2, a stream whose server side ends while the client's is open, and
// GOAWAY.
// Every wait is bounded (futures and condition variables with a timeout); none relies on a
// sleep. Every client method runs on the client's loop (ClientLoop::run); its handlers only
// record (CallLog), and the test thread checks, since Catch2's assertions are not thread-safe.
#include "store/rpc/rpc_client.h"
#include "test/store/rpc/rpc_test_waits.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "etcd/rpc.pb.h"
#include "store/rpc/event_loop.h"
#include "store/rpc/rpc_server.h"

namespace rpc = mgmt::rpc;
using etcdserverpb::PutRequest;
using etcdserverpb::PutResponse;
using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;
using namespace std::chrono_literals;
using namespace mgmt::test::rpc_waits;

namespace {

// The client's loop, and the connections opened on it. Every client method is called through
// run(), on the loop's thread; the connections end there too (their sockets and timers belong
// to the loop), before the loop stops. Declared after the server, so that it goes first.
class ClientLoop {
 public:
  ClientLoop() { loop.start(); }
  ~ClientLoop() {
    run([this] {
      for (auto& connection : connections_) {
        connection->close(rpc::Status(rpc::StatusCode::CANCELLED, "the test is over"));
      }
      connections_.clear();
    });
    loop.stop();
  }
  ClientLoop(const ClientLoop&) = delete;
  ClientLoop& operator=(const ClientLoop&) = delete;

  // Runs `job` on the loop's thread and returns its value. A job that does not return within
  // kWait aborts the run: it uses the caller's stack, so the test cannot go on without it.
  template <typename Job>
  auto run(Job job) -> decltype(job()) {
    using Result = decltype(job());
    std::promise<Result> done;
    auto future = done.get_future();
    loop.post([&] {
      if constexpr (std::is_void_v<Result>) {
        job();
        done.set_value();
      } else {
        done.set_value(job());
      }
    });
    if (future.wait_for(kWait) != std::future_status::ready) {
      std::fprintf(stderr, "a job on the client's loop did not return in time; aborting\n");
      std::abort();
    }
    return future.get();
  }

  // Dials 127.0.0.1:`port`; `then` runs in the same turn of the loop, right after open().
  std::shared_ptr<rpc::ClientConnection> open(
      int port, rpc::ClientOptions options = {},
      const std::function<void(rpc::ClientConnection&)>& then = nullptr) {
    return run([&] {
      auto connection =
          rpc::ClientConnection::open(loop, "127.0.0.1", std::to_string(port), std::move(options));
      connections_.push_back(connection);
      if (then) then(*connection);
      return connection;
    });
  }

  rpc::EventLoop loop;

 private:
  std::vector<std::shared_ptr<rpc::ClientConnection>> connections_;
};

// What one call's handlers saw, in order. Handlers hold it by shared_ptr (a handler may run
// after the test's locals are gone, e.g. from ClientLoop's destructor).
struct CallLog {
  explicit CallLog(rpc::EventLoop& client_loop) : loop(client_loop) {}

  rpc::EventLoop& loop;
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;  // "message", "drained", "close", and what tests note
  std::vector<std::string> messages;
  std::vector<rpc::Status> closes;
  int off_loop = 0;  // handlers that ran on another thread than the loop's

  void note(const std::string& event, const std::string* message = nullptr,
            const rpc::Status* status = nullptr) {
    const bool on_loop = loop.on_this_thread();
    std::lock_guard lock(mutex);
    events.push_back(event);
    if (message != nullptr) messages.push_back(*message);
    if (status != nullptr) closes.push_back(*status);
    if (!on_loop) ++off_loop;
    changed.notify_all();
  }

  static rpc::CallHandlers handlers(const std::shared_ptr<CallLog>& log) {
    rpc::CallHandlers handlers;
    handlers.on_message = [log](const std::string& message) { log->note("message", &message); };
    handlers.on_drained = [log] { log->note("drained"); };
    handlers.on_close = [log](const rpc::Status& status) { log->note("close", nullptr, &status); };
    return handlers;
  }

  // True once `ready` holds (checked under the lock), within `timeout`.
  template <typename Ready>
  bool wait(Ready ready, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return ready(*this); });
  }
  bool wait_closed(std::chrono::milliseconds timeout = kWait) {
    return wait([](const CallLog& log) { return !log.closes.empty(); }, timeout);
  }
  bool wait_messages(std::size_t n) {
    return wait([n](const CallLog& log) { return log.messages.size() >= n; });
  }

  rpc::Status status() const {
    std::lock_guard lock(mutex);
    return closes.empty() ? rpc::Status(rpc::StatusCode::UNKNOWN, "no on_close") : closes.front();
  }
  std::size_t close_count() const {
    std::lock_guard lock(mutex);
    return closes.size();
  }
  std::vector<std::string> seen() const {
    std::lock_guard lock(mutex);
    return events;
  }
  std::vector<std::string> received() const {
    std::lock_guard lock(mutex);
    return messages;
  }
  int handlers_off_loop() const {
    std::lock_guard lock(mutex);
    return off_loop;
  }
};

// Counts the calls of a handler (on_connected), for the test thread to wait on.
struct Counter {
  std::mutex mutex;
  std::condition_variable changed;
  int count = 0;
  bool on_loop = true;  // every call ran on the loop's thread

  void hit(bool on_loop_thread) {
    std::lock_guard lock(mutex);
    ++count;
    on_loop = on_loop && on_loop_thread;
    changed.notify_all();
  }
  bool wait_for_one() {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, kWait, [&] { return count > 0; });
  }
  int value() {
    std::lock_guard lock(mutex);
    return count;
  }
};

// A socket listening on 127.0.0.1 (port 0: the kernel picks one).
class Listener {
 public:
  explicit Listener(int backlog = 16) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    auto* any = reinterpret_cast<sockaddr*>(&address);
    REQUIRE(::bind(fd_, any, sizeof address) == 0);
    REQUIRE(::listen(fd_, backlog) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(fd_, any, &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { close(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int port() const { return port_; }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // The next connection, accepted within kWait (-1 when none came).
  int accept_one() {
    pollfd fds{fd_, POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      const int ready = ::poll(&fds, 1, 1000);
      if (ready < 0 && errno != EINTR) return -1;
      if (ready > 0) return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }
    return -1;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port on 127.0.0.1 whose accepted connections go to the server, as the store's listener
// hands them.
class TcpFront {
 public:
  explicit TcpFront(rpc::RpcServer& server) {
    REQUIRE(::pipe2(wake_, O_CLOEXEC) == 0);
    thread_ = std::thread([this, &server] {
      for (;;) {
        pollfd fds[2] = {{listener_.fd(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
        if (fds[1].revents != 0) return;
        if ((fds[0].revents & POLLIN) == 0) continue;
        const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) server.serve(fd);
      }
    });
  }
  ~TcpFront() {
    [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
    thread_.join();
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpFront(const TcpFront&) = delete;
  TcpFront& operator=(const TcpFront&) = delete;

  int port() const { return listener_.port(); }

 private:
  Listener listener_;
  int wake_[2] = {-1, -1};
  std::thread thread_;
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

PutRequest put_request(const std::string& key, int64_t lease) {
  PutRequest request;
  request.set_key(key);
  request.set_lease(lease);
  return request;
}

PutResponse put_response(const std::string& bytes) {
  PutResponse response;
  REQUIRE(response.ParseFromString(bytes));
  return response;
}

// What a bidi reactor went through, for the test thread to check.
struct StreamLog {
  std::mutex mutex;
  std::vector<std::string> events;
  std::atomic<int> writes_ok{0};
  std::atomic<int> writes_failed{0};
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
  // The events with the run of "read"s at their start counted instead of listed.
  std::pair<int, std::vector<std::string>> reads_then() {
    std::lock_guard lock(mutex);
    int reads = 0;
    while (static_cast<std::size_t>(reads) < events.size() && events[reads] == "read") ++reads;
    return {reads, std::vector<std::string>(events.begin() + reads, events.end())};
  }
};

// Answers each WatchRequest with a WatchResponse whose watch_id is the request's
// start_revision; finishes with OK on the half-close, and with CANCELLED on a cancel.
class EchoReactor final : public rpc::BidiReactor<WatchRequest, WatchResponse> {
 public:
  explicit EchoReactor(StreamLog& log) : log_(log) {}

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
    Finish(rpc::Status(rpc::StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override {
    log_.add("done");
    StreamLog& record = log_;
    delete this;
    record.done.set_value();  // the last touch: the test may drop the log from here on
  }

 private:
  StreamLog& log_;
};

std::string watch_request(int64_t id) {
  WatchRequest request;
  request.mutable_create_request()->set_start_revision(id);
  return request.SerializeAsString();
}

int64_t watch_id(const std::string& bytes) {
  WatchResponse response;
  if (!response.ParseFromString(bytes)) return -1;
  return response.watch_id();
}

// Bytes that depend on their index, so that a loss or a swap shows.
std::string pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t j = 0; j < size; ++j) bytes[j] = static_cast<char>((j * 7 + (j >> 8)) & 0xff);
  return bytes;
}

// A PutRequest whose encoding is exactly `size` bytes, its value a pattern().
PutRequest put_of_size(std::size_t size) {
  PutRequest request;
  request.set_key("k");
  std::size_t value = size;
  for (;;) {
    request.set_value(pattern(value));
    const std::size_t now = request.ByteSizeLong();
    if (now == size) return request;
    value -= now - size;  // the value's length prefix shrinks by a byte at most
  }
}

uint64_t fnv1a(const std::string& bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Hand-made HTTP/2, for a server that sends what RpcServer never would.
constexpr uint8_t kData = 0x0;
constexpr uint8_t kHeaders = 0x1;
constexpr uint8_t kRstStream = 0x3;
constexpr uint8_t kSettings = 0x4;
constexpr uint8_t kGoaway = 0x7;
constexpr uint8_t kEndStream = 0x1;
constexpr uint8_t kAck = 0x1;
constexpr uint8_t kEndHeaders = 0x4;

std::string big_endian32(uint32_t value) {
  std::string bytes;
  for (int shift = 24; shift >= 0; shift -= 8) {
    bytes.push_back(static_cast<char>((value >> shift) & 0xff));
  }
  return bytes;
}

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  const std::string length = big_endian32(static_cast<uint32_t>(payload.size()));
  return length.substr(1) + static_cast<char>(type) + static_cast<char>(flags) +
         big_endian32(stream & 0x7fffffff) + payload;
}

// HEADERS of HPACK literals (without indexing, with new names), each name and value shorter
// than 127 bytes (a length of one byte).
std::string headers_frame(uint32_t stream,
                          const std::vector<std::pair<std::string, std::string>>& fields,
                          bool end_stream) {
  std::string block;
  for (const auto& [name, value] : fields) {
    REQUIRE(name.size() < 127);
    REQUIRE(value.size() < 127);
    block += '\0';
    block += static_cast<char>(name.size());
    block += name;
    block += static_cast<char>(value.size());
    block += value;
  }
  const auto flags = static_cast<uint8_t>(kEndHeaders | (end_stream ? kEndStream : 0));
  return frame(kHeaders, flags, stream, block);
}

// A response's first HEADERS, as a gRPC server sends them.
std::string response_headers(uint32_t stream) {
  return headers_frame(stream, {{":status", "200"}, {"content-type", "application/grpc"}}, false);
}

// One gRPC message (uncompressed, after its 5-byte prefix) in a DATA frame.
std::string message_frame(uint32_t stream, const std::string& message) {
  return frame(kData, 0, stream,
               '\0' + big_endian32(static_cast<uint32_t>(message.size())) + message);
}

// A frame the client sent.
struct Frame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream = 0;
  std::string payload;
};

// One connection the client dialed, served by hand: an empty SETTINGS (and the ACK of the
// client's) first, then what the test sends; a thread of its own reads what the client sends,
// as frames (after its 24-byte preface), until the client closes its end.
class RawServer {
 public:
  RawServer() { REQUIRE(::pipe2(wake_, O_CLOEXEC) == 0); }
  ~RawServer() {
    if (thread_.joinable()) {
      [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
      thread_.join();
    }
    if (fd_ >= 0) ::close(fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  int port() const { return listener_.port(); }

  // Takes the connection the client dialed (within kWait) and starts on it.
  void accept() {
    fd_ = listener_.accept_one();
    REQUIRE(fd_ >= 0);
    thread_ = std::thread([this] { read_client(); });
    send(frame(kSettings, 0, 0, "") + frame(kSettings, kAck, 0, ""));
  }

  // All of `bytes`, in one write (the socket blocks; the client reads all the time).
  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }

  // True once the client sent a frame of `type` on `stream` that has every flag of `flags`,
  // within `timeout`.
  bool wait_frame(uint8_t type, uint32_t stream, uint8_t flags = 0,
                  std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return std::any_of(frames_.begin(), frames_.end(), [&](const Frame& f) {
        return f.type == type && f.stream == stream && (f.flags & flags) == flags;
      });
    });
  }
  // True once the client closed its end (or the socket failed), within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return closed_; });
  }
  std::vector<Frame> frames() {
    std::lock_guard lock(mutex_);
    return frames_;
  }

 private:
  void read_client() {
    std::string buffer;
    std::size_t preface = 24;
    char bytes[16384];
    for (;;) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if (fds[0].revents == 0) continue;
      const ssize_t n = ::read(fd_, bytes, sizeof bytes);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      if (n <= 0) {
        closed_ = true;
        changed_.notify_all();
        return;
      }
      buffer.append(bytes, static_cast<std::size_t>(n));
      const std::size_t skipped = std::min(preface, buffer.size());
      buffer.erase(0, skipped);
      preface -= skipped;
      while (buffer.size() >= 9) {
        const auto* h = reinterpret_cast<const unsigned char*>(buffer.data());
        const std::size_t length = (std::size_t{h[0]} << 16) | (std::size_t{h[1]} << 8) | h[2];
        if (buffer.size() < 9 + length) break;
        Frame f;
        f.type = h[3];
        f.flags = h[4];
        f.stream =
            ((uint32_t{h[5]} & 0x7f) << 24) | (uint32_t{h[6]} << 16) | (uint32_t{h[7]} << 8) | h[8];
        f.payload = buffer.substr(9, length);
        frames_.push_back(std::move(f));
        buffer.erase(0, 9 + length);
      }
      changed_.notify_all();
    }
  }

  Listener listener_;
  int fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Frame> frames_;
  bool closed_ = false;
};

}  // namespace

TEST_CASE("rpc client: a unary call started before the connection is up gets its answer",
          "[rpc_client]") {
  rpc::RpcServer server({});
  add_echo_put(server);
  server.start();
  TcpFront front(server);
  ClientLoop client;

  auto log = std::make_shared<CallLog>(client.loop);
  rpc::ClientConnection::CallId id = 0;
  bool connected_at_start = true;
  auto connection = client.open(front.port(), {}, [&](rpc::ClientConnection& c) {
    connected_at_start = c.connected();
    id = c.start_call(kPut, CallLog::handlers(log));
    c.write(id, put_request("unary", 42).SerializeAsString(), true);
  });
  CHECK_FALSE(connected_at_start);
  CHECK(id > 0);
  REQUIRE(log->wait_closed());
  const rpc::Status status = log->status();
  CHECK(status.ok());
  CHECK(status.error_message().empty());
  const auto messages = log->received();
  REQUIRE(messages.size() == 1);
  const PutResponse response = put_response(messages[0]);
  CHECK(response.header().revision() == 42);
  CHECK(response.prev_kv().key() == "unary");
  CHECK(log->seen() == std::vector<std::string>{"message", "close"});
  CHECK(log->handlers_off_loop() == 0);
  CHECK(client.run([&] { return connection->connected(); }));
  CHECK(client.run([&] { return connection->pending(id); }) == 0);  // the call is forgotten

  // A second call on the same connection, started once it is up.
  auto second = std::make_shared<CallLog>(client.loop);
  client.run([&] {
    const auto call = connection->start_call(kPut, CallLog::handlers(second));
    connection->write(call, put_request("second", 7).SerializeAsString(), true);
  });
  REQUIRE(second->wait_closed());
  CHECK(second->status().ok());
  REQUIRE(second->received().size() == 1);
  CHECK(put_response(second->received()[0]).prev_kv().key() == "second");
  CHECK(server.connections() == 1);
  CHECK(log->close_count() == 1);
}

TEST_CASE("rpc client: a server's failure arrives with its code and exact message",
          "[rpc_client]") {
  rpc::RpcServer server({});
  // The request says how to fail: its lease is the code, its value the message.
  server.add_unary<PutRequest>(kPut, [](const PutRequest& request, rpc::Responder responder) {
    responder.fail(rpc::Status(static_cast<rpc::StatusCode>(request.lease()), request.value()));
  });
  server.start();
  TcpFront front(server);
  ClientLoop client;
  auto connection = client.open(front.port());

  const std::vector<std::pair<rpc::StatusCode, std::string>> cases = {
      {rpc::StatusCode::FAILED_PRECONDITION, "etcdserver: requested lease not found"},
      {rpc::StatusCode::INVALID_ARGUMENT, "100% sure: %41 and %zz and a lone % stay as sent"},
      {rpc::StatusCode::UNAVAILABLE, "line one\nline two\r\n\ttabbed"},
      {rpc::StatusCode::PERMISSION_DENIED,
       "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91 and bytes \x01\x7f\xfe\xff"},
      {rpc::StatusCode::OUT_OF_RANGE, std::string("a nul \0 inside", 14)},
      {rpc::StatusCode::NOT_FOUND, ""},
      {rpc::StatusCode::UNKNOWN, "ends with a lone %"},
  };
  for (const auto& [code, message] : cases) {
    INFO("code " << code << ", message \"" << message << "\"");
    auto log = std::make_shared<CallLog>(client.loop);
    PutRequest request;
    request.set_lease(static_cast<int64_t>(code));
    request.set_value(message);
    client.run([&] {
      const auto id = connection->start_call(kPut, CallLog::handlers(log));
      connection->write(id, request.SerializeAsString(), true);
    });
    REQUIRE(log->wait_closed());
    const rpc::Status status = log->status();
    CHECK(status.error_code() == code);
    CHECK(status.error_message() == message);
    CHECK(log->received().empty());
    CHECK(log->close_count() == 1);
  }
}

TEST_CASE("rpc client: an unknown method gets UNIMPLEMENTED", "[rpc_client]") {
  rpc::RpcServer server({});
  add_echo_put(server);
  server.start();
  TcpFront front(server);
  ClientLoop client;
  auto connection = client.open(front.port());

  auto unary = std::make_shared<CallLog>(client.loop);
  auto stream = std::make_shared<CallLog>(client.loop);
  client.run([&] {
    const auto id = connection->start_call(kRange, CallLog::handlers(unary));
    connection->write(id, etcdserverpb::RangeRequest().SerializeAsString(), true);
    // A stream whose requests have not ended is refused the same way, before any message.
    connection->start_call(kWatch, CallLog::handlers(stream));
  });
  REQUIRE(unary->wait_closed());
  CHECK(unary->status().error_code() == rpc::StatusCode::UNIMPLEMENTED);
  CHECK(unary->status().error_message() == "unknown method Range for service etcdserverpb.KV");
  CHECK(unary->received().empty());
  REQUIRE(stream->wait_closed());
  CHECK(stream->status().error_code() == rpc::StatusCode::UNIMPLEMENTED);
  CHECK(stream->status().error_message() == "unknown service etcdserverpb.Watch");
  CHECK(stream->received().empty());

  auto after = std::make_shared<CallLog>(client.loop);  // the connection serves on
  client.run([&] {
    const auto id = connection->start_call(kPut, CallLog::handlers(after));
    connection->write(id, put_request("after", 1).SerializeAsString(), true);
  });
  REQUIRE(after->wait_closed());
  CHECK(after->status().ok());
  CHECK(after->received().size() == 1);
}

TEST_CASE("rpc client: a bidi stream of 1000 echoes arrives in order and ends with Finish",
          "[rpc_client]") {
  constexpr int kMessages = 1000;
  StreamLog stream_log;
  rpc::RpcServer server({});
  server.add_bidi<WatchRequest, WatchResponse>(
      kWatch, [&](const rpc::CallInfo&) { return new EchoReactor(stream_log); });
  server.start();
  TcpFront front(server);
  ClientLoop client;
  auto connection = client.open(front.port());

  auto log = std::make_shared<CallLog>(client.loop);
  const auto id =
      client.run([&] { return connection->start_call(kWatch, CallLog::handlers(log)); });
  REQUIRE(id > 0);
  // The first half one turn of the loop at a time, the second half in one turn.
  for (int i = 0; i < kMessages / 2; ++i) {
    client.run([&] { connection->write(id, watch_request(i)); });
  }
  client.run([&] {
    for (int i = kMessages / 2; i < kMessages; ++i) connection->write(id, watch_request(i));
  });
  REQUIRE(log->wait_messages(kMessages));
  CHECK(log->close_count() == 0);  // the server waits for the half-close
  {
    const auto messages = log->received();
    int wrong = 0;
    for (int i = 0; i < kMessages; ++i) {
      if (watch_id(messages[static_cast<std::size_t>(i)]) != i) ++wrong;
    }
    CHECK(wrong == 0);
  }
  // gRPC's half-close comes with a last request here (write() has no bare half-close).
  client.run([&] { connection->write(id, watch_request(kMessages), true); });
  REQUIRE(log->wait_closed());
  CHECK(log->status().ok());
  const auto messages = log->received();
  REQUIRE(messages.size() == kMessages + 1);
  CHECK(watch_id(messages.back()) == kMessages);
  CHECK(log->seen().back() == "close");
  CHECK(log->close_count() == 1);
  CHECK(log->handlers_off_loop() == 0);

  await(stream_log.done_future, "the reactor's OnDone");
  const auto [reads, rest] = stream_log.reads_then();
  CHECK(reads == kMessages + 1);
  CHECK(rest == std::vector<std::string>{"half-close", "done"});
  CHECK(stream_log.writes_ok == kMessages + 1);
  CHECK(stream_log.writes_failed == 0);
}

TEST_CASE("rpc client: an 8 MiB request past the HTTP/2 windows arrives whole", "[rpc_client]") {
  constexpr std::size_t kSize = 8 << 20;
  rpc::RpcServer::Options options;
  options.max_receive_bytes = 16 << 20;
  rpc::RpcServer server(options);
  // Answers with the request's size (the revision) and a hash of its value (the raft term).
  server.add_unary<PutRequest>(kPut, [](const PutRequest& request, rpc::Responder responder) {
    PutResponse response;
    response.mutable_header()->set_revision(static_cast<int64_t>(request.ByteSizeLong()));
    response.mutable_header()->set_raft_term(fnv1a(request.value()));
    responder.finish(response);
  });
  server.start();
  TcpFront front(server);
  ClientLoop client;
  Counter connected;
  rpc::ClientOptions client_options;
  client_options.on_connected = [&connected, &client] {
    connected.hit(client.loop.on_this_thread());
  };
  auto connection = client.open(front.port(), client_options);
  REQUIRE(connected.wait_for_one());  // the server's SETTINGS are in: its windows are known

  const PutRequest request = put_of_size(kSize);
  const std::string bytes = request.SerializeAsString();
  REQUIRE(bytes.size() == kSize);
  auto log = std::make_shared<CallLog>(client.loop);
  auto call_id = std::make_shared<rpc::ClientConnection::CallId>(0);
  std::weak_ptr<rpc::ClientConnection> weak = connection;
  rpc::CallHandlers handlers = CallLog::handlers(log);
  // When it drained, nothing of the call waits any more.
  handlers.on_drained = [log, call_id, weak] {
    auto self = weak.lock();
    log->note("drained, pending " + std::to_string(self ? self->pending(*call_id) : 999));
  };
  std::size_t pending_after_flush = 0;
  client.run([&] {
    *call_id = connection->start_call(kPut, std::move(handlers));
    connection->write(*call_id, bytes, true);
    connection->flush();
    pending_after_flush = connection->pending(*call_id);
  });
  REQUIRE(*call_id > 0);
  // The server's stream window is 1 MiB: most of the message waits.
  CHECK(pending_after_flush > 0);
  CHECK(pending_after_flush <= kSize + 5);  // with its 5-byte prefix
  CHECK(pending_after_flush >= kSize - (2 << 20));

  REQUIRE(log->wait_closed());
  CHECK(log->status().ok());
  CHECK(log->status().error_message().empty());
  const auto messages = log->received();
  REQUIRE(messages.size() == 1);
  const PutResponse response = put_response(messages[0]);
  CHECK(response.header().revision() == static_cast<int64_t>(kSize));
  CHECK(response.header().raft_term() == fnv1a(request.value()));
  CHECK(log->seen() == std::vector<std::string>{"drained, pending 0", "message", "close"});
  CHECK(log->handlers_off_loop() == 0);
  CHECK(connected.value() == 1);
}

TEST_CASE("rpc client: pending() counts what the connection has not taken yet", "[rpc_client]") {
  ClientLoop client;
  SECTION("a small write is taken at the flush, with no on_drained") {
    rpc::RpcServer server({});
    add_echo_put(server);
    server.start();
    TcpFront front(server);
    Counter connected;
    rpc::ClientOptions options;
    options.on_connected = [&connected] { connected.hit(true); };
    auto connection = client.open(front.port(), options);
    REQUIRE(connected.wait_for_one());

    auto log = std::make_shared<CallLog>(client.loop);
    rpc::ClientConnection::CallId id = 0;
    std::size_t before = 0;
    std::size_t after = 0;
    client.run([&] {
      id = connection->start_call(kPut, CallLog::handlers(log));
      connection->write(id, put_request("small", 3).SerializeAsString(), true);
      before = connection->pending(id);
      connection->flush();
      after = connection->pending(id);
    });
    CHECK(before == put_request("small", 3).ByteSizeLong() + 5);
    CHECK(after == 0);
    REQUIRE(log->wait_closed());
    CHECK(log->status().ok());
    CHECK(log->seen() == std::vector<std::string>{"message", "close"});  // no on_drained
    CHECK(client.run([&] { return connection->pending(id); }) == 0);
    CHECK(client.run([&] { return connection->pending(id + 1000); }) == 0);  // unknown
  }
  SECTION("a server that reads nothing holds the writes back") {
    Listener silent;
    auto connection = client.open(silent.port());
    const int accepted = silent.accept_one();  // held, never read or written
    REQUIRE(accepted >= 0);
    auto log = std::make_shared<CallLog>(client.loop);
    rpc::ClientConnection::CallId id = 0;
    client.run([&] { id = connection->start_call(kWatch, CallLog::handlers(log)); });
    // The client's first bytes (HTTP/2's preface) go out at the flush after its connect: once
    // they are here, the connection counts as connected and a flush sends at once.
    pollfd readable{accepted, POLLIN, 0};
    REQUIRE(::poll(&readable, 1, static_cast<int>(kWait / 1ms)) == 1);
    char preface[24];
    REQUIRE(::read(accepted, preface, sizeof preface) > 0);
    REQUIRE(client.run([&] { return connection->connected(); }));
    std::size_t after = 0;
    const std::string message = pattern(4 << 20);
    client.run([&] {
      connection->write(id, message);
      connection->flush();
      after = connection->pending(id);
    });
    // Before the server's SETTINGS, HTTP/2's windows are 64 KiB.
    CHECK(after > message.size() - (128 << 10));
    client.run([&] { connection->cancel(id, rpc::Status(rpc::StatusCode::CANCELLED, "enough")); });
    CHECK(log->seen() == std::vector<std::string>{"close"});  // never drained
    CHECK(log->status().error_code() == rpc::StatusCode::CANCELLED);
    CHECK(client.run([&] { return connection->pending(id); }) == 0);
    ::close(accepted);
  }
}

TEST_CASE("rpc client: a refused connect ends a started call with UNAVAILABLE", "[rpc_client]") {
  int port = 0;
  {
    Listener gone;  // a port nothing listens on once it closes
    port = gone.port();
  }
  ClientLoop client;
  auto log = std::make_shared<CallLog>(client.loop);
  rpc::ClientConnection::CallId id = 0;
  auto connection = client.open(port, {}, [&](rpc::ClientConnection& c) {
    id = c.start_call(kPut, CallLog::handlers(log));
    c.write(id, put_request("nobody", 1).SerializeAsString(), true);
  });
  CHECK(id > 0);
  REQUIRE(log->wait_closed());
  const rpc::Status status = log->status();
  CHECK(status.error_code() == rpc::StatusCode::UNAVAILABLE);
  INFO("message: " << status.error_message());
  CHECK(contains(status.error_message(), "127.0.0.1:" + std::to_string(port)));
  CHECK(log->seen() == std::vector<std::string>{"close"});
  CHECK(client.run([&] { return connection->closed(); }));
  CHECK_FALSE(client.run([&] { return connection->connected(); }));
  // A closed connection takes no calls, and calls no handler of one.
  auto late = std::make_shared<CallLog>(client.loop);
  CHECK(client.run([&] { return connection->start_call(kPut, CallLog::handlers(late)); }) == 0);
  // A barrier: whatever the refused start_call might have posted ran before this job.
  client.run([] {});
  CHECK(late->seen().empty());
  CHECK(log->close_count() == 1);
}

TEST_CASE("rpc client: a connect that does not complete ends at connect_timeout", "[rpc_client]") {
  // A listener with a backlog of 0 and one connection queued that it never accepts: Linux drops
  // the SYNs of the next ones, whose connects then hang.
  Listener full(0);
  const int queued = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(queued >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(full.port()));
  REQUIRE(::connect(queued, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);

  ClientLoop client;
  auto log = std::make_shared<CallLog>(client.loop);
  rpc::ClientOptions options;
  options.connect_timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  auto connection = client.open(full.port(), options, [&](rpc::ClientConnection& c) {
    c.start_call(kWatch, CallLog::handlers(log));
  });
  REQUIRE(log->wait_closed(5s));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const rpc::Status status = log->status();
  CHECK(status.error_code() == rpc::StatusCode::UNAVAILABLE);
  CHECK(status.error_message() ==
        "no connection to 127.0.0.1:" + std::to_string(full.port()) + " within 300 ms");
  CHECK(elapsed >= 300ms);
  CHECK(client.run([&] { return connection->closed(); }));
  ::close(queued);
}

TEST_CASE("rpc client: a server that never answers is given up on after an unanswered ping",
          "[rpc_client]") {
  Listener silent;
  ClientLoop client;
  auto log = std::make_shared<CallLog>(client.loop);
  Counter connected;
  rpc::ClientOptions options;
  options.keepalive = 200ms;
  options.on_connected = [&connected] { connected.hit(true); };
  const auto start = std::chrono::steady_clock::now();
  auto connection = client.open(silent.port(), options, [&](rpc::ClientConnection& c) {
    const auto id = c.start_call(kWatch, CallLog::handlers(log));
    c.write(id, watch_request(1));
  });
  const int accepted = silent.accept_one();  // held, never read or written
  REQUIRE(accepted >= 0);
  REQUIRE(log->wait_closed(5s));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const rpc::Status status = log->status();
  CHECK(status.error_code() == rpc::StatusCode::UNAVAILABLE);
  INFO("message: " << status.error_message());
  CHECK(contains(status.error_message(), "ping"));
  CHECK(contains(status.error_message(), "127.0.0.1:" + std::to_string(silent.port())));
  CHECK(elapsed >= 400ms);  // one period to send the ping, one for it to go unanswered
  CHECK(client.run([&] { return connection->closed(); }));
  CHECK(connected.value() == 0);  // nothing was ever heard
  ::close(accepted);
}

TEST_CASE("rpc client: a call past its deadline ends with DEADLINE_EXCEEDED", "[rpc_client]") {
  std::optional<rpc::Responder> held;  // server I/O thread only
  std::promise<void> holding;
  auto holding_future = holding.get_future();
  rpc::RpcServer server({});
  // "hold" is never answered; any other key is answered with whether the held call was
  // cancelled (the revision, 1 or 0).
  server.add_unary<PutRequest>(kPut, [&](const PutRequest& request, rpc::Responder responder) {
    if (request.key() == "hold") {
      held = std::move(responder);
      holding.set_value();
      return;
    }
    PutResponse response;
    response.mutable_header()->set_revision(held && held->info().cancelled() ? 1 : 0);
    responder.finish(response);
  });
  server.start();
  TcpFront front(server);
  ClientLoop client;
  auto connection = client.open(front.port());

  auto log = std::make_shared<CallLog>(client.loop);
  const auto start = std::chrono::steady_clock::now();
  client.run([&] {
    const auto id = connection->start_call(kPut, CallLog::handlers(log),
                                           std::chrono::steady_clock::now() + 200ms);
    connection->write(id, put_request("hold", 0).SerializeAsString(), true);
  });
  await(holding_future, "the held call's handler");
  REQUIRE(log->wait_closed());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(log->status().error_code() == rpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(elapsed >= 200ms);
  CHECK(log->seen() == std::vector<std::string>{"close"});

  // The server heard of it: a call after it on the same connection finds the held one
  // cancelled (the RST_STREAM went out before this call's HEADERS).
  auto barrier = std::make_shared<CallLog>(client.loop);
  client.run([&] {
    const auto id = connection->start_call(kPut, CallLog::handlers(barrier),
                                           std::chrono::steady_clock::now() + kWait);
    connection->write(id, put_request("barrier", 0).SerializeAsString(), true);
  });
  REQUIRE(barrier->wait_closed());
  CHECK(barrier->status().ok());
  REQUIRE(barrier->received().size() == 1);
  CHECK(put_response(barrier->received()[0]).header().revision() == 1);
  CHECK(log->close_count() == 1);  // the deadline did not close it twice
}

TEST_CASE("rpc client: cancel() gives the server's reactor OnCancel then OnDone", "[rpc_client]") {
  StreamLog stream_log;
  rpc::RpcServer server({});
  server.add_bidi<WatchRequest, WatchResponse>(
      kWatch, [&](const rpc::CallInfo&) { return new EchoReactor(stream_log); });
  server.start();
  TcpFront front(server);
  ClientLoop client;
  auto connection = client.open(front.port());

  auto log = std::make_shared<CallLog>(client.loop);
  const auto id = client.run([&] {
    const auto call = connection->start_call(kWatch, CallLog::handlers(log));
    connection->write(call, watch_request(5));
    return call;
  });
  REQUIRE(log->wait_messages(1));
  CHECK(watch_id(log->received()[0]) == 5);
  client.run(
      [&] { connection->cancel(id, rpc::Status(rpc::StatusCode::CANCELLED, "the client left")); });
  // on_close ran inside cancel(), with its status.
  CHECK(log->close_count() == 1);
  CHECK(log->status().error_code() == rpc::StatusCode::CANCELLED);
  CHECK(log->status().error_message() == "the client left");
  await(stream_log.cancelled_future, "the reactor's OnCancel");
  await(stream_log.done_future, "the reactor's OnDone");
  CHECK(stream_log.seen() == std::vector<std::string>{"read", "cancel", "done"});
  // Cancelling again, or writing to the call, does nothing.
  client.run([&] {
    connection->cancel(id, rpc::Status(rpc::StatusCode::ABORTED, "twice"));
    connection->write(id, watch_request(6));
  });
  CHECK(log->close_count() == 1);
  CHECK(log->seen() == std::vector<std::string>{"message", "close"});
  CHECK_FALSE(client.run([&] { return connection->closed(); }));
}

TEST_CASE("rpc client: the server stopping ends an open stream and the connection",
          "[rpc_client]") {
  StreamLog stream_log;
  rpc::RpcServer server({});
  server.add_bidi<WatchRequest, WatchResponse>(
      kWatch, [&](const rpc::CallInfo&) { return new EchoReactor(stream_log); });
  server.start();
  TcpFront front(server);
  ClientLoop client;
  auto connection = client.open(front.port());

  auto log = std::make_shared<CallLog>(client.loop);
  client.run([&] {
    const auto call = connection->start_call(kWatch, CallLog::handlers(log));
    connection->write(call, watch_request(9));
  });
  REQUIRE(log->wait_messages(1));
  CHECK(watch_id(log->received()[0]) == 9);

  server.stop();
  await(stream_log.done_future, "the reactor's OnDone");
  CHECK(stream_log.seen() == std::vector<std::string>{"read", "cancel", "done"});
  REQUIRE(log->wait_closed());
  const rpc::Status status = log->status();
  INFO("status " << status.error_code() << ": " << status.error_message());
  CHECK_FALSE(status.ok());
  CHECK(status.error_code() == rpc::StatusCode::UNAVAILABLE);
  CHECK(log->close_count() == 1);
  CHECK(client.run([&] { return connection->closed(); }));
  CHECK_FALSE(client.run([&] { return connection->connected(); }));
  auto late = std::make_shared<CallLog>(client.loop);
  CHECK(client.run([&] { return connection->start_call(kWatch, CallLog::handlers(late)); }) == 0);
}

TEST_CASE("rpc client: on_connected runs once, on the loop, when the connection is up",
          "[rpc_client]") {
  rpc::RpcServer server({});
  add_echo_put(server);
  server.start();
  TcpFront front(server);
  ClientLoop client;
  Counter connected;
  rpc::ClientOptions options;
  options.on_connected = [&connected, &client] { connected.hit(client.loop.on_this_thread()); };
  auto connection = client.open(front.port(), options);
  REQUIRE(connected.wait_for_one());
  CHECK(client.run([&] { return connection->connected(); }));

  // Calls after it (whose answers are more reads) do not run it again.
  for (int i = 0; i < 3; ++i) {
    auto log = std::make_shared<CallLog>(client.loop);
    client.run([&] {
      const auto id = connection->start_call(kPut, CallLog::handlers(log));
      connection->write(id, put_request("again", i).SerializeAsString(), true);
    });
    REQUIRE(log->wait_closed());
    CHECK(log->status().ok());
  }
  CHECK(connected.value() == 1);
  std::lock_guard lock(connected.mutex);
  CHECK(connected.on_loop);
}

TEST_CASE("rpc client: cancel() or close() from inside on_message ends the call there",
          "[rpc_client]") {
  constexpr int kMessages = 50;
  StreamLog stream_log;
  rpc::RpcServer server({});
  server.add_bidi<WatchRequest, WatchResponse>(
      kWatch, [&](const rpc::CallInfo&) { return new EchoReactor(stream_log); });
  server.start();
  TcpFront front(server);
  ClientLoop client;
  auto connection = client.open(front.port());

  // The echoes of requests written in one turn come back in one DATA frame, and so in one
  // read: the first one's on_message ends the call, and no other may follow it.
  bool close_it = false;
  SECTION("cancel()") { close_it = false; }
  SECTION("close()") { close_it = true; }
  auto log = std::make_shared<CallLog>(client.loop);
  auto call_id = std::make_shared<rpc::ClientConnection::CallId>(0);
  std::weak_ptr<rpc::ClientConnection> weak = connection;
  rpc::CallHandlers handlers = CallLog::handlers(log);
  handlers.on_message = [log, call_id, weak, close_it](const std::string& message) {
    log->note("message", &message);
    auto self = weak.lock();
    if (!self) return;
    const rpc::Status enough(rpc::StatusCode::CANCELLED, "seen enough");
    if (close_it) {
      self->close(enough);
    } else {
      self->cancel(*call_id, enough);
    }
  };
  client.run([&] {
    *call_id = connection->start_call(kWatch, std::move(handlers));
    for (int i = 0; i < kMessages; ++i) connection->write(*call_id, watch_request(i));
  });
  REQUIRE(log->wait_closed());
  await(stream_log.done_future, "the reactor's OnDone");
  // A barrier on the loop: anything the read that carried the echoes did is done.
  client.run([] {});
  CHECK(log->seen() == std::vector<std::string>{"message", "close"});
  CHECK(log->status().error_message() == "seen enough");
  CHECK(log->close_count() == 1);
  CHECK(client.run([&] { return connection->closed(); }) == close_it);
}

TEST_CASE("rpc client: a grpc-status that is no gRPC code ends the call with UNKNOWN",
          "[rpc_client]") {
  ClientLoop client;
  // Each value on a connection of its own, whose stream 1 is a unary call: HEADERS, then the
  // trailers with END_STREAM.
  const std::vector<std::string> values = {"2147483648",
                                           "4294967298",
                                           "99999999999999999999",
                                           "17",
                                           "-1",
                                           "-2147483648",
                                           "abc",
                                           "5x",
                                           " 5",
                                           ""};
  // One put on a connection of its own, ended by the raw server with these trailers; the
  // status the call closed with (the call closed once, and nothing else reached it).
  auto closed_with = [&client](const std::string& grpc_status, const std::string& message) {
    RawServer server;
    auto log = std::make_shared<CallLog>(client.loop);
    auto connection = client.open(server.port(), {}, [&](rpc::ClientConnection& c) {
      const auto id = c.start_call(kPut, CallLog::handlers(log));
      c.write(id, put_request("status", 1).SerializeAsString(), true);
    });
    server.accept();
    REQUIRE(server.wait_frame(kData, 1, kEndStream));
    server.send(response_headers(1) +
                headers_frame(1, {{"grpc-status", grpc_status}, {"grpc-message", message}}, true));
    REQUIRE(log->wait_closed());
    CHECK(log->seen() == std::vector<std::string>{"close"});
    return log->status();
  };
  for (const auto& value : values) {
    INFO("grpc-status \"" << value << "\"");
    const rpc::Status status = closed_with(value, "odd");
    const int code = static_cast<int>(status.error_code());
    CHECK(code >= 0);
    CHECK(code <= 16);
    CHECK(status.error_code() == rpc::StatusCode::UNKNOWN);
    CHECK(status.error_message() == "odd");
  }
  // A valid code, with a percent-encoded message.
  const rpc::Status valid = closed_with("5", "gone%20away");
  CHECK(valid.error_code() == rpc::StatusCode::NOT_FOUND);
  CHECK(valid.error_message() == "gone away");
}

TEST_CASE("rpc client: a server that breaks HTTP/2 ends the connection and its calls at once",
          "[rpc_client]") {
  RawServer server;
  ClientLoop client;
  auto unary = std::make_shared<CallLog>(client.loop);
  auto stream = std::make_shared<CallLog>(client.loop);
  rpc::ClientOptions options;
  options.keepalive = 10s;  // what ends the connection is not a ping going unanswered
  auto connection = client.open(server.port(), options, [&](rpc::ClientConnection& c) {
    const auto id = c.start_call(kPut, CallLog::handlers(unary));
    c.write(id, put_request("broken", 1).SerializeAsString(), true);
    c.write(c.start_call(kWatch, CallLog::handlers(stream)), watch_request(1));
  });
  server.accept();
  REQUIRE(server.wait_frame(kData, 1, kEndStream));
  REQUIRE(server.wait_frame(kData, 3));
  // The answer to the first call begins; then a DATA frame on stream 0, which HTTP/2 makes a
  // connection error.
  const auto start = std::chrono::steady_clock::now();
  server.send(response_headers(1) + frame(kData, 0, 0, "not on a stream"));
  REQUIRE(unary->wait_closed(3s));
  REQUIRE(stream->wait_closed(3s));
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  for (const auto& log : {unary, stream}) {
    const rpc::Status status = log->status();
    INFO("status " << status.error_code() << ": " << status.error_message());
    CHECK(status.error_code() == rpc::StatusCode::UNAVAILABLE);
    CHECK(contains(status.error_message(), "127.0.0.1:" + std::to_string(server.port())));
    CHECK(log->seen() == std::vector<std::string>{"close"});
  }
  CHECK(client.run([&] { return connection->closed(); }));
  CHECK_FALSE(client.run([&] { return connection->connected(); }));
  CHECK(server.wait_closed(3s));  // the client let the socket go
}

TEST_CASE("rpc client: a stream whose server side ends first ends with the server's status",
          "[rpc_client]") {
  RawServer server;
  ClientLoop client;
  auto log = std::make_shared<CallLog>(client.loop);
  rpc::ClientOptions options;
  options.keepalive = 10s;
  auto connection = client.open(server.port(), options, [&](rpc::ClientConnection& c) {
    c.write(c.start_call(kWatch, CallLog::handlers(log)), watch_request(1));  // never last
  });
  server.accept();
  REQUIRE(server.wait_frame(kData, 1));
  // One response, then the trailers with END_STREAM, and no RST_STREAM: the server's side is
  // over while the client's is open.
  server.send(response_headers(1) + message_frame(1, "one") +
              headers_frame(1, {{"grpc-status", "5"}, {"grpc-message", "gone"}}, true));
  REQUIRE(log->wait_closed(3s));
  CHECK(log->status().error_code() == rpc::StatusCode::NOT_FOUND);
  CHECK(log->status().error_message() == "gone");
  CHECK(log->seen() == std::vector<std::string>{"message", "close"});
  CHECK(log->received() == std::vector<std::string>{"one"});
  // The client ended its side with RST_STREAM.
  CHECK(server.wait_frame(kRstStream, 1, 0, 3s));
  CHECK_FALSE(client.run([&] { return connection->closed(); }));
  CHECK(log->close_count() == 1);
}

TEST_CASE("rpc client: a connection the server sent GOAWAY takes no new call", "[rpc_client]") {
  RawServer server;
  ClientLoop client;
  auto log = std::make_shared<CallLog>(client.loop);
  auto connection = client.open(server.port(), {}, [&](rpc::ClientConnection& c) {
    const auto id = c.start_call(kPut, CallLog::handlers(log));
    c.write(id, put_request("last", 1).SerializeAsString(), true);
  });
  server.accept();
  REQUIRE(server.wait_frame(kData, 1, kEndStream));
  // The answer, then GOAWAY (last stream 1, NO_ERROR), in one write: the client reads them in
  // one go, so GOAWAY is in once the call's on_close has run.
  server.send(response_headers(1) + message_frame(1, "answer") +
              headers_frame(1, {{"grpc-status", "0"}}, true) +
              frame(kGoaway, 0, 0, big_endian32(1) + big_endian32(0)));
  REQUIRE(log->wait_closed());
  CHECK(log->status().ok());
  CHECK(log->seen() == std::vector<std::string>{"message", "close"});
  CHECK(log->received() == std::vector<std::string>{"answer"});
  CHECK(client.run([&] { return connection->closed(); }));
  auto late = std::make_shared<CallLog>(client.loop);
  CHECK(client.run([&] { return connection->start_call(kPut, CallLog::handlers(late)); }) == 0);
  client.run([] {});  // a barrier: whatever the refused start_call might have posted ran
  CHECK(late->seen().empty());
}
