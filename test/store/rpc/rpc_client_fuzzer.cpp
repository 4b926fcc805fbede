// rpc_client_fuzzer.cpp: a libFuzzer target for what a server (hostile or broken) can send the
// store's own gRPC client connection (store/rpc/rpc_client.h): after an empty SETTINGS (the
// server's part of HTTP/2's preface), the input's bytes as they come, on a loopback TCP
// connection (127.0.0.1) that the client dialed. Each input gets a listening socket and a
// ClientConnection of its own, on one EventLoop that the process keeps; what the client sends is
// read as HTTP/2 frames and dropped. Then either our end stops sending and closes (the client
// must hear it and close), or it stays open: a PING follows the input (its last frame ended with
// zeros), and once the client has answered it, close() ends the client. Rules: every started
// call has its on_close exactly once, with a gRPC code, and no handler after it; handlers run on
// the loop's thread, and none from inside start_call() or write() (on_close alone from inside
// cancel() and close()); after the server's end closes, or after close(), closed() is true and
// the client's socket is closed; a client that sent GOAWAY (it found the server's bytes broken)
// closes the connection by itself (RPC_CLIENT_FUZZER_NO_GOAWAY_RULE=1 skips this rule); the
// connection is freed once we drop it. Nothing may crash (ASan, UBSan, which halts here too) or
// hang (a bound of 10 s aborts, naming what hung).
// Input: the first byte picks the setting: bit 0 a unary call (write(last=true)), bit 1 a bidi
// call (one write; stream 3 when both, else 1), bit 2 keeps our end open while close() ends the
// client, bit 3 a SETTINGS ACK after our SETTINGS, bits 4-6 what the handlers do with a call's
// first response: 4 the bidi call writes again (after each, up to 8), 5 cancel() the call,
// 6 close() the connection. Built with -DMGMT_BUILD_FUZZERS=ON (clang); run by tools/fuzz.sh.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>

#include "store/rpc/event_loop.h"
#include "store/rpc/rpc_client.h"

namespace rpc = mgmt::rpc;

namespace {

constexpr auto kBound = std::chrono::seconds(10);
constexpr const char* kPut = "/etcdserverpb.KV/Put";
constexpr const char* kWatch = "/etcdserverpb.Watch/Watch";
constexpr uint8_t kUnary = 1;
constexpr uint8_t kBidi = 2;
constexpr uint8_t kKeepOpen = 4;
constexpr uint8_t kSettingsAck = 8;
constexpr uint8_t kWriteMore = 16;
constexpr uint8_t kCancelOnMessage = 32;
constexpr uint8_t kCloseOnMessage = 64;
constexpr int kMaxMoreWrites = 8;
constexpr std::size_t kMaxFrame = 16384;  // SETTINGS_MAX_FRAME_SIZE: the client keeps the default

[[noreturn]] void broken(const char* rule) {
  std::fprintf(stderr, "rpc_client_fuzzer: broken: %s\n", rule);
  std::abort();
}

// The process's one loop; never stopped (a loop's thread outlives no input's state).
rpc::EventLoop& loop() {
  static rpc::EventLoop* made = [] {
    auto* fresh = new rpc::EventLoop();
    fresh->start();
    return fresh;
  }();
  return *made;
}

// Runs `job` on the loop's thread and waits for it; aborts, naming `what`, past the deadline.
void on_loop(const std::function<void()>& job, const char* what,
             std::chrono::steady_clock::time_point deadline) {
  std::promise<void> done;
  loop().post([&job, &done] {
    job();
    done.set_value();
  });
  if (done.get_future().wait_until(deadline) != std::future_status::ready) broken(what);
}

// One call's record; touched on the loop's thread only.
struct CallRecord {
  const char* what = "";  // "unary" or "bidi", for messages
  rpc::ClientConnection::CallId id = 0;
  int closes = 0;
  int messages = 0;
  int more_writes = 0;
};

// One input's state, touched on the loop's thread only (the test thread reads it through
// on_loop()). The connection's handlers point here: the input ends only once it is freed.
struct Run {
  uint8_t mode = 0;
  std::shared_ptr<rpc::ClientConnection> connection;
  CallRecord calls[2];
  int started = 0;
  const char* inside = nullptr;  // the ClientConnection method this test is in, if any
  int connected = 0;

