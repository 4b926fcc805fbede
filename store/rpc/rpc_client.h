// rpc_client.h: a gRPC client connection of our own, on HTTP/2 from nghttp2, run on an EventLoop
// (event_loop.h): what a member sends its peers (Raft's message batches and snapshots). gRPC
// C++'s client handed every batch to threads of its own, both ways; on the loop that runs the
// Raft round, a batch is written to the socket by the round that made it, before its disk sync.
// It speaks what RpcServer serves (grpc_wire.h): calls of protobuf messages, uncompressed, each
// a stream whose requests the caller writes and whose responses and status come back.
//
// A connection dials at once and may be given calls before it is connected. It pings the server
// every `keepalive` and gives up on it (every call ends with UNAVAILABLE) when a ping went
// unanswered that long with nothing else heard: a peer paused or cut off is noticed in 2-4 s.
// A closed connection stays closed (so does one the server sent GOAWAY); its owner dials anew.
// A call is over once the server's side of it ended (its status, as gRPC), even while the
// caller's side is open.
// Every call ends exactly once, with on_close, after which the connection forgets it: by the
// server's status, a reset, a deadline, cancel(), or the connection's end.
// Thread-safety: none. Every method is called on the loop's thread, and every handler runs
// there (never from inside another method's call, except on_close from cancel() and close()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/rpc/rpc_server.h"

namespace mgmt::rpc {

class EventLoop;

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds keepalive{2000};
  // Called once, when the connection is up (its first bytes from the server were read).
  std::function<void()> on_connected;
};

struct CallHandlers {
  std::function<void(const std::string& message)> on_message;  // each response, in order
  // Everything written so far was taken by the connection (after a write that had to wait).
  std::function<void()> on_drained;
  std::function<void(const Status& status)> on_close;  // last
};

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  using CallId = int32_t;

  // Dials `host`:`port` on `loop` (a name is resolved there too).
  static std::shared_ptr<ClientConnection> open(EventLoop& loop, const std::string& host,
                                                const std::string& port, ClientOptions options);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Starts a call of `path` ("/package.Service/Method"); 0 when closed() (no
  // handler is called then). A deadline ends it with DEADLINE_EXCEEDED.
  CallId start_call(const std::string& path, CallHandlers handlers,
                    std::optional<std::chrono::steady_clock::time_point> deadline = {});
  // Queues one request message; `last`: the requests end with it (a unary call's one request).
  // Sent at the end of this turn of the loop, or at flush().
  void write(CallId call, std::string_view message, bool last = false);
  // write() of a message already framed (grpc_wire.h's frame_message), as a large one may be
  // framed on another thread; taken without a copy.
  void write_framed(CallId call, std::string framed, bool last = false);
  // Request bytes of the call not yet taken by the connection (0 for an unknown call).
  std::size_t pending(CallId call) const;
  // Ends the call now: on_close(status), and the server hears RST_STREAM CANCEL.
  void cancel(CallId call, const Status& status);
  // Writes what is queued to the socket now.
  void flush();
  // Ends every call with `why` and the connection.
  void close(const Status& why);
  // No new call can start on it: it ended, or the server sent GOAWAY (the calls it had go on).
  bool closed() const;
  bool connected() const;

 private:
  struct Impl;
  ClientConnection();
  void start_reading();
  void keepalive();
  void flush_soon();
  std::unique_ptr<Impl> impl_;
};

}  // namespace mgmt::rpc
