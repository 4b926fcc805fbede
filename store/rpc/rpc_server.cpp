// rpc_server.cpp: the gRPC server on nghttp2; see rpc_server.h.
// Threads: one I/O thread runs every connection's nghttp2 session (nghttp2 is not thread-safe,
// so nothing else touches a session); what other threads do to a call (answer, write, finish)
// is posted to it. A pool of workers runs the blocking handlers.
// Invariants of a call (CallState), all kept on the I/O thread:
// - its response headers go out with the first message or the status, whichever comes first;
//   a status with no message before it goes alone (gRPC's Trailers-Only);
// - every queued message's `done` runs exactly once: true when the connection took its last
//   byte, false when the call ended first; all of them before a reactor's OnDone;
// - a reactor gets OnDone exactly once, when both its stream closed (or its connection did) and
//   it called Finish, as with gRPC (so it may finish later, once what it has out comes back);
//   and OnCancel before it unless the status of its own Finish went out first (a call the
//   server refused itself, e.g. for a request over the limit, is cancelled for its reactor).
#include "store/rpc/rpc_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log.h"
#include "store/rpc/event_loop.h"
#include "store/rpc/grpc_wire.h"
#include "store/rpc/http2_session.h"

namespace asio = boost::asio;

namespace mgmt::rpc {

class Connection;
struct CallState;
// A reactor's OnDone, once (I/O thread).
void deliver_done(CallState& call);

struct CallState {
  struct Outbound {
    std::string bytes;  // framed
    std::size_t sent = 0;
    std::function<void(bool)> done;  // may be empty
  };

  // Held by every call, so that a Responder kept past the server's life still posts into a live
  // (if stopped) io_context.
  std::shared_ptr<EventLoop> loop;
  std::weak_ptr<Connection> connection;
  int32_t stream_id = 0;
  std::atomic<bool> cancelled{false};

  // The rest only on the I/O thread.
  std::string path;
  std::string content_type;
  MessageDecoder decoder{0};
  std::vector<std::string> requests;  // a unary call's, until the client's END_STREAM
  StreamReactor* reactor = nullptr;   // a bidi call's, until OnDone
  bool dispatched = false;            // the handler has it (or it was refused)
  bool remote_closed = false;         // the client's END_STREAM came
  bool headers_sent = false;          // response headers submitted (with the data provider)
  bool finishing = false;             // Finish asked; trailers follow the queued messages
  bool trailers_sent = false;
  bool finish_called = false;  // the reactor called Finish (OnDone waits for it, as gRPC's)
  bool closed = false;
  Status status;
  std::deque<Outbound> out;

  void post(std::function<void()> job) { loop->post(std::move(job)); }
};

bool CallInfo::cancelled() const { return call_->cancelled.load(); }

namespace {

using http2::header;
using http2::kConnectionWindow;
using http2::kReadBytes;
using http2::kStreamWindow;

}  // namespace

struct RpcServer::Impl {
  struct Method {
    Kind kind;
    Handler handler;
    MakeReactor make;
  };

  Options options;
  std::shared_ptr<EventLoop> loop;
  bool owns_loop = false;  // the loop is this server's own (else it is shared and outlives it)
  std::unique_ptr<asio::thread_pool> workers;
  std::unordered_map<std::string, Method> methods;
  std::unordered_map<std::string, std::string> declined;  // service -> why (decline_service)
  std::set<std::shared_ptr<Connection>> connections;  // I/O thread only
  std::atomic<std::size_t> connection_count{0};
  std::mutex mutex;  // guards started, stopped
  bool started = false;
  bool stopped = false;
};

// One client connection and its nghttp2 session; lives on the I/O thread.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(RpcServer::Impl& server, int fd)
      : server_(server), socket_(server.loop->io()), fd_(fd) {}
  ~Connection() {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }

  bool open();
  void read();
  void flush();
  void flush_soon();
  // Ends every call (as cancelled) and the connection; idempotent.
  void close(bool goaway);

