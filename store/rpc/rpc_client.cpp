// rpc_client.cpp: the gRPC client connection on nghttp2; see rpc_client.h.
// Invariants, all on the loop's thread:
// - the session exists from open() on; what is submitted before the socket connects waits in
//   it, and goes out at the first flush after the connect;
// - one socket write in flight at a time; the session is asked for more only while less than
//   http2::kMaxUnsent bytes wait for the socket (a server that does not read holds the caller back
//   through pending());
// - a call leaves `calls` before its on_close runs, and on_close runs once.
#include "store/rpc/rpc_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <vector>

#include "store/rpc/event_loop.h"
#include "store/rpc/grpc_wire.h"
#include "store/rpc/http2_session.h"

namespace asio = boost::asio;

namespace mgmt::rpc {
namespace {

using http2::header;
using http2::kConnectionWindow;
using http2::kReadBytes;
using http2::kStreamWindow;

struct Call {
  explicit Call(asio::io_context& io) : deadline(io) {}
  int32_t id = 0;
  CallHandlers handlers;
  MessageDecoder decoder{std::numeric_limits<std::size_t>::max()};
  std::deque<std::string> out;  // framed requests
  std::size_t sent = 0;         // of out.front()
  std::size_t pending = 0;      // bytes in out not yet taken
  bool last_queued = false;     // the requests end after `out`
  bool ended = false;           // END_STREAM went out
  bool waited = false;          // a write waited: on_drained is due once `out` empties
  std::string http_status;
  std::optional<int> grpc_status;
  std::string grpc_message;
  asio::steady_timer deadline;
};

}  // namespace

struct ClientConnection::Impl {
  explicit Impl(EventLoop& l) : loop(l), socket(l.io()), resolver(l.io()), timer(l.io()) {}

