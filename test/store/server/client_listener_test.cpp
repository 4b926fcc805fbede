// client_listener_test.cpp: the client port tells gRPC from plain HTTP by the first bytes, on
// real loopback sockets: HTTP/1.1 requests are served (keep-alive, HEAD, bad requests), HTTP/2
// connections reach gRPC with nothing consumed (even when the preface arrives in pieces), and a
// client that sends nothing holds up no one.
#include "store/server/client_listener.h"

#include "store/client/etcd_client.h"
#include "test/support/fuzz/mutator.h"
#include "test/support/process/loopback_client.h"
#include "test/support/store/our_store.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <vector>

using mgmt::store::server::ClientListener;
using mgmt::store::server::HttpReply;
using mgmt::test::LoopbackClient;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// A listener on a free loopback port whose HTTP side echoes the request and whose gRPC side
// keeps the descriptors it is handed.
struct Fixture {
  Fixture() {
    auto opened = ClientListener::open({"127.0.0.1:0"});
    REQUIRE(opened);
    listener = std::move(*opened);
    port = listener->ports().front();
    listener->start(
        [this](int fd) {
          std::lock_guard lock(mutex);
          handed.push_back(fd);
          cv.notify_all();
        },
        [](const std::string& method, const std::string& target, const std::string&) {
          if (target == "/missing") return HttpReply{404, "text/plain", "404 page not found\n", {}};
          return HttpReply{200, "text/plain", method + " " + target, {{"X-Test", "yes"}}};
        });
  }
  ~Fixture() {
    listener.reset();
    for (int fd : handed) ::close(fd);
  }
  // The next descriptor handed to "gRPC", or -1 after 5 s.
  int next_handed() {
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, 5s, [&] { return handed.size() > taken; })) return -1;
    return handed[taken++];
  }

  std::unique_ptr<ClientListener> listener;
  int port = 0;
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int> handed;
  std::size_t taken = 0;
};

std::string read_fd(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, out.data() + got, n - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

}  // namespace

TEST_CASE("client port: HTTP/1.1 requests are served, with etcd's headers",
          "[store][client_listener]") {
  Fixture f;
  const std::string response = mgmt::test::http_request(f.port, "GET", "/health?x=1");
  CHECK(mgmt::test::http_status(response) == 200);
  CHECK(mgmt::test::http_body(response) == "GET /health?x=1");
  CHECK(mgmt::test::http_header(response, "X-Test") == "yes");
  CHECK(mgmt::test::http_header(response, "Access-Control-Allow-Origin") == "*");
  CHECK(mgmt::test::http_header(response, "Content-Length") == "15");
  CHECK_FALSE(mgmt::test::http_header(response, "Date").empty());
  CHECK(mgmt::test::http_status(mgmt::test::http_request(f.port, "GET", "/missing")) == 404);
  // HEAD: the GET's headers, no body.
  const std::string head = mgmt::test::http_request(f.port, "HEAD", "/version");
  CHECK(mgmt::test::http_header(head, "Content-Length") == "13");
  CHECK(mgmt::test::http_body(head).empty());
}