  // What other threads ask of a call, run on the I/O thread.
  void send(const std::shared_ptr<CallState>& call, std::string framed,
            std::function<void(bool)> done);
  void finish(const std::shared_ptr<CallState>& call, const Status& status);

 private:
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                       void* user);
  static int on_data(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                     size_t length, void* user);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user);
  static ssize_t read_data(nghttp2_session*, int32_t stream_id, uint8_t* buffer, size_t length,
                           uint32_t* flags, nghttp2_data_source* source, void* user);

  std::shared_ptr<CallState> find(int32_t stream_id) {
    auto it = calls_.find(stream_id);
    return it == calls_.end() ? nullptr : it->second;
  }
  void headers_done(const std::shared_ptr<CallState>& call);
  void request_done(const std::shared_ptr<CallState>& call);
  void refuse(const std::shared_ptr<CallState>& call, const Status& status);
  void submit_headers(CallState& call);
  void end_call(const std::shared_ptr<CallState>& call);
  void run_dones();

  RpcServer::Impl& server_;
  asio::generic::stream_protocol::socket socket_;
  int fd_;  // until open() gives it to socket_
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::shared_ptr<CallState>> calls_;
  std::vector<std::pair<std::function<void(bool)>, bool>> dones_;  // to run after a send pass
  std::array<char, kReadBytes> in_{};
  std::string unsent_;   // session output not yet given to the socket
  std::string writing_;  // what the socket is writing now
  bool write_in_flight_ = false;
  bool flushing_ = false;
  bool flush_due_ = false;  // flush_soon() posted a flush
  bool receiving_ = false;
  bool closed_ = false;
};

bool Connection::open() {
  // A socket, not a plain descriptor: asio then sends with MSG_NOSIGNAL, so a client that left
  // while we wrote is an EPIPE, not a SIGPIPE that kills the process.
  int domain = AF_UNIX;
  socklen_t domain_length = sizeof domain;
  ::getsockopt(fd_, SOL_SOCKET, SO_DOMAIN, &domain, &domain_length);
  boost::system::error_code assigned;
  socket_.assign(asio::generic::stream_protocol(domain, 0), fd_, assigned);
  if (assigned) {
    ::close(fd_);
    return false;
  }
  const int one = 1;
  ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // TCP only
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
  // Why a connection or a call was refused, for --verbose (a client that speaks HTTP/2 oddly).
  nghttp2_session_callbacks_set_error_callback2(
      callbacks, [](nghttp2_session*, int, const char* message, size_t length, void*) {
        log::get("rpc")->debug("a client's HTTP/2: {}", std::string_view(message, length));
        return 0;
      });
  // No checks of HTTP's rules beyond HTTP/2's framing: grpc-go accepts what they refuse, and Go
  // clients send it (etcdctl defrag's :authority is a URL).
  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return false;
  }
  nghttp2_option_set_no_http_messaging(option, 1);
  const int made = nghttp2_session_server_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (made != 0) return false;
  // As etcd (grpc-go with MaxConcurrentStreams unbounded): a client may open many watches.
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1u << 20},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
  };
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2) != 0) return false;
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  return true;
}

void Connection::read() {
  socket_.async_read_some(
      asio::buffer(in_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (self->closed_) return;
        if (ec) return self->close(false);
        self->receiving_ = true;  // no mem_send from inside its callbacks: flush() after
        const auto used = nghttp2_session_mem_recv(
            self->session_, reinterpret_cast<const uint8_t*>(self->in_.data()), n);
        self->receiving_ = false;
        self->flush();
        if (used < 0) return self->close(false);  // not HTTP/2 as gRPC speaks it
        if (self->closed_) return;
        self->read();
      });
}

// Moves what the session has to send into the socket, one write in flight at a time; stops
// asking the session while too much waits for the socket (a client that does not read).
void Connection::flush() {
  if (closed_ || flushing_ || receiving_) return;
  flushing_ = true;
  const int drained = http2::drain(session_, unsent_);
  flushing_ = false;
  if (drained < 0) return close(false);
  run_dones();
  if (closed_) return;
  if (!write_in_flight_ && !unsent_.empty()) {
    write_in_flight_ = true;
    writing_.swap(unsent_);
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->write_in_flight_ = false;
                        self->writing_.clear();
                        if (self->closed_) return;
                        if (ec) return self->close(false);
                        self->flush();
                      });
  } else if (!write_in_flight_ && unsent_.empty() && !nghttp2_session_want_read(session_) &&
             !nghttp2_session_want_write(session_)) {
    close(false);  // after a GOAWAY both ways
  }
}