  EventLoop& loop;
  ClientOptions options;
  std::string address;  // host:port, for messages
  asio::ip::tcp::socket socket;
  asio::ip::tcp::resolver resolver;
  asio::steady_timer timer;  // the connect timeout, then the keepalive
  nghttp2_session* session = nullptr;
  std::map<int32_t, std::unique_ptr<Call>> calls;
  std::vector<int32_t> drained;  // calls whose waiting writes were all taken in this send pass
  std::array<char, kReadBytes> in{};
  std::string unsent;
  std::string writing;
  bool connected = false;
  bool heard_any = false;   // the server's first bytes came (on_connected ran)
  bool going_away = false;  // the server sent GOAWAY: no new call may start
  bool closed = false;
  bool write_in_flight = false;
  bool flushing = false;
  bool flush_due = false;
  bool receiving = false;
  bool ping_outstanding = false;
  bool heard_since_ping = false;
};

namespace {

Call* find_call(ClientConnection::CallId id, std::map<int32_t, std::unique_ptr<Call>>& calls) {
  auto it = calls.find(id);
  return it == calls.end() ? nullptr : it->second.get();
}

Status status_of(const Call& call, uint32_t error_code) {
  if (call.grpc_status) {
    return Status(static_cast<StatusCode>(*call.grpc_status), percent_decode(call.grpc_message));
  }
  if (!call.http_status.empty() && call.http_status != "200") {
    return Status(StatusCode::UNAVAILABLE,
                  "the server answered HTTP status " + call.http_status + ", not gRPC");
  }
  if (error_code == NGHTTP2_REFUSED_STREAM) {
    return Status(StatusCode::UNAVAILABLE, "the server refused the call (it is going away)");
  }
  if (error_code != NGHTTP2_NO_ERROR) {
    return Status(StatusCode::UNAVAILABLE,
                  std::string("the call was reset: ") + nghttp2_http2_strerror(error_code));
  }
  return Status(StatusCode::INTERNAL, "the call ended without a gRPC status");
}

}  // namespace

ClientConnection::ClientConnection() = default;

ClientConnection::~ClientConnection() {
  if (impl_ && impl_->session != nullptr) nghttp2_session_del(impl_->session);
}

std::shared_ptr<ClientConnection> ClientConnection::open(EventLoop& loop, const std::string& host,
                                                         const std::string& port,
                                                         ClientOptions options) {
  std::shared_ptr<ClientConnection> made(new ClientConnection());
  made->impl_ = std::make_unique<Impl>(loop);
  Impl& fresh = *made->impl_;
  fresh.options = std::move(options);
  fresh.address = host + ":" + port;

  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(
      callbacks,
      [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_length,
         const uint8_t* value, size_t value_length, uint8_t, void* user) -> int {
        auto& d = *static_cast<Impl*>(user);
        if (frame->hd.type != NGHTTP2_HEADERS) return 0;
        Call* call = find_call(frame->hd.stream_id, d.calls);
        if (call == nullptr) return 0;
        const std::string_view key(reinterpret_cast<const char*>(name), name_length);
        std::string text(reinterpret_cast<const char*>(value), value_length);
        if (key == ":status") call->http_status = text;
        if (key == "grpc-status") {
          // 0 to 16; anything else (an unknown code, not a number) is UNKNOWN, as in grpc-go.
          int code = 0;
          const bool digits =
              !text.empty() && text.size() <= 2 &&
              std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
          if (digits) code = std::stoi(text);
          call->grpc_status = digits && code <= 16 ? code : 2;
        }
        if (key == "grpc-message") call->grpc_message = std::move(text);
        return 0;
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      callbacks,
      [](nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data, size_t length,
         void* user) -> int {
        auto& d = *static_cast<Impl*>(user);
        Call* call = find_call(stream_id, d.calls);
        if (call == nullptr) return 0;
        std::vector<std::string> messages;
        call->decoder.feed(std::string_view(reinterpret_cast<const char*>(data), length), messages);
        if (call->decoder.failed()) {
          call->grpc_status = call->decoder.error_code();
          call->grpc_message = percent_encode(call->decoder.error());
          nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
          return 0;
        }
        for (const auto& message : messages) {
          // Looked up again, and the handler copied: a handler may end its call, or all.
          Call* current = find_call(stream_id, d.calls);
          if (current == nullptr) break;
          auto on_message = current->handlers.on_message;
          if (on_message) on_message(message);
        }
        return 0;
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      callbacks, [](nghttp2_session* session, const nghttp2_frame* frame, void* user) -> int {
        auto& d = *static_cast<Impl*>(user);
        if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK) != 0) {
          d.ping_outstanding = false;
        }
        if (frame->hd.type == NGHTTP2_GOAWAY) d.going_away = true;
        const bool ends = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 &&
                          (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA);
        if (!ends) return 0;
        // The server's side ended (its status came, or not): the call is over now, as in
        // gRPC, even while ours is open; the server hears RST_STREAM if ours was.
        auto it = d.calls.find(frame->hd.stream_id);
        if (it == d.calls.end()) return 0;
        std::unique_ptr<Call> call = std::move(it->second);
        d.calls.erase(it);
        call->deadline.cancel();
        if (!call->ended) {
          nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                    NGHTTP2_NO_ERROR);
        }
        if (call->handlers.on_close) call->handlers.on_close(status_of(*call, NGHTTP2_NO_ERROR));
        return 0;
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      callbacks, [](nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user) -> int {
        auto& d = *static_cast<Impl*>(user);
        auto it = d.calls.find(stream_id);
        if (it == d.calls.end()) return 0;
        std::unique_ptr<Call> call = std::move(it->second);
        d.calls.erase(it);
        call->deadline.cancel();
        if (call->handlers.on_close) call->handlers.on_close(status_of(*call, error_code));
        return 0;
      });
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_http_messaging(option, 1);
  nghttp2_session_client_new2(&fresh.session, callbacks, &fresh, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
  };
  nghttp2_submit_settings(fresh.session, NGHTTP2_FLAG_NONE, settings, 2);
  nghttp2_session_set_local_window_size(fresh.session, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);

  std::weak_ptr<ClientConnection> weak = made;
  fresh.timer.expires_after(fresh.options.connect_timeout);
  fresh.timer.async_wait([weak](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->impl_->connected || self->impl_->closed) return;
    self->close(Status(StatusCode::UNAVAILABLE,
                       "no connection to " + self->impl_->address + " within " +
                           std::to_string(self->impl_->options.connect_timeout.count()) + " ms"));
  });
  fresh.resolver.async_resolve(
      host, port, [weak](boost::system::error_code ec, asio::ip::tcp::resolver::results_type r) {
        auto resolving = weak.lock();
        if (!resolving || resolving->impl_->closed) return;
        Impl& state = *resolving->impl_;
        if (ec) {
          return resolving->close(Status(StatusCode::UNAVAILABLE,
                                         "cannot resolve " + state.address + ": " + ec.message()));
        }
        asio::async_connect(
            state.socket, r,
            [weak](boost::system::error_code failed, const asio::ip::tcp::endpoint&) {
              auto self = weak.lock();
              if (!self || self->impl_->closed) return;
              Impl& d = *self->impl_;
              if (failed) {
                return self->close(
                    Status(StatusCode::UNAVAILABLE,
                           "cannot connect to " + d.address + ": " + failed.message()));
              }
              boost::system::error_code ignored;
              d.socket.set_option(asio::ip::tcp::no_delay(true), ignored);
              d.connected = true;
              d.heard_since_ping = true;
              self->start_reading();
              self->keepalive();
              self->flush();
            });
      });
  return made;
}

