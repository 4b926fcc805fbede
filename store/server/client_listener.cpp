// client_listener.cpp: see client_listener.h.
#include "store/server/client_listener.h"

#include "common/log.h"
#include "common/thread_name.h"
#include "store/server/store_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>

#include <chrono>
#include <ctime>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace mgmt::store::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kFirstBytesTimeout = std::chrono::seconds(10);
constexpr auto kHttpIdleTimeout = std::chrono::seconds(60);
constexpr std::size_t kMaxHttpBody = 64 * 1024;

// "Tue, 01 Dec 2026 23:32:57 GMT", as every Go HTTP server sends.
std::string http_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// One streamed answer: what its thread writes goes, chunk-encoded, to the session's socket on
// the I/O thread; the client leaving (or stop()) closes it and runs the cancel callback.
class StreamState : public HttpStream {
 public:
  using Post = std::function<void(std::string framed)>;
  explicit StreamState(Post post) : post_(std::move(post)) {}

  bool write(std::string bytes) override {
    if (bytes.empty()) return !closed();
    if (pending_.load() > kMaxStreamBacklog) {
      close();  // the client does not read: drop it rather than hold the server's memory
      return false;
    }
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    std::string framed = size + std::move(bytes) + "\r\n";
    pending_ += framed.size();  // written() takes back what the socket took
    post_(std::move(framed));
    return true;
  }
  void on_close(std::function<void()> cancel) override {
    std::lock_guard cancelling(cancel_mutex_);
    std::unique_lock lock(mutex_);
    if (closed_ && cancel) {
      lock.unlock();
      cancel();
      return;
    }
    cancel_ = std::move(cancel);
  }
  void close() {
    // The cancel runs under cancel_mutex_, so that on_close(nullptr) returns only once no cancel
    // is running (the stream's thread then frees what the cancel uses).
    std::lock_guard cancelling(cancel_mutex_);
    std::function<void()> cancel;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      cancel = std::move(cancel_);
      cancel_ = nullptr;
    }
    if (cancel) cancel();
  }
  bool closed() {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  // The socket took n bytes (the last chunk, which write() did not count, saturates at 0).
  void written(std::size_t n) {
    std::size_t now = pending_.load();
    while (!pending_.compare_exchange_weak(now, now - std::min(now, n))) {
    }
  }

 private:
  static constexpr std::size_t kMaxStreamBacklog = 16 << 20;
  Post post_;
  std::mutex cancel_mutex_;  // held while a cancel runs or is replaced
  std::mutex mutex_;  // guards closed_, cancel_ (held while posting, so none follows a close)
  bool closed_ = false;
  std::function<void()> cancel_;
  std::atomic<std::size_t> pending_{0};
};

// The streamed answers in progress, so that stop() can end them and wait for their threads.
class StreamRegistry {
 public:
  // False when stopping (no new stream then).
  bool add(const std::shared_ptr<StreamState>& s) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    streams_.insert(s);
    return true;
  }
  void remove(const std::shared_ptr<StreamState>& s) {
    std::lock_guard lock(mutex_);
    streams_.erase(s);
    if (streams_.empty()) empty_.notify_all();
  }
  // Closes every stream (their cancels run) and waits up to `timeout` for their threads.
  void stop_all(std::chrono::milliseconds timeout) {
    std::set<std::shared_ptr<StreamState>> all;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      all = streams_;
    }
    for (const auto& s : all) s->close();
    std::unique_lock lock(mutex_);
    empty_.wait_for(lock, timeout, [this] { return streams_.empty(); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable empty_;
  std::set<std::shared_ptr<StreamState>> streams_;
  bool stopping_ = false;
};

}  // namespace

struct ClientListener::Impl {
  asio::io_context io;
  std::vector<tcp::acceptor> acceptors;
  asio::thread_pool serve_pool{4};
  std::thread io_thread;
  std::shared_ptr<StreamRegistry> streams = std::make_shared<StreamRegistry>();
  HandOff hand_off;
  Serve serve;
  bool stopped = false;

  void accept(tcp::acceptor& acceptor);
  void sniff(std::shared_ptr<tcp::socket> socket, std::shared_ptr<asio::steady_timer> deadline);
  void route(std::shared_ptr<tcp::socket> socket);
};