void Connection::run_dones() {
  while (!dones_.empty()) {
    auto dones = std::move(dones_);
    dones_.clear();
    for (auto& [done, ok] : dones) done(ok);
  }
}

void Connection::close(bool goaway) {
  if (closed_) return;
  if (goaway && session_ != nullptr) {
    // Best effort: the GOAWAY and whatever was pending, without waiting for the socket.
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    const uint8_t* data = nullptr;
    ssize_t n = 0;
    while ((n = nghttp2_session_mem_send(session_, &data)) > 0) {
      unsent_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (!write_in_flight_ && !unsent_.empty()) {
      [[maybe_unused]] auto sent = ::send(socket_.native_handle(), unsent_.data(), unsent_.size(),
                                          MSG_DONTWAIT | MSG_NOSIGNAL);
    }
  }
  closed_ = true;
  auto calls = std::move(calls_);
  calls_.clear();
  for (auto& [id, call] : calls) end_call(call);
  run_dones();
  boost::system::error_code ignored;
  socket_.close(ignored);
  server_.connection_count--;
  server_.connections.erase(shared_from_this());
}

// The call is over: queued messages fail, a reactor hears OnCancel (unless its own Finish's
// status went out) and OnDone, and a handler still working on it sees cancelled().
void Connection::end_call(const std::shared_ptr<CallState>& call) {
  if (call->closed) return;
  call->closed = true;
  call->cancelled = true;
  for (auto& message : call->out) {
    if (message.done) dones_.emplace_back(std::move(message.done), false);
  }
  call->out.clear();
  run_dones();
  if (StreamReactor* reactor = call->reactor) {
    // A status the server sent for it (a refusal) is no Finish of the reactor's: without
    // OnCancel it would never learn the call ended, never Finish, and never get OnDone.
    if (!call->trailers_sent || !call->finish_called) reactor->OnCancel();
    if (call->finish_called) deliver_done(*call);
  }
}

void deliver_done(CallState& call) {
  if (StreamReactor* reactor = call.reactor) {
    call.reactor = nullptr;
    reactor->OnDone();
  }
}

int Connection::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<Connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto call = std::make_shared<CallState>();
  call->loop = self->server_.loop;
  call->connection = self->weak_from_this();
  call->stream_id = frame->hd.stream_id;
  call->decoder = MessageDecoder(self->server_.options.max_receive_bytes);
  self->calls_[frame->hd.stream_id] = std::move(call);
  return 0;
}

int Connection::on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                          size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                          void* user) {
  auto* self = static_cast<Connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  auto call = self->find(frame->hd.stream_id);
  if (!call || call->dispatched) return 0;  // trailers of a request: nothing gRPC needs
  const std::string_view key(reinterpret_cast<const char*>(name), name_length);
  const std::string_view text(reinterpret_cast<const char*>(value), value_length);
  if (key == ":path") call->path = text;
  if (key == "content-type") call->content_type = text;
  return 0;
}

int Connection::on_data(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                        size_t length, void* user) {
  auto* self = static_cast<Connection*>(user);
  auto call = self->find(stream_id);
  if (!call || call->closed || call->finishing) return 0;
  std::vector<std::string> messages;
  call->decoder.feed(std::string_view(reinterpret_cast<const char*>(data), length), messages);
  if (call->decoder.failed()) {
    self->refuse(
        call, Status(static_cast<StatusCode>(call->decoder.error_code()), call->decoder.error()));
    return 0;
  }
  for (auto& message : messages) {
    if (StreamReactor* reactor = call->reactor) {
      if (call->finishing) break;
      reactor->on_message(message);
    } else {
      call->requests.push_back(std::move(message));
    }
  }
  return 0;
}

