// client_listener.cpp: see client_listener.h.
#include "store/server/client_listener.h"

#include "common/log.h"
#include "common/thread_name.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>

#include <chrono>
#include <ctime>
#include <optional>
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

}  // namespace

struct ClientListener::Impl {
  asio::io_context io;
  std::vector<tcp::acceptor> acceptors;
  asio::thread_pool serve_pool{4};
  std::thread io_thread;
  HandOff hand_off;
  Serve serve;
  bool stopped = false;

  void accept(tcp::acceptor& acceptor);
  void sniff(std::shared_ptr<tcp::socket> socket, std::shared_ptr<asio::steady_timer> deadline);
  void route(std::shared_ptr<tcp::socket> socket);
};

namespace {

// One HTTP/1.1 connection: read a request, have it served off the I/O thread, write the reply,
// and again while the client keeps the connection alive.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, asio::thread_pool& pool, const ClientListener::Serve& serve)
      : stream_(std::move(socket)), pool_(pool), serve_(serve) {}

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
        return write(HttpReply{400, "text/plain; charset=utf-8", "400 Bad Request", {}});
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

  void write(HttpReply reply) {
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(reply.status));
    response_.set(http::field::access_control_allow_headers, "accept, content-type, authorization");
    response_.set(http::field::access_control_allow_methods, "POST, GET, OPTIONS, PUT, DELETE");
    response_.set(http::field::access_control_allow_origin, "*");
    response_.set(http::field::content_type, reply.content_type);
    response_.set(http::field::date, http_date());
    for (const auto& [name, value] : reply.headers) response_.set(name, value);
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

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  asio::thread_pool& pool_;
  const ClientListener::Serve& serve_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
  bool head_ = false;
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
    std::make_shared<HttpSession>(std::move(*socket), serve_pool, serve)->read();
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
    const auto colon = address.rfind(':');
    std::string host = address.substr(0, colon);
    const std::string port = address.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
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
  impl.io.stop();
  if (impl.io_thread.joinable()) impl.io_thread.join();
  impl.serve_pool.join();  // requests being served finish (their replies are dropped)
  for (auto& acceptor : impl.acceptors) {
    error_code ignored;
    acceptor.close(ignored);  // the port is free once stop() returns
  }
}

}  // namespace mgmt::store::server