  // Calls `method` of the connection through `job`, noting that it runs.
  template <typename Job>
  void calling(const char* method, Job job) {
    const char* outer = inside;
    inside = method;
    job();
    inside = outer;
  }
};

void on_the_loop_thread(const char* handler) {
  if (!loop().on_this_thread()) {
    std::fprintf(stderr, "rpc_client_fuzzer: %s ran off the loop's thread\n", handler);
    broken("every handler runs on the loop's thread");
  }
}

void on_message(Run& run, CallRecord& call) {
  on_the_loop_thread("on_message");
  if (call.closes > 0) broken("on_message after the call's on_close");
  if (run.inside != nullptr) broken("on_message from inside a method of the connection");
  ++call.messages;
  rpc::ClientConnection& connection = *run.connection;
  if ((run.mode & kCancelOnMessage) != 0 && call.messages == 1) {
    run.calling("cancel", [&] {
      connection.cancel(call.id, rpc::Status(rpc::StatusCode::CANCELLED, "fuzz: cancelled"));
    });
    if (call.closes != 1) broken("cancel() did not end the call at once");
  } else if ((run.mode & kCloseOnMessage) != 0 && call.messages == 1) {
    run.calling("close", [&] {
      connection.close(rpc::Status(rpc::StatusCode::UNAVAILABLE, "fuzz: closed"));
    });
    if (!connection.closed()) broken("closed() is false after close()");
    if (call.closes != 1) broken("close() did not end the call at once");
  } else if ((run.mode & kWriteMore) != 0 && std::string_view(call.what) == "bidi" &&
             call.more_writes < kMaxMoreWrites) {
    ++call.more_writes;
    run.calling("write", [&] { connection.write(call.id, std::string("\x0a\x01m", 3)); });
  }
}

void on_drained(Run& run, CallRecord& call) {
  on_the_loop_thread("on_drained");
  if (call.closes > 0) broken("on_drained after the call's on_close");
  if (run.inside != nullptr) broken("on_drained from inside a method of the connection");
}

void on_close(Run& run, CallRecord& call, const rpc::Status& status) {
  on_the_loop_thread("on_close");
  if (++call.closes > 1) broken("a call's on_close ran twice");
  if (run.inside != nullptr && std::string_view(run.inside) != "cancel" &&
      std::string_view(run.inside) != "close") {
    broken("on_close from inside start_call() or write()");
  }
  const int code = static_cast<int>(status.error_code());
  if (code < 0 || code > 16) broken("on_close with a status code that gRPC does not have");
}

void start(Run& run, const char* what, const char* path, bool last) {
  CallRecord& call = run.calls[run.started];
  call.what = what;
  rpc::CallHandlers handlers;
  handlers.on_message = [&run, &call](const std::string&) { on_message(run, call); };
  handlers.on_drained = [&run, &call] { on_drained(run, call); };
  handlers.on_close = [&run, &call](const rpc::Status& status) { on_close(run, call, status); };
  run.calling("start_call",
              [&] { call.id = run.connection->start_call(path, std::move(handlers)); });
  if (call.id == 0) broken("start_call() refused a call on a fresh connection");
  ++run.started;
  // A PutRequest (key "k"), or a WatchRequest (a create_request for key "k").
  const std::string message =
      last ? std::string("\x0a\x01k", 3) : std::string("\x0a\x03\x0a\x01k", 5);
  run.calling("write", [&] { run.connection->write(call.id, message, last); });
}

// Whether to check that a client which sent GOAWAY closes (unless RPC_CLIENT_FUZZER_NO_GOAWAY_RULE
// is set, to look for other bugs while that one stands).
bool goaway_rule() {
  static const bool on = std::getenv("RPC_CLIENT_FUZZER_NO_GOAWAY_RULE") == nullptr;
  return on;
}

// A socket listening on 127.0.0.1, on a port the kernel picks; -1 on failure.
int listen_on_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int on = 1;
  // Our end closes first in most inputs: its TIME_WAITs must not use up the ports.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto* any = reinterpret_cast<sockaddr*>(&address);
  socklen_t length = sizeof address;
  if (::bind(fd, any, sizeof address) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, any, &length) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

// The connection the client dialed, accepted (non-blocking) within the deadline.
int accept_one(int listener, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) broken("the client never connected");
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) return fd;
  }
}