void ClientConnection::start_reading() {
  impl_->socket.async_read_some(asio::buffer(impl_->in), [self = shared_from_this()](
                                                             boost::system::error_code ec,
                                                             std::size_t n) {
    Impl& d = *self->impl_;
    if (d.closed) return;
    if (ec) {
      return self->close(Status(
          StatusCode::UNAVAILABLE,
          ec == asio::error::eof ? "the connection to " + d.address + " was closed by the peer"
                                 : "the connection to " + d.address + " failed: " + ec.message()));
    }
    const bool first = !d.heard_any;
    d.heard_any = true;
    d.heard_since_ping = true;
    d.receiving = true;  // no mem_send from inside its callbacks: flush() after
    const auto used =
        nghttp2_session_mem_recv(d.session, reinterpret_cast<const uint8_t*>(d.in.data()), n);
    d.receiving = false;
    if (used < 0) {
      return self->close(Status(StatusCode::UNAVAILABLE,
                                "the connection to " + d.address +
                                    " broke HTTP/2: " + nghttp2_strerror(static_cast<int>(used))));
    }
    if (first && d.options.on_connected) d.options.on_connected();
    if (d.closed) return;
    self->flush();
    if (d.closed) return;
    // nghttp2 ends a session itself on a protocol error or a GOAWAY both ways, and then
    // ignores what it reads: so does the connection.
    if (nghttp2_session_want_read(d.session) == 0 && nghttp2_session_want_write(d.session) == 0) {
      return self->close(Status(StatusCode::UNAVAILABLE,
                                "the connection to " + d.address + " ended (HTTP/2 GOAWAY)"));
    }
    self->start_reading();
  });
}

// Every `keepalive`: a ping unanswered, with nothing else read since it went, ends the
// connection; otherwise a new ping goes if none is out.
void ClientConnection::keepalive() {
  impl_->timer.expires_after(impl_->options.keepalive);
  impl_->timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->impl_->closed) return;
    Impl& d = *self->impl_;
    boost::system::error_code ignored;
    // Bytes waiting in the socket were heard: the loop was busy, not the peer silent.
    if (d.socket.available(ignored) > 0) d.heard_since_ping = true;
    if (d.ping_outstanding && !d.heard_since_ping) {
      return self->close(
          Status(StatusCode::UNAVAILABLE, d.address + " did not answer a ping within " +
                                              std::to_string(d.options.keepalive.count()) + " ms"));
    }
    if (!d.ping_outstanding) {
      d.ping_outstanding = true;
      d.heard_since_ping = false;
      nghttp2_submit_ping(d.session, NGHTTP2_FLAG_NONE, nullptr);
      self->flush();
    }
    self->keepalive();
  });
}

ClientConnection::CallId ClientConnection::start_call(
    const std::string& path, CallHandlers handlers,
    std::optional<std::chrono::steady_clock::time_point> deadline) {
  Impl& own = *impl_;
  if (own.closed || own.going_away) return 0;
  auto made = std::make_unique<Call>(own.loop.io());
  made->handlers = std::move(handlers);
  const std::string scheme = "http";
  const std::string method = "POST";
  const std::string content_type = "application/grpc";
  const std::string te = "trailers";
  const std::vector<nghttp2_nv> headers{header(":method", method),
                                        header(":scheme", scheme),
                                        header(":path", path),
                                        header(":authority", own.address),
                                        header("content-type", content_type),
                                        header("te", te)};
  nghttp2_data_provider provider{};
  provider.source.ptr = made.get();
  provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buffer, size_t length,
                              uint32_t* flags, nghttp2_data_source* source, void* user) -> ssize_t {
    auto& d = *static_cast<Impl*>(user);
    auto* call = static_cast<Call*>(source->ptr);
    std::size_t n = 0;
    while (n < length && !call->out.empty()) {
      const std::string& message = call->out.front();
      const std::size_t k = std::min(length - n, message.size() - call->sent);
      std::memcpy(buffer + n, message.data() + call->sent, k);
      call->sent += k;
      call->pending -= k;
      n += k;
      if (call->sent == message.size()) {
        call->out.pop_front();
        call->sent = 0;
      }
    }
    if (call->out.empty()) {
      if (call->waited) {
        call->waited = false;
        d.drained.push_back(call->id);
      }
      if (call->last_queued) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        call->ended = true;
        return static_cast<ssize_t>(n);
      }
    }
    if (n == 0) return NGHTTP2_ERR_DEFERRED;
    return static_cast<ssize_t>(n);
  };
  const int32_t id = nghttp2_submit_request(own.session, nullptr, headers.data(), headers.size(),
                                            &provider, nullptr);
  if (id < 0) return 0;
  made->id = id;
  if (deadline) {
    made->deadline.expires_at(*deadline);
    made->deadline.async_wait([weak = weak_from_this(), id](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->cancel(id, Status(StatusCode::DEADLINE_EXCEEDED, "context deadline exceeded"));
    });
  }
  own.calls[id] = std::move(made);
  flush_soon();
  return id;
}