int Connection::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<Connection*>(user);
  const bool headers = frame->hd.type == NGHTTP2_HEADERS;
  if (!headers && frame->hd.type != NGHTTP2_DATA) return 0;
  auto call = self->find(frame->hd.stream_id);
  if (!call) return 0;
  if (headers && !call->dispatched && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    self->headers_done(call);
  }
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 && !call->remote_closed) {
    call->remote_closed = true;
    self->request_done(call);
  }
  return 0;
}

// A call's headers are in: refuse what is not a gRPC call of ours; a bidi call starts now.
void Connection::headers_done(const std::shared_ptr<CallState>& call) {
  if (call->content_type.rfind("application/grpc", 0) != 0) {
    return refuse(call, Status(StatusCode::INTERNAL,
                               "invalid gRPC request content-type \"" + call->content_type + "\""));
  }
  auto it = server_.methods.find(call->path);
  if (it == server_.methods.end()) {
    const auto slash = call->path.rfind('/');
    const std::string service =
        slash == std::string::npos || slash == 0 ? call->path : call->path.substr(1, slash - 1);
    if (auto declined = server_.declined.find(service); declined != server_.declined.end()) {
      return refuse(call, Status(StatusCode::UNIMPLEMENTED, declined->second));
    }
    const bool known_service =
        std::any_of(server_.methods.begin(), server_.methods.end(),
                    [&](const auto& m) { return m.first.rfind("/" + service + "/", 0) == 0; });
    return refuse(call, Status(StatusCode::UNIMPLEMENTED,
                               known_service ? "unknown method " + call->path.substr(slash + 1) +
                                                   " for service " + service
                                             : "unknown service " + service));
  }
  if (it->second.kind == RpcServer::Kind::stream) {
    call->dispatched = true;
    StreamReactor* reactor = it->second.make(CallInfo(call));
    reactor->call_ = call;
    call->reactor = reactor;
  }
}

// The client's END_STREAM: a unary or server-stream call goes to its handler with its one
// request; a bidi reactor hears that no more requests come.
void Connection::request_done(const std::shared_ptr<CallState>& call) {
  if (call->closed) return;
  if (StreamReactor* reactor = call->reactor) {
    if (!call->finishing) reactor->OnHalfClose();
    return;
  }
  if (call->dispatched) return;
  if (call->decoder.partial() || call->requests.size() != 1) {
    return refuse(call, Status(StatusCode::INTERNAL,
                               call->decoder.partial()
                                   ? "grpc: the request message was cut short"
                                   : "grpc: a unary call takes one request message, not " +
                                         std::to_string(call->requests.size())));
  }
  call->dispatched = true;
  const auto& method = server_.methods.at(call->path);
  std::string request = std::move(call->requests.front());
  call->requests.clear();
  Responder responder(call);
  if (method.kind == RpcServer::Kind::unary) {
    method.handler(request, std::move(responder));
  } else {
    asio::post(*server_.workers, [handler = method.handler, request = std::move(request),
                                  responder]() mutable { handler(request, std::move(responder)); });
  }
}

void Connection::refuse(const std::shared_ptr<CallState>& call, const Status& status) {
  call->dispatched = true;
  call->requests.clear();
  finish(call, status);
}

void Connection::submit_headers(CallState& call) {
  if (call.headers_sent) return;
  call.headers_sent = true;
  const nghttp2_nv headers[] = {header(":status", "200"),
                                header("content-type", "application/grpc")};
  nghttp2_data_provider provider{};
  provider.source.ptr = &call;
  provider.read_callback = read_data;
  nghttp2_submit_response(session_, call.stream_id, headers, 2, &provider);
}

void Connection::send(const std::shared_ptr<CallState>& call, std::string framed,
                      std::function<void(bool)> done) {
  if (closed_ || call->closed || call->finishing) {
    if (done) done(false);
    return;
  }
  call->out.push_back({std::move(framed), 0, std::move(done)});
  if (call->headers_sent) {
    nghttp2_session_resume_data(session_, call->stream_id);
  } else {
    submit_headers(*call);
  }
  flush_soon();
}

