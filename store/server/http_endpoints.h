// http_endpoints.h: what etcd serves over plain HTTP/1.1 on its client URLs, beside gRPC, and
// that monitoring and scripts rely on: GET /health (a quorum read succeeds: {"health":"true"},
// else 503 {"health":"false"}), GET /version ({"etcdserver":…,"etcdcluster":…}) and
// GET /metrics (Prometheus text: the process's memory, CPU and descriptors, and the member's
// leader, Raft indexes, revision and db size; `etcdctl check datascale` reads
// process_resident_memory_bytes). Paths under /v3/ go to the JSON gateway (json_gateway.h).
// Anything else: 404, as etcd.
// Invariants: every value in /metrics is measured, none is a constant standing in for one;
// handle() may block up to the store's request timeout (/health), so callers run it off the
// thread that accepts connections.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mgmt::store::server {

class JsonGateway;
struct ServiceContext;

// The client side of a streamed answer (chunked, as etcd's gateway streams a watch).
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Queues bytes for the client; false once the client left or the server is stopping.
  virtual bool write(std::string bytes) = 0;
  // `cancel` runs once when the client leaves or the server stops (at once if that happened
  // already); on_close(nullptr) before what `cancel` refers to goes away.
  virtual void on_close(std::function<void()> cancel) = 0;
};

struct HttpReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
  // When set, the answer is streamed: status and headers, then what this writes (on a thread
  // of its own) until it returns or the client leaves; `body` is unused.
  std::function<void(HttpStream&)> stream;
};

class HttpEndpoints {
 public:
  HttpEndpoints(ServiceContext& context, const JsonGateway& gateway)
      : context_(context), gateway_(gateway) {}
  HttpReply handle(const std::string& method, const std::string& target,
                   const std::string& body) const;

 private:
  HttpReply health() const;
  HttpReply metrics() const;

  ServiceContext& context_;
  const JsonGateway& gateway_;
};

}  // namespace mgmt::store::server
