// rpc_server.h: a gRPC server of our own, on HTTP/2 from nghttp2, for the store's client port.
// gRPC C++'s server spent about 300 us of CPU and 10 context switches on every call here (its
// completion queues hand each call between several threads); on a 2-core machine that, not
// Raft or the disk, bounded the store's sequential puts. This one runs every connection on one
// I/O thread, hands a call to a handler and its answer back with one wake-up each, and speaks
// the subset of gRPC that etcd's clients use: unary calls, server streams and bidi streams of
// protobuf messages, uncompressed, with the status in trailers (grpc_wire.h has the framing).
//
// Handlers, by what they may do on the thread that calls them:
// - add_unary: runs on the I/O thread and must not block; it answers through its Responder at
//   once or later, from any thread (the store's puts answer from the apply).
// - add_blocking, add_server_stream: run on a pool of worker threads and may wait.
// - add_bidi: a reactor object, driven on the I/O thread (OnRead, OnWriteDone, OnCancel, then
//   OnDone last, after which the server never touches it; it usually deletes itself there).
//   StartWrite and Finish may be called from any thread, under the caller's own locks: they
//   only queue work for the I/O thread and never call back into the reactor.
// Lifetime: add_* before start(); serve() takes connections once started; stop() (also from the
// destructor) cancels every call (OnCancel, then OnDone, for the reactors), closes the
// connections and waits for the workers. A Responder used after stop() does nothing. A server
// may run on a loop it shares with others (Options::loop, event_loop.h).
#pragma once

#include <google/protobuf/message_lite.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace mgmt::rpc {

class EventLoop;
using Status = grpc::Status;
using StatusCode = grpc::StatusCode;

struct CallState;  // one call's state, shared by the I/O thread and its handler
class Connection;  // one client connection, on the I/O thread

// What a handler may ask about its call.
class CallInfo {
 public:
  explicit CallInfo(std::shared_ptr<CallState> call) : call_(std::move(call)) {}
  // True once the client cancelled or left, or the server is stopping.
  bool cancelled() const;

 private:
  std::shared_ptr<CallState> call_;
};

// Answers one unary call: the first answer counts, later ones and any after the client left
// do nothing. Copyable; safe from any thread.
class Responder {
 public:
  explicit Responder(std::shared_ptr<CallState> call) : call_(std::move(call)) {}
  void finish(const google::protobuf::MessageLite& response) const;
  void fail(const Status& status) const;
  CallInfo info() const { return CallInfo(call_); }
  const std::shared_ptr<CallState>& call_state() const { return call_; }

 private:
  std::shared_ptr<CallState> call_;
};

// A server stream's writer, for a handler on a worker thread.
template <typename Response>
class Writer;

// The base of bidi reactors; see BidiReactor below.
class StreamReactor {
 public:
  virtual ~StreamReactor() = default;
  virtual void OnHalfClose() {}             // the client sends no more requests
  virtual void OnWriteDone(bool /*ok*/) {}  // one StartWrite was handed to the connection
  virtual void OnCancel() {}                // the client cancelled or left, or the server stops
  virtual void OnDone() = 0;                // the last call of all

  void Finish(const Status& status);
  CallInfo info() const { return CallInfo(call_); }

 protected:
  void start_write(const google::protobuf::MessageLite& response);

 private:
  friend class RpcServer;
  friend class Connection;
  // One request's bytes; the typed reactor parses them and calls OnRead.
  virtual void on_message(const std::string& bytes) = 0;
  std::shared_ptr<CallState> call_;
};

template <typename Request, typename Response>
class BidiReactor : public StreamReactor {
 public:
  virtual void OnRead(const Request& request) = 0;
  // Serialises `response` now (it need not outlive the call) and queues it; every StartWrite
  // gets its own OnWriteDone.
  void StartWrite(const Response* response) { start_write(*response); }

 private:
  void on_message(const std::string& bytes) final {
    Request request;
    if (!request.ParseFromString(bytes)) {
      return Finish(Status(StatusCode::INTERNAL, "grpc: error unmarshalling request"));
    }
    OnRead(request);
  }
};