void Connection::finish(const std::shared_ptr<CallState>& call, const Status& status) {
  if (closed_ || call->closed || call->finishing) return;
  call->finishing = true;
  call->status = status;
  if (!call->headers_sent) {
    // Trailers-Only: the status alone, in the response's one HEADERS frame.
    call->headers_sent = true;
    call->trailers_sent = true;
    const std::string code = std::to_string(static_cast<int>(status.error_code()));
    const std::string message = percent_encode(status.error_message());
    std::vector<nghttp2_nv> headers{header(":status", "200"),
                                    header("content-type", "application/grpc"),
                                    header("grpc-status", code)};
    if (!message.empty()) headers.push_back(header("grpc-message", message));
    nghttp2_submit_response(session_, call->stream_id, headers.data(), headers.size(), nullptr);
    flush_soon();
    return;
  }
  nghttp2_session_resume_data(session_, call->stream_id);
  flush_soon();
}

// What the jobs queued on the loop now (the answers and events of one Raft round) submit goes
// out in one write: the flush runs after them. The answers and this flush go through the
// loop's queue on purpose, though each trip polls the sockets first: running them at once at
// the end of the round (tried in the twenty-third session) saved two epoll_wait calls per put
// but made 8 clients' puts on one member about 20% slower and one client's no faster.
void Connection::flush_soon() {
  if (flush_due_ || closed_) return;
  flush_due_ = true;
  asio::post(server_.loop->io(), [self = shared_from_this()] {
    self->flush_due_ = false;
    self->flush();
  });
}

ssize_t Connection::read_data(nghttp2_session* session, int32_t stream_id, uint8_t* buffer,
                              size_t length, uint32_t* flags, nghttp2_data_source* source,
                              void* user) {
  auto* self = static_cast<Connection*>(user);
  auto* call = static_cast<CallState*>(source->ptr);
  std::size_t n = 0;
  while (n < length && !call->out.empty()) {
    auto& message = call->out.front();
    const std::size_t k = std::min(length - n, message.bytes.size() - message.sent);
    std::memcpy(buffer + n, message.bytes.data() + message.sent, k);
    message.sent += k;
    n += k;
    if (message.sent == message.bytes.size()) {
      if (message.done) self->dones_.emplace_back(std::move(message.done), true);
      call->out.pop_front();
    }
  }
  if (call->out.empty() && call->finishing && !call->trailers_sent) {
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    call->trailers_sent = true;
    const std::string code = std::to_string(static_cast<int>(call->status.error_code()));
    const std::string message = percent_encode(call->status.error_message());
    std::vector<nghttp2_nv> trailers{header("grpc-status", code)};
    if (!message.empty()) trailers.push_back(header("grpc-message", message));
    nghttp2_submit_trailer(session, stream_id, trailers.data(), trailers.size());
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

// After the response's last HEADERS: a client still sending is told the call is over, as
// grpc-go does (RST_STREAM with NO_ERROR).
int Connection::on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<Connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
    return 0;
  }
  auto call = self->find(frame->hd.stream_id);
  if (call && !call->remote_closed) {
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
  }
  return 0;
}

int Connection::on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
  auto* self = static_cast<Connection*>(user);
  auto it = self->calls_.find(stream_id);
  if (it == self->calls_.end()) return 0;
  auto call = std::move(it->second);
  self->calls_.erase(it);
  self->end_call(call);
  return 0;
}

// --- the handler side ---------------------------------------------------------------------

namespace {

void post_send(const std::shared_ptr<CallState>& call, std::string framed,
               std::function<void(bool)> done) {
  call->post([call, framed = std::move(framed), done = std::move(done)]() mutable {
    auto connection = call->connection.lock();
    if (!connection) {
      if (done) done(false);
      return;
    }
    connection->send(call, std::move(framed), std::move(done));
  });
}

void post_finish(const std::shared_ptr<CallState>& call, const Status& status) {
  call->post([call, status] {
    call->finish_called = true;
    auto connection = call->connection.lock();
    if (connection && !call->closed) return connection->finish(call, status);
    deliver_done(*call);  // the stream closed before: this was all OnDone waited for
  });
}

}  // namespace

