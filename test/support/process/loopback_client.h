// loopback_client.h: a raw TCP connection to a port on 127.0.0.1, for tests that speak bytes
// (HTTP/1.1 by hand, a half-sent preface, a client that never sends) rather than through a
// client library. Every read is bounded by a timeout; nothing here blocks forever.
#pragma once

#include <chrono>
#include <string>

namespace mgmt::test {

class LoopbackClient {
 public:
  explicit LoopbackClient(int port);  // connected() says whether it worked
  ~LoopbackClient();
  LoopbackClient(const LoopbackClient&) = delete;
  LoopbackClient& operator=(const LoopbackClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // What arrives until `until` is in it (true), the peer closes or the timeout passes (false).
  bool read_until(const std::string& until, std::chrono::milliseconds timeout);
  // Whatever arrives next (false when the peer closed or nothing came in time).
  bool read_some(std::chrono::milliseconds timeout) {
    return read_more(std::chrono::steady_clock::now() + timeout);
  }
  // Everything until the peer closes (or the timeout passes).
  std::string read_to_end(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string received_;
};

// One HTTP/1.1 request with "Connection: close" to 127.0.0.1:port, with `body` if not empty;
// the whole raw response ("" if none came within 5 s).
std::string http_request(int port, const std::string& method, const std::string& target,
                         const std::string& body = "");
// The status code and body of a raw HTTP/1.1 response (code 0 when it does not parse).
int http_status(const std::string& response);
std::string http_body(const std::string& response);
std::string http_header(const std::string& response, const std::string& name);

}  // namespace mgmt::test
