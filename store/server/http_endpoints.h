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

#include <string>
#include <vector>
#include <utility>

namespace mgmt::store::server {

class JsonGateway;
struct ServiceContext;

struct HttpReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
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
