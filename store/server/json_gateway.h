// json_gateway.h: etcd's gRPC gateway, the JSON form of the v3 API that `curl` users know:
// POST /v3/kv/put with {"key":"Zm9v","value":"YmFy"} (bytes in base64) answers the PutResponse
// as JSON. As etcd 3.4 (grpc-gateway v1): the request body is the request message in proto3
// JSON (unknown fields ignored); the answer uses the .proto field names, omits default values,
// writes 64-bit integers as strings; a failure is {"error":…,"message":…,"code":N} with the
// HTTP status of the gRPC code (NotFound 404, FailedPrecondition 412, …); a path known for POST
// but asked with another method is 405, an unknown /v3 path 404 "Not Found". /v3beta/ and
// /v3alpha/ are the same paths. Every call goes through this member's own gRPC services (an
// in-process channel), so that it is validated and answered exactly as over gRPC.
// /v3/watch and /v3/lease/keepalive stream: the body's JSON objects are the requests, each
// answer is a line {"result":…} of a chunked reply, as long as the stream lasts (a watch: until
// the client hangs up). Not served: /v3/maintenance/snapshot and the auth user and role calls,
// which this store does not implement over gRPC either.
#pragma once

#include "store/server/http_endpoints.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace grpc {
class Channel;
}

namespace mgmt::store::server {

class JsonGateway {
 public:
  // `channel`: to this member's gRPC server (grpc::Server::InProcessChannel).
  explicit JsonGateway(std::shared_ptr<grpc::Channel> channel);
  ~JsonGateway();

  // Whether `path` is the gateway's (it starts with /v3/, /v3beta/ or /v3alpha/).
  static bool owns(const std::string& path);
  HttpReply handle(const std::string& method, const std::string& path,
                   const std::string& body) const;

 private:
  using Call = std::function<HttpReply(const std::string& body)>;
  struct Stubs;

  std::unique_ptr<Stubs> stubs_;
  std::map<std::string, Call> routes_;  // by path under /v3
};

}  // namespace mgmt::store::server
