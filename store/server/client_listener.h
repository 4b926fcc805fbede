// client_listener.h: the listening sockets of a member's client URLs. etcd serves gRPC and plain
// HTTP/1.1 (/health, /version, /metrics) on the same port, and monitoring, load balancers and
// `etcdctl check datascale` rely on it; so does this. The first bytes of each accepted
// connection tell them apart: HTTP/2's preface starts "PRI", which no HTTP/1.1 method does.
// A gRPC connection is handed to the gRPC server (which owns the descriptor from then on); an
// HTTP/1.1 connection is served here, request by request (keep-alive), by the `Serve` callback.
// Threads: one accepts, sniffs and does all socket I/O (it never blocks); a pool of 4 runs
// `Serve` (/health may wait up to a second for a quorum read, a /v3 call for Raft). A connection that sends nothing for
// 10 s, or an HTTP one idle for 60 s, is closed.
// Life: open() binds (so that a port in use fails before anything is served), start() accepts,
// stop() (idempotent, also from the destructor) closes the sockets and joins the threads.
#pragma once

#include "common/result.h"
#include "store/server/http_endpoints.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mgmt::store::server {

class ClientListener {
 public:
  using HandOff = std::function<void(int fd)>;
  using Serve = std::function<HttpReply(const std::string& method, const std::string& target,
                                        const std::string& body)>;

  // Binds every address ("host:port", as listen_address() gives; port 0 picks a free one).
  [[nodiscard]] static Result<std::unique_ptr<ClientListener>> open(
      const std::vector<std::string>& addresses);
  ~ClientListener();
  ClientListener(const ClientListener&) = delete;
  ClientListener& operator=(const ClientListener&) = delete;

  // The bound ports, in the order of the addresses.
  const std::vector<int>& ports() const { return ports_; }
  void start(HandOff hand_off, Serve serve);
  void stop();

 private:
  struct Impl;
  ClientListener();

  std::unique_ptr<Impl> impl_;
  std::vector<int> ports_;
};

}  // namespace mgmt::store::server
