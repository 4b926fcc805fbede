// loopback_client.cpp: see loopback_client.h.
#include "test/support/process/loopback_client.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace mgmt::test {

LoopbackClient::LoopbackClient(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

LoopbackClient::~LoopbackClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool LoopbackClient::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return fd_ >= 0;
}

// Appends what arrives next; false when the peer closed or nothing came before `deadline`.
bool LoopbackClient::read_more(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (fd_ < 0 || left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  received_.append(buf, static_cast<std::size_t>(n));
  return true;
}

bool LoopbackClient::read_until(const std::string& until, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.find(until) == std::string::npos) {
    if (!read_more(deadline)) return false;
  }
  return true;
}

std::string LoopbackClient::read_to_end(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (read_more(deadline)) {
  }
  return received_;
}

std::string http_request(int port, const std::string& method, const std::string& target,
                         const std::string& body) {
  LoopbackClient client(port);
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        "Connection: close\r\n";
  if (!body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!client.send(request + "\r\n" + body)) return "";
  return client.read_to_end(std::chrono::seconds(5));
}

int http_status(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

std::string http_body(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  if (at == std::string::npos) return "";
  std::string body = response.substr(at + 4);
  if (http_header(response, "Transfer-Encoding") != "chunked") return body;
  // Chunks: hex size, CRLF, data, CRLF; a zero size ends them (trailers after it are dropped).
  std::string joined;
  std::size_t pos = 0;
  for (;;) {
    const auto line_end = body.find("\r\n", pos);
    if (line_end == std::string::npos) break;
    const std::size_t size = std::strtoul(body.substr(pos, line_end - pos).c_str(), nullptr, 16);
    if (size == 0) break;
    joined += body.substr(line_end + 2, size);
    pos = line_end + 2 + size + 2;
  }
  return joined;
}

std::string http_header(const std::string& response, const std::string& name) {
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  };
  const std::string head = lower(response.substr(0, response.find("\r\n\r\n")));
  const std::string key = "\r\n" + lower(name) + ": ";
  const auto at = head.find(key);
  if (at == std::string::npos) return "";
  const auto start = at + key.size();
  const auto end = std::min(head.find("\r\n", start), head.size());  // the last header's end
  return response.substr(start, end - start);
}

}  // namespace mgmt::test