namespace {

// One HTTP/1.1 connection: read a request, have it served off the I/O thread, write the reply,
// and again while the client keeps the connection alive. A streamed reply ends the connection.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, asio::thread_pool& pool, const ClientListener::Serve& serve,
              std::shared_ptr<StreamRegistry> streams)
      : stream_(std::move(socket)), pool_(pool), serve_(serve), streams_(std::move(streams)) {}

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxHttpBody);
    stream_.expires_after(kHttpIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec) {
      // A request that does not parse (a bad method or header, a body too large).
      if (ec.category() == error_code(http::error::bad_method).category()) {
        keep_alive_ = false;
        head_ = false;
        return write(HttpReply{400, "text/plain; charset=utf-8", "400 Bad Request", {}, {}});
      }
      return close();  // the connection failed
    }
    const auto& request = parser_->get();
    keep_alive_ = request.keep_alive();
    head_ = request.method() == http::verb::head;
    std::string method(request.method_string());
    std::string target(request.target());
    std::string body = request.body();
    // Served on the pool (it may wait for a quorum read); the reply is written on the I/O thread.
    asio::post(pool_, [self = shared_from_this(), method = std::move(method),
                       target = std::move(target), body = std::move(body)]() mutable {
      HttpReply reply = self->serve_(method, target, body);
      asio::post(self->stream_.get_executor(), [self, reply = std::move(reply)]() mutable {
        self->write(std::move(reply));
      });
    });
  }

  void set_headers(const HttpReply& reply) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(reply.status));
    response_.set(http::field::access_control_allow_headers, "accept, content-type, authorization");
    response_.set(http::field::access_control_allow_methods, "POST, GET, OPTIONS, PUT, DELETE");
    response_.set(http::field::access_control_allow_origin, "*");
    response_.set(http::field::content_type, reply.content_type);
    response_.set(http::field::date, http_date());
    for (const auto& [name, value] : reply.headers) response_.set(name, value);
  }

  void write(HttpReply reply) {
    if (reply.stream) return start_stream(std::move(reply));
    set_headers(reply);
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    if (head_) response_.body().clear();  // the length stays that of the GET's body
    response_.keep_alive(keep_alive_);
    stream_.expires_after(kHttpIdleTimeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (ec || !self->keep_alive_) return self->close();
                        self->read();
                      });
  }

  // Status and headers (chunked), then the stream's thread writes; a read that completes means
  // the client left (or sent what a streamed request no longer reads), which ends the stream.
  void start_stream(HttpReply reply) {
    std::weak_ptr<HttpSession> weak = shared_from_this();
    auto executor = stream_.get_executor();
    state_ = std::make_shared<StreamState>([weak, executor](std::string framed) {
      asio::post(executor, [weak, framed = std::move(framed)]() mutable {
        if (auto self = weak.lock()) self->queue(std::move(framed));
      });
    });
    if (!streams_->add(state_)) {
      return write(HttpReply{503, "text/plain; charset=utf-8", "the server is stopping\n", {}, {}});
    }
    set_headers(reply);
    response_.chunked(true);
    response_.keep_alive(false);
    stream_.expires_never();
    header_ = std::make_shared<http::response_serializer<http::string_body>>(response_);
    http::async_write_header(stream_, *header_, [self = shared_from_this()](error_code ec,
                                                                            std::size_t) {
      if (ec) return self->end_stream();
      self->watch_for_close();
    });
    std::thread([self = shared_from_this(), state = state_, run = std::move(reply.stream),
                 streams = streams_] {
      name_this_thread("http-stream");
      run(*state);
      state->close();
      asio::post(self->stream_.get_executor(), [self] {
        self->finishing_ = true;
        self->queue("0\r\n\r\n");  // the last chunk
      });
      streams->remove(state);
    }).detach();
  }

  void watch_for_close() {
    stream_.socket().async_read_some(asio::buffer(scratch_),
                                     [self = shared_from_this()](error_code, std::size_t) {
                                       self->state_->close();
                                     });
  }

  void queue(std::string framed) {
    out_.push_back(std::move(framed));
    if (!writing_) write_next();
  }

  void write_next() {
    if (out_.empty()) {
      writing_ = false;
      if (finishing_) close();
      return;
    }
    writing_ = true;
    asio::async_write(stream_.socket(), asio::buffer(out_.front()),
                      [self = shared_from_this()](error_code ec, std::size_t n) {
                        self->state_->written(n);
                        self->out_.pop_front();
                        if (ec) return self->end_stream();
                        self->write_next();
                      });
  }

  void end_stream() {
    state_->close();
    out_.clear();
    close();
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  asio::thread_pool& pool_;
  const ClientListener::Serve& serve_;
  std::shared_ptr<StreamRegistry> streams_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
  bool head_ = false;
  // A streamed answer: its state, header writer, chunks waiting for the socket.
  std::shared_ptr<StreamState> state_;
  std::shared_ptr<http::response_serializer<http::string_body>> header_;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool finishing_ = false;
  char scratch_[512];
};

}  // namespace