void Responder::finish(const google::protobuf::MessageLite& response) const {
  auto call = call_;
  std::string framed = frame_message(response.SerializeAsString());
  call->post([call, framed = std::move(framed)]() mutable {
    auto connection = call->connection.lock();
    if (!connection) return;
    connection->send(call, std::move(framed), nullptr);
    connection->finish(call, Status::OK);
  });
}

void Responder::fail(const Status& status) const { post_finish(call_, status); }

void StreamReactor::start_write(const google::protobuf::MessageLite& response) {
  auto call = call_;
  post_send(call, frame_message(response.SerializeAsString()), [call](bool ok) {
    if (StreamReactor* reactor = call->reactor) reactor->OnWriteDone(ok);
  });
}

void StreamReactor::Finish(const Status& status) { post_finish(call_, status); }

bool RpcServer::write_and_wait(const std::shared_ptr<CallState>& call,
                               const google::protobuf::MessageLite& message) {
  auto taken = std::make_shared<std::promise<bool>>();
  auto future = taken->get_future();
  post_send(call, frame_message(message.SerializeAsString()),
            [taken](bool ok) { taken->set_value(ok); });
  // The I/O thread answers; when the server stops first, it never will.
  while (future.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (call->cancelled) return false;
  }
  return future.get();
}

void RpcServer::finish_call(const std::shared_ptr<CallState>& call, const Status& status) {
  post_finish(call, status);
}

// --- the server -------------------------------------------------------------------------

RpcServer::RpcServer(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->loop = options.loop;
  if (!impl_->loop) {
    impl_->loop = std::make_shared<EventLoop>(options.on_io_thread_start);
    impl_->owns_loop = true;
  }
}

RpcServer::~RpcServer() { stop(); }

void RpcServer::add(const std::string& path, Kind kind, Handler handler) {
  impl_->methods[path] = Impl::Method{kind, std::move(handler), nullptr};
}

void RpcServer::decline_service(const std::string& service, const std::string& why) {
  impl_->declined[service] = why;
}

void RpcServer::add_stream(const std::string& path, MakeReactor make) {
  impl_->methods[path] = Impl::Method{Kind::stream, nullptr, std::move(make)};
}

void RpcServer::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started) return;
  impl_->started = true;
  impl_->workers = std::make_unique<asio::thread_pool>(impl_->options.workers);
  if (impl_->owns_loop) impl_->loop->start();
}

void RpcServer::serve(int fd) {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->started || impl_->stopped) {
      ::close(fd);
      return;
    }
  }
  impl_->loop->post([impl = impl_.get(), fd] {
    auto connection = std::make_shared<Connection>(*impl, fd);
    if (!connection->open()) return;  // the descriptor closes with it
    impl->connections.insert(connection);
    impl->connection_count++;
    connection->flush();  // our SETTINGS
    connection->read();
  });
}

std::size_t RpcServer::connections() const { return impl_->connection_count.load(); }

// A job posted from the loop's own thread runs after the handlers already queued, which hold
// what the last poll found ready (asio queues the reactor's results before it).
void RpcServer::run_when_idle(std::function<void()> job) {
  EventLoop* loop = EventLoop::current();
  if (loop == nullptr) return job();
  loop->post(std::move(job));
}

void RpcServer::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
    if (!impl_->started) return;
  }
  auto close_all = [impl = impl_.get()] {
    auto connections = impl->connections;
    for (const auto& connection : connections) connection->close(true);
  };
  if (impl_->loop->on_this_thread()) {
    close_all();
  } else {
    std::promise<void> closed;
    impl_->loop->post([&] {
      close_all();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  impl_->workers->join();
  // A loop of its own stops now; a shared one runs on, and what the workers posted meanwhile
  // finds its connection closed.
  if (impl_->owns_loop) impl_->loop->stop();
}

}  // namespace mgmt::rpc