// What the client sent, read as HTTP/2 frames (after its preface): enough to see the ACK of our
// PING, and a GOAWAY (the client found the server's bytes broken).
struct FromClient {
  std::string buffer;
  std::size_t preface = 24;
  bool closed = false;  // the client closed its end (or its socket failed)
  bool ping_acked = false;
  bool goaway = false;

  void take(const char* bytes, std::size_t n) {
    buffer.append(bytes, n);
    const std::size_t skipped = std::min(preface, buffer.size());
    buffer.erase(0, skipped);
    preface -= skipped;
    while (buffer.size() >= 9) {
      const auto* h = reinterpret_cast<const unsigned char*>(buffer.data());
      const std::size_t length = (std::size_t{h[0]} << 16) | (std::size_t{h[1]} << 8) | h[2];
      if (buffer.size() < 9 + length) return;
      if (h[3] == 0x6 && (h[4] & 0x1) != 0 && length == 8 &&
          buffer.compare(9, 8, kPingData, 8) == 0) {
        ping_acked = true;
      }
      if (h[3] == 0x7) goaway = true;
      buffer.erase(0, 9 + length);
    }
  }
  static constexpr const char* kPingData = "rpcfuzz!";
};

// Reads what the client sent, if anything came.
void read_client(int fd, FromClient& from) {
  char sink[16384];
  const ssize_t n = ::read(fd, sink, sizeof sink);
  if (n > 0) from.take(sink, static_cast<std::size_t>(n));
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) from.closed = true;
}

// Writes all of `bytes` to the non-blocking `fd`, reading what the client sends meanwhile, so
// that neither side waits on the other. False when the client closed first.
bool send_all(int fd, std::string_view bytes, FromClient& from,
              std::chrono::steady_clock::time_point deadline) {
  while (!bytes.empty()) {
    if (std::chrono::steady_clock::now() > deadline) broken("the client stopped reading");
    pollfd p{fd, POLLIN | POLLOUT, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    if ((p.revents & POLLIN) != 0) read_client(fd, from);
    if (from.closed || (p.revents & (POLLERR | POLLHUP)) != 0) return false;
    if ((p.revents & POLLOUT) != 0) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (n > 0) bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  return true;
}

// Reads what the client sends until `done` holds or it closes its end; aborts, naming `rule`,
// when neither comes within the deadline.
template <typename Done>
void read_until(int fd, FromClient& from, Done done, std::chrono::steady_clock::time_point deadline,
                const char* rule) {
  while (!from.closed && !done()) {
    if (std::chrono::steady_clock::now() > deadline) broken(rule);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) read_client(fd, from);
  }
}

// Reads what the client sends until it closes its end; aborts, naming `rule`, when it does not
// within the deadline.
void read_to_end(int fd, FromClient& from, std::chrono::steady_clock::time_point deadline,
                 const char* rule) {
  const auto never = [] { return false; };
  read_until(fd, from, never, deadline, rule);
}

// The zeros that end the frame the input leaves unfinished, so that a frame sent after them is
// read as one (none when that frame is longer than the client takes: its header fails it).
std::size_t padding(std::string_view frames) {
  std::size_t at = 0;
  while (at < frames.size()) {
    const std::size_t have = frames.size() - at;
    std::string header(frames.substr(at, 9));
    header.resize(9, '\0');
    const auto* h = reinterpret_cast<const unsigned char*>(header.data());
    const std::size_t length = (std::size_t{h[0]} << 16) | (std::size_t{h[1]} << 8) | h[2];
    if (length > kMaxFrame) return have < 9 ? 9 - have : 0;
    if (have < 9 + length) return 9 + length - have;
    at += 9 + length;
  }
  return 0;
}

}  // namespace