void ClientConnection::write(CallId id, std::string_view message, bool last) {
  write_framed(id, frame_message(message), last);
}

void ClientConnection::write_framed(CallId id, std::string framed, bool last) {
  Impl& d = *impl_;
  Call* call = find_call(id, d.calls);
  if (call == nullptr || call->last_queued) return;
  call->pending += framed.size();
  call->out.push_back(std::move(framed));
  call->last_queued = last;
  nghttp2_session_resume_data(d.session, id);
  flush_soon();
}

std::size_t ClientConnection::pending(CallId id) const {
  Call* call = find_call(id, impl_->calls);
  return call == nullptr ? 0 : call->pending;
}

void ClientConnection::cancel(CallId id, const Status& status) {
  Impl& d = *impl_;
  auto it = d.calls.find(id);
  if (it == d.calls.end()) return;
  std::unique_ptr<Call> call = std::move(it->second);
  d.calls.erase(it);
  call->deadline.cancel();
  if (!d.closed) {
    nghttp2_submit_rst_stream(d.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    flush_soon();
  }
  if (call->handlers.on_close) call->handlers.on_close(status);
}

void ClientConnection::flush_soon() {
  Impl& d = *impl_;
  if (d.flush_due || d.closed) return;
  d.flush_due = true;
  asio::post(d.loop.io(), [self = shared_from_this()] {
    self->impl_->flush_due = false;
    self->flush();
  });
}

void ClientConnection::flush() {
  Impl& own = *impl_;
  if (own.closed || own.flushing || own.receiving || !own.connected) return;
  own.flushing = true;
  const int failed = http2::drain(own.session, own.unsent);
  own.flushing = false;
  if (failed < 0) {
    return close(Status(StatusCode::INTERNAL,
                        std::string("HTTP/2 to ") + own.address + ": " + nghttp2_strerror(failed)));
  }
  if (own.closed) return;  // a handler closed it
  // Writes that could not go at once are marked, so that their caller hears when they went.
  for (auto& [id, call] : own.calls) {
    if (call->pending > 0) call->waited = true;
  }
  if (!own.write_in_flight && !own.unsent.empty()) {
    own.write_in_flight = true;
    own.writing.swap(own.unsent);
    asio::async_write(
        own.socket, asio::buffer(own.writing),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
          Impl& d = *self->impl_;
          d.write_in_flight = false;
          d.writing.clear();
          if (d.closed) return;
          if (ec) {
            return self->close(Status(StatusCode::UNAVAILABLE, "the connection to " + d.address +
                                                                   " failed: " + ec.message()));
          }
          self->flush();
        });
  }
  auto drained = std::move(own.drained);
  own.drained.clear();
  for (int32_t id : drained) {
    Call* call = find_call(id, own.calls);
    if (call == nullptr) continue;
    auto on_drained = call->handlers.on_drained;  // a copy: the handler may end its call
    if (on_drained) on_drained();
  }
}

void ClientConnection::close(const Status& why) {
  Impl& d = *impl_;
  if (d.closed) return;
  auto keep = shared_from_this();  // a handler may drop its owner's reference
  d.closed = true;
  boost::system::error_code ignored;
  d.timer.cancel();
  d.resolver.cancel();
  d.socket.close(ignored);
  auto calls = std::move(d.calls);
  d.calls.clear();
  for (auto& [id, call] : calls) {
    call->deadline.cancel();
    if (call->handlers.on_close) call->handlers.on_close(why);
  }
}

bool ClientConnection::closed() const { return impl_->closed || impl_->going_away; }
bool ClientConnection::connected() const { return impl_->connected && !impl_->closed; }

}  // namespace mgmt::rpc