class RpcServer {
 public:
  struct Options {
    std::size_t max_receive_bytes = 4 << 20;   // a longer request is refused, as grpc-go does
    int workers = 16;                          // threads for blocking handlers
    std::function<void()> on_io_thread_start;  // runs first on the I/O thread (its own loop)
    // Run on this loop (started and stopped by its owner, which stops this server first)
    // instead of a loop and I/O thread of its own.
    std::shared_ptr<EventLoop> loop;
  };

  explicit RpcServer(Options options);
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // `path` is "/package.Service/Method".
  template <typename Request>
  void add_unary(const std::string& path, std::function<void(const Request&, Responder)> handler) {
    add(path, Kind::unary, [handler](const std::string& bytes, Responder responder) {
      Request request;
      if (!request.ParseFromString(bytes)) return responder.fail(unparsable());
      handler(request, std::move(responder));
    });
  }

  template <typename Request, typename Response>
  void add_blocking(const std::string& path,
                    std::function<Status(const Request&, Response&, const CallInfo&)> handler) {
    add(path, Kind::blocking, [handler](const std::string& bytes, Responder responder) {
      Request request;
      if (!request.ParseFromString(bytes)) return responder.fail(unparsable());
      Response response;
      const Status status = handler(request, response, responder.info());
      if (status.ok()) {
        responder.finish(response);
      } else {
        responder.fail(status);
      }
    });
  }

  template <typename Request, typename Response>
  void add_server_stream(
      const std::string& path,
      std::function<Status(const Request&, Writer<Response>&, const CallInfo&)> handler);

  template <typename Request, typename Response>
  void add_bidi(const std::string& path,
                std::function<BidiReactor<Request, Response>*(const CallInfo&)> make) {
    add_stream(path, [make](const CallInfo& info) -> StreamReactor* { return make(info); });
  }

  // Every call to `service` ("package.Service") is refused with UNIMPLEMENTED and `why` (one
  // line naming what to do instead) rather than gRPC's bare "unknown service". Before start().
  void decline_service(const std::string& service, const std::string& why);

  void start();
  // Serves one accepted connection (a TCP socket or one end of a socketpair); the server owns
  // the descriptor from then on. After stop(), it is closed at once.
  void serve(int fd);
  void stop();

  // Connections open now (for tests and /metrics).
  std::size_t connections() const;

  // On the I/O thread (a handler, on_io_thread_start): runs `job` there once the loop has
  // handled the events it has ready now, so that work for many requests can be done once.
  static void run_when_idle(std::function<void()> job);

 private:
  enum class Kind { unary, blocking, stream };
  using Handler = std::function<void(const std::string& bytes, Responder responder)>;
  using MakeReactor = std::function<StreamReactor*(const CallInfo&)>;
  friend class Connection;
  template <typename Response>
  friend class Writer;

  static Status unparsable() {
    return Status(StatusCode::INTERNAL, "grpc: error unmarshalling request");
  }
  void add(const std::string& path, Kind kind, Handler handler);
  void add_stream(const std::string& path, MakeReactor make);
  // For Writer: queues a message and waits until the connection took it; false if the call
  // ended first.
  static bool write_and_wait(const std::shared_ptr<CallState>& call,
                             const google::protobuf::MessageLite& message);
  static void finish_call(const std::shared_ptr<CallState>& call, const Status& status);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

template <typename Response>
class Writer {
 public:
  explicit Writer(std::shared_ptr<CallState> call) : call_(std::move(call)) {}
  // Blocks until the message was handed to the connection; false once the client left.
  bool Write(const Response& response) { return RpcServer::write_and_wait(call_, response); }

 private:
  std::shared_ptr<CallState> call_;
};

template <typename Request, typename Response>
void RpcServer::add_server_stream(
    const std::string& path,
    std::function<Status(const Request&, Writer<Response>&, const CallInfo&)> handler) {
  add(path, Kind::blocking, [handler](const std::string& bytes, Responder responder) {
    Request request;
    if (!request.ParseFromString(bytes)) return responder.fail(unparsable());
    auto call = responder.call_state();
    Writer<Response> writer(call);
    finish_call(call, handler(request, writer, responder.info()));
  });
}

}  // namespace mgmt::rpc