// UBSan's reports end the run, as ASan's do (libFuzzer would otherwise only log them).
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  int port = 0;
  const int listener = listen_on_loopback(port);
  if (listener < 0) broken("no listening socket on 127.0.0.1");

  Run run;
  run.mode = data[0];
  std::weak_ptr<rpc::ClientConnection> weak;
  on_loop(
      [&] {
        rpc::ClientOptions options;
        options.connect_timeout = std::chrono::milliseconds(kBound) * 2;  // the bound goes first
        options.keepalive = std::chrono::milliseconds(kBound) * 2;        // no pings of its own
        options.on_connected = [&run] {
          on_the_loop_thread("on_connected");
          if (++run.connected > 1) broken("on_connected ran twice");
        };
        run.connection =
            rpc::ClientConnection::open(loop(), "127.0.0.1", std::to_string(port), options);
        weak = run.connection;
        if ((run.mode & kUnary) != 0) start(run, "unary", kPut, true);
        if ((run.mode & kBidi) != 0) start(run, "bidi", kWatch, false);
      },
      "open() or start_call() did not return", deadline);

  const int fd = accept_one(listener, deadline);
  ::close(listener);
  FromClient from;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // an empty SETTINGS
  if ((run.mode & kSettingsAck) != 0) bytes.append("\x00\x00\x00\x04\x01\x00\x00\x00\x00", 9);
  bytes.append(input);

  if ((run.mode & kKeepOpen) == 0) {
    if (send_all(fd, bytes, from, deadline)) ::shutdown(fd, SHUT_WR);
    read_to_end(fd, from, deadline, "the client kept its socket after the server closed");
    on_loop(
        [&] {
          if (!run.connection->closed()) broken("closed() is false after the server closed");
        },
        "the loop hung after the server closed", deadline);
  } else {
    // A PING after the input (its last frame finished with zeros): once the client answers it,
    // it has read all of the input, and close() comes after.
    bytes.append(padding(input), '\0');
    bytes.append("\x00\x00\x08\x06\x00\x00\x00\x00\x00", 9);
    bytes.append(FromClient::kPingData, 8);
    const auto answered = [&from] { return from.ping_acked || from.goaway; };
    if (send_all(fd, bytes, from, deadline)) {
      read_until(fd, from, answered, deadline, "the client answered no PING and sent no GOAWAY");
    }
    // A client that sent GOAWAY has found the server's bytes broken: its nghttp2 session reads
    // and sends nothing more, so its calls can only end with the connection.
    if (from.goaway && goaway_rule()) {
      read_to_end(fd, from, deadline,
                  "after its GOAWAY, the client kept the connection (and its calls) open");
    }
    on_loop(
        [&] {
          run.calling("close", [&] {
            run.connection->close(rpc::Status(rpc::StatusCode::CANCELLED, "fuzz: the end"));
          });
          if (!run.connection->closed()) broken("closed() is false after close()");
        },
        "close() did not return", deadline);
    read_to_end(fd, from, deadline, "the client kept its socket after close()");
  }
  ::close(fd);

  on_loop(
      [&] {
        for (int j = 0; j < run.started; ++j) {
          if (run.calls[j].closes != 1) {
            std::fprintf(stderr, "rpc_client_fuzzer: the %s call had on_close %d times\n",
                         run.calls[j].what, run.calls[j].closes);
            broken("every started call has on_close exactly once");
          }
        }
        run.connection.reset();  // on the loop: its sockets and timers belong to it
      },
      "the final check did not run", deadline);
  // What the connection left on the loop (aborted reads, writes and timers) runs and lets it go.
  std::promise<void> freed;
  std::function<void()> check = [&] {
    if (weak.expired()) return freed.set_value();
    if (std::chrono::steady_clock::now() > deadline) return freed.set_value();
    loop().post(check);
  };
  loop().post(check);
  if (freed.get_future().wait_until(deadline + std::chrono::seconds(1)) !=
      std::future_status::ready) {
    broken("the loop hung while the connection was let go");
  }
  if (!weak.expired()) broken("the connection outlived its input (a reference cycle?)");
  return 0;
}