TEST_CASE("client port: one connection serves several requests (keep-alive)",
          "[store][client_listener]") {
  Fixture f;
  LoopbackClient client(f.port);
  REQUIRE(client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(client.read_until("GET /a", 5s));
  REQUIRE(client.send("GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string all = client.read_to_end(5s);
  CHECK(all.find("GET /b") != std::string::npos);
  CHECK(f.handed.empty());
}

TEST_CASE("client port: a request that does not parse gets 400 and the connection closes",
          "[store][client_listener]") {
  Fixture f;
  LoopbackClient client(f.port);
  REQUIRE(client.send(std::string("\x01\x02 nonsense\r\n\r\n")));
  const std::string response = client.read_to_end(5s);
  CHECK(mgmt::test::http_status(response) == 400);
  // The listener still serves.
  CHECK(mgmt::test::http_status(mgmt::test::http_request(f.port, "GET", "/x")) == 200);
}

TEST_CASE("client port: HTTP/2 connections go to gRPC with their bytes unread",
          "[store][client_listener]") {
  Fixture f;
  SECTION("the preface in one piece") {
    LoopbackClient client(f.port);
    REQUIRE(client.send(kPreface));
    const int fd = f.next_handed();
    REQUIRE(fd >= 0);
    CHECK(read_fd(fd, std::string(kPreface).size()) == kPreface);
  }
  SECTION("the preface one byte first, the rest later") {
    LoopbackClient client(f.port);
    REQUIRE(client.send("P"));
    // The listener must not decide on one byte: "P" also starts POST and PUT.
    REQUIRE(mgmt::test::http_status(mgmt::test::http_request(f.port, "GET", "/x")) == 200);
    REQUIRE(client.send(std::string(kPreface).substr(1)));
    const int fd = f.next_handed();
    REQUIRE(fd >= 0);
    CHECK(read_fd(fd, std::string(kPreface).size()) == kPreface);
  }
  SECTION("POST and PUT are HTTP/1.1, not HTTP/2") {
    CHECK(mgmt::test::http_body(mgmt::test::http_request(f.port, "POST", "/p")) == "POST /p");
    CHECK(mgmt::test::http_body(mgmt::test::http_request(f.port, "PUT", "/p")) == "PUT /p");
    CHECK(f.handed.empty());
  }
}

TEST_CASE("client port: a client that sends nothing holds up no one",
          "[store][client_listener]") {
  Fixture f;
  std::vector<std::unique_ptr<LoopbackClient>> silent;
  for (int i = 0; i < 20; ++i) silent.push_back(std::make_unique<LoopbackClient>(f.port));
  CHECK(mgmt::test::http_status(mgmt::test::http_request(f.port, "GET", "/x")) == 200);
  LoopbackClient grpc(f.port);
  REQUIRE(grpc.send(kPreface));
  CHECK(f.next_handed() >= 0);
}

TEST_CASE("client port: a port in use is refused naming it, and stop() frees the port",
          "[store][client_listener]") {
  int port = 0;
  {
    Fixture f;
    port = f.port;
    auto second = ClientListener::open({"127.0.0.1:" + std::to_string(port)});
    REQUIRE_FALSE(second);
    CHECK(second.error().message() ==
          "cannot listen on 127.0.0.1:" + std::to_string(port) +
              ": Address already in use; choose another with --client-urls");
  }
  auto again = ClientListener::open({"127.0.0.1:" + std::to_string(port)});
  CHECK(again);
}

TEST_CASE("client port: mangled requests, HTTP and HTTP/2, leave a member serving both",
          "[store][client_listener]") {
  mgmt::test::OurStore store;
  const int port = store.port();
  const std::vector<std::string> seeds = {
      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\nGET /version HTTP/1.0\r\n\r\n",
      "POST /v3/kv/range HTTP/1.1\r\nContent-Length: 14\r\n\r\n{\"key\":\"Zm9v\"}",
      std::string(kPreface) + std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9),
  };
  constexpr char kAlphabet[] = " \r\n:/?%PRIGETHOSconten-lgh0123456789\x00\xff";
  const std::string alphabet(kAlphabet, sizeof kAlphabet - 1);  // with its NUL byte
  mgmt::test::Mutator mutator(20261201);
  for (int i = 0; i < 300; ++i) {
    LoopbackClient client(port);
    REQUIRE(client.connected());
    (void)client.send(mutator.mutate(seeds[static_cast<std::size_t>(i) % seeds.size()],
                                     alphabet, 8));
    (void)client.read_until("\r\n\r\n", 20ms);  // whatever comes; then hang up
  }
  // Gateway watches whose clients hang up at once or after the first answer: each hang-up
  // cancels a gRPC stream in progress, which must end cleanly.
  const std::string watch = R"({"create_request":{"key":"YQ==","start_revision":"1"}})";
  for (int i = 0; i < 50; ++i) {
    LoopbackClient client(port);
    REQUIRE(client.send("POST /v3/watch HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                        std::to_string(watch.size()) + "\r\n\r\n" + watch));
    if (i % 2 == 0) (void)client.read_until("\"created\":true", 5s);
  }
  // Still serving: HTTP and gRPC on the same port.
  CHECK(mgmt::test::http_status(mgmt::test::http_request(port, "GET", "/health")) == 200);
  auto client = mgmt::store::client::EtcdClient::open({store.endpoint()});
  REQUIRE(client);
  CHECK((*client)->put("after", "mangling"));
  auto got = (*client)->get("after");
  REQUIRE(got);
  REQUIRE(got->kvs.size() == 1);
  CHECK(got->kvs[0].value == "mangling");
}

TEST_CASE("client port: a streamed answer is chunked, and ends when the client leaves or the "
          "listener stops", "[store][client_listener]") {
  auto opened = ClientListener::open({"127.0.0.1:0"});
  REQUIRE(opened);
  std::unique_ptr<ClientListener> listener = std::move(*opened);
  const int port = listener->ports().front();
  std::mutex mutex;
  std::condition_variable cv;
  int cancels = 0, ended = 0;
  listener->start([](int fd) { ::close(fd); },
                  [&](const std::string&, const std::string& target, const std::string& body) {
                    HttpReply reply{200, "application/json", "", {}, {}};
                    reply.stream = [&, target, body](mgmt::store::server::HttpStream& out) {
                      bool cancelled = false;
                      out.on_close([&] {
                        std::lock_guard lock(mutex);
                        cancelled = true;
                        ++cancels;
                        cv.notify_all();
                      });
                      out.write("first " + body + "\n");
                      out.write("second\n");
                      if (target == "/forever") {
                        std::unique_lock lock(mutex);
                        cv.wait(lock, [&] { return cancelled; });
                      }
                      out.on_close(nullptr);
                      std::lock_guard lock(mutex);
                      ++ended;
                      cv.notify_all();
                    };
                    return reply;
                  });
  auto wait_for = [&](int& counter, int value) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 5s, [&] { return counter >= value; });
  };
  SECTION("a stream that ends by itself ends the answer") {
    const std::string response = mgmt::test::http_request(port, "POST", "/once", "{}");
    CHECK(mgmt::test::http_header(response, "Transfer-Encoding") == "chunked");
    CHECK(mgmt::test::http_body(response) == "first {}\nsecond\n");
    CHECK(wait_for(ended, 1));
    CHECK(cancels == 0);
  }
  SECTION("a client that hangs up cancels its stream") {
    {
      LoopbackClient client(port);
      REQUIRE(client.send("POST /forever HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"));
      REQUIRE(client.read_until("second\n", 5s));
    }
    CHECK(wait_for(ended, 1));
    CHECK(cancels == 1);
  }
  SECTION("stop() cancels the streams in progress and waits for them") {
    LoopbackClient client(port);
    REQUIRE(client.send("POST /forever HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
    REQUIRE(client.read_until("second\n", 5s));
    listener->stop();
    CHECK(ended == 1);  // stop() returned after the stream's thread finished
    CHECK(cancels == 1);
  }
}