void ClientListener::Impl::accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([this, &acceptor](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors, say: say so, and try again shortly rather than spin.
      log::get("etcd")->warn("accepting a client connection failed: {}", ec.message());
      auto pause = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
      pause->async_wait([this, &acceptor, pause](error_code) { accept(acceptor); });
      return;
    }
    auto deadline = std::make_shared<asio::steady_timer>(io, kFirstBytesTimeout);
    auto shared = std::make_shared<tcp::socket>(std::move(socket));
    deadline->async_wait([shared](error_code e) {
      if (!e) {
        error_code ignored;
        shared->close(ignored);  // sent nothing in time
      }
    });
    sniff(shared, deadline);
    accept(acceptor);
  });
}

// Waits for the connection's first two bytes (left in the socket for whoever serves it).
void ClientListener::Impl::sniff(std::shared_ptr<tcp::socket> socket,
                                 std::shared_ptr<asio::steady_timer> deadline) {
  socket->async_wait(tcp::socket::wait_read, [this, socket, deadline](error_code ec) {
    if (ec || !socket->is_open()) return;  // closed at the deadline, or failed
    char first[2];
    error_code peek_error;
    const std::size_t n =
        socket->receive(asio::buffer(first), tcp::socket::message_peek, peek_error);
    if (peek_error == asio::error::would_block) return sniff(socket, deadline);
    if (peek_error || n == 0) {
      deadline->cancel();
      return;  // the client left; the socket closes with its last owner
    }
    if (n < 2) {
      // One byte so far: look again shortly (the socket stays readable, so waiting for
      // readability again would spin).
      auto pause = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(5));
      pause->async_wait([this, socket, deadline, pause](error_code) { sniff(socket, deadline); });
      return;
    }
    deadline->cancel();
    if (first[0] == 'P' && first[1] == 'R') return route(socket);
    std::make_shared<HttpSession>(std::move(*socket), serve_pool, serve, streams)->read();
  });
}

// Hands an HTTP/2 connection to gRPC, set up as gRPC sets up the connections it accepts.
void ClientListener::Impl::route(std::shared_ptr<tcp::socket> socket) {
  error_code ignored;
  socket->set_option(tcp::no_delay(true), ignored);
  const int fd = socket->release(ignored);
  if (fd < 0) return;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  hand_off(fd);
}

ClientListener::ClientListener() : impl_(std::make_unique<Impl>()) {}

ClientListener::~ClientListener() { stop(); }

Result<std::unique_ptr<ClientListener>> ClientListener::open(
    const std::vector<std::string>& addresses) {
  std::unique_ptr<ClientListener> listener(new ClientListener());
  Impl& impl = *listener->impl_;
  for (const std::string& address : addresses) {
    const auto [host, port] = split_listen_address(address);
    auto fail_with = [&](const std::string& why) {
      return fail(Code::unavailable, "cannot listen on " + address + ": " + why +
                                         "; choose another with --client-urls");
    };
    error_code ec;
    tcp::resolver resolver(impl.io);
    auto found = resolver.resolve(host.empty() ? "0.0.0.0" : host, port,
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || found.empty()) return fail_with("the host does not resolve: " + ec.message());
    tcp::acceptor acceptor(impl.io);
    const tcp::endpoint endpoint = found.begin()->endpoint();
    if (!acceptor.open(endpoint.protocol(), ec) &&
        !acceptor.set_option(tcp::acceptor::reuse_address(true), ec) &&
        !acceptor.bind(endpoint, ec) && !acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
      listener->ports_.push_back(acceptor.local_endpoint().port());
      impl.acceptors.push_back(std::move(acceptor));
      continue;
    }
    return fail_with(ec.message());
  }
  return listener;
}

void ClientListener::start(HandOff hand_off, Serve serve) {
  Impl& impl = *impl_;
  impl.hand_off = std::move(hand_off);
  impl.serve = std::move(serve);
  for (auto& acceptor : impl.acceptors) impl.accept(acceptor);
  impl.io_thread = std::thread([&impl] {
    name_this_thread("client-accept");
    impl.io.run();
  });
}

void ClientListener::stop() {
  Impl& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  // Streams first: their threads end once their cancels ran (a gRPC stream's Read returns).
  impl.streams->stop_all(std::chrono::seconds(10));
  impl.io.stop();
  if (impl.io_thread.joinable()) impl.io_thread.join();
  impl.serve_pool.join();  // requests being served finish (their replies are dropped)
  for (auto& acceptor : impl.acceptors) {
    error_code ignored;
    acceptor.close(ignored);  // the port is free once stop() returns
  }
}

}  // namespace mgmt::store::server
