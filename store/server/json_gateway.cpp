// json_gateway.cpp: see json_gateway.h.
#include "store/server/json_gateway.h"

#include "common/json_text.h"
#include "store/server/declined_services.h"
#include "etcd/rpc.grpc.pb.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

namespace mgmt::store::server {
namespace {

constexpr auto kCallTimeout = std::chrono::seconds(30);

// grpc-gateway v1's mapping from a gRPC code to the HTTP status of the answer.
int http_status_of(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 200;
    case grpc::StatusCode::CANCELLED: return 408;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS: return 409;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::FAILED_PRECONDITION: return 412;
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    default: return 500;  // UNKNOWN, INTERNAL, DATA_LOSS
  }
}

HttpReply error_reply(grpc::StatusCode code, const std::string& message) {
  nlohmann::ordered_json body;
  body["error"] = message;
  body["message"] = message;
  body["code"] = static_cast<int>(code);
  return HttpReply{http_status_of(code), "application/json", json_text(body), {}, {}};
}

// As grpc-gateway v1 prints a message: the .proto names, no default values.
std::string message_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, print);
  return json;
}

// A request from its proto3 JSON as grpc-gateway v1 reads it (unknown fields ignored); the
// parser's message when it does not parse.
std::optional<std::string> parse_request(const std::string& json,
                                         google::protobuf::Message* request) {
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, request, parse);
  if (parsed.ok()) return std::nullopt;
  return std::string(parsed.message());
}

// One unary method of one service, called through `stub`.
template <typename Stub, typename Request, typename Response>
std::function<HttpReply(const std::string&)> unary(
    std::shared_ptr<Stub> stub,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*)) {
  return [stub, method](const std::string& body) {
    Request request;  // an empty body is an empty request, as etcd's gateway reads it
    if (auto bad = parse_request(body.empty() ? "{}" : body, &request)) {
      return error_reply(grpc::StatusCode::INVALID_ARGUMENT, *bad);
    }
    Response response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    const grpc::Status status = ((*stub).*method)(&context, request, &response);
    if (!status.ok()) return error_reply(status.error_code(), status.error_message());
    return HttpReply{200, "application/json", message_json(response), {}, {}};
  };
}

// A bidirectional stream, as grpc-gateway streams one: the body's JSON objects are the requests
// (sent, then the stream is half-closed); each answer goes to the client as one line,
// {"result":…}, while the stream lasts (a watch: until the client leaves). A body that does
// not parse is a 500, as etcd's.
template <typename Stub, typename Request, typename Response>
std::function<HttpReply(const std::string&)> bidi_stream(
    std::shared_ptr<Stub> stub,
    std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> (Stub::*method)(
        grpc::ClientContext*)) {
  return [stub, method](const std::string& body) {
    std::vector<Request> requests;
    std::istringstream in(body);
    while ((in >> std::ws) && in.peek() != std::char_traits<char>::eof()) {
      nlohmann::json value;
      try {
        in >> value;
      } catch (const nlohmann::json::exception& e) {
        return error_reply(grpc::StatusCode::UNKNOWN, e.what());
      }
      Request request;
      if (auto bad = parse_request(value.dump(), &request)) {
        return error_reply(grpc::StatusCode::UNKNOWN, *bad);
      }
      requests.push_back(std::move(request));
    }
    HttpReply reply{200, "application/json", "", {{"Grpc-Metadata-Content-Type",
                                                   "application/grpc"}}, {}};
    reply.stream = [stub, method, requests = std::move(requests)](HttpStream& out) {
      grpc::ClientContext context;
      out.on_close([&context] { context.TryCancel(); });
      auto stream = ((*stub).*method)(&context);
      // Sent from a thread of its own: over the in-process channel a write completes only once
      // the server reads it, and the server may be writing an answer that waits for our read.
      std::thread sender([&] {
        for (const Request& r : requests) {
          if (!stream->Write(r)) break;
        }
        stream->WritesDone();
      });
      Response response;
      bool client_left = false;
      while (stream->Read(&response)) {
        if (!out.write("{\"result\":" + message_json(response) + "}\n")) {
          client_left = true;
          break;
        }
      }
      out.on_close(nullptr);
      if (client_left) context.TryCancel();
      sender.join();
      const grpc::Status status = stream->Finish();
      if (!status.ok() && !client_left && status.error_code() != grpc::StatusCode::CANCELLED) {
        out.write(error_reply(status.error_code(), status.error_message()).body + "\n");
      }
    };
    return reply;
  };
}

// A server stream (Snapshot), as grpc-gateway streams one: the body is the one request; each
// answer goes to the client as one line, {"result":…}, until the stream ends.
template <typename Stub, typename Request, typename Response>
std::function<HttpReply(const std::string&)> server_stream(
    std::shared_ptr<Stub> stub,
    std::unique_ptr<grpc::ClientReader<Response>> (Stub::*method)(grpc::ClientContext*,
                                                                   const Request&)) {
  return [stub, method](const std::string& body) {
    Request request;
    if (auto bad = parse_request(body.empty() ? "{}" : body, &request)) {
      return error_reply(grpc::StatusCode::UNKNOWN, *bad);
    }
    HttpReply reply{200, "application/json", "", {{"Grpc-Metadata-Content-Type",
                                                   "application/grpc"}}, {}};
    reply.stream = [stub, method, request](HttpStream& out) {
      grpc::ClientContext context;
      out.on_close([&context] { context.TryCancel(); });
      auto stream = ((*stub).*method)(&context, request);
      Response response;
      bool client_left = false;
      while (stream->Read(&response)) {
        if (!out.write("{\"result\":" + message_json(response) + "}\n")) {
          client_left = true;
          context.TryCancel();
          break;
        }
      }
      out.on_close(nullptr);
      const grpc::Status status = stream->Finish();
      if (!status.ok() && !client_left && status.error_code() != grpc::StatusCode::CANCELLED) {
        out.write(error_reply(status.error_code(), status.error_message()).body + "\n");
      }
    };
    return reply;
  };
}

// The path under /v3 ("/kv/put"), or "" when `path` is not the gateway's.
std::string route_of(const std::string& path) {
  for (const char* prefix : {"/v3/", "/v3beta/", "/v3alpha/"}) {
    const std::string p(prefix);
    if (path.rfind(p, 0) == 0) return path.substr(p.size() - 1);
  }
  return "";
}

}  // namespace

struct JsonGateway::Stubs {
  std::shared_ptr<etcdserverpb::KV::Stub> kv;
  std::shared_ptr<etcdserverpb::Watch::Stub> watch;
  std::shared_ptr<etcdserverpb::Lease::Stub> lease;
  std::shared_ptr<etcdserverpb::Cluster::Stub> cluster;
  std::shared_ptr<etcdserverpb::Maintenance::Stub> maintenance;
  std::shared_ptr<etcdserverpb::Auth::Stub> auth;
};

JsonGateway::JsonGateway(std::shared_ptr<grpc::Channel> channel)
    : stubs_(std::make_unique<Stubs>()) {
  using namespace etcdserverpb;
  Stubs& s = *stubs_;
  s.kv = KV::NewStub(channel);
  s.watch = Watch::NewStub(channel);
  s.lease = Lease::NewStub(channel);
  s.cluster = Cluster::NewStub(channel);
  s.maintenance = Maintenance::NewStub(channel);
  s.auth = Auth::NewStub(channel);
  // The paths of etcd 3.4's rpc.proto (google.api.http); /maintenance/hash is Hash's there.
  routes_ = {
      {"/kv/range", unary(s.kv, &KV::Stub::Range)},
      {"/kv/put", unary(s.kv, &KV::Stub::Put)},
      {"/kv/deleterange", unary(s.kv, &KV::Stub::DeleteRange)},
      {"/kv/txn", unary(s.kv, &KV::Stub::Txn)},
      {"/kv/compaction", unary(s.kv, &KV::Stub::Compact)},
      {"/watch", bidi_stream(s.watch, &Watch::Stub::Watch)},
      {"/lease/keepalive", bidi_stream(s.lease, &Lease::Stub::LeaseKeepAlive)},
      {"/lease/grant", unary(s.lease, &Lease::Stub::LeaseGrant)},
      {"/lease/revoke", unary(s.lease, &Lease::Stub::LeaseRevoke)},
      {"/kv/lease/revoke", unary(s.lease, &Lease::Stub::LeaseRevoke)},
      {"/lease/timetolive", unary(s.lease, &Lease::Stub::LeaseTimeToLive)},
      {"/kv/lease/timetolive", unary(s.lease, &Lease::Stub::LeaseTimeToLive)},
      {"/lease/leases", unary(s.lease, &Lease::Stub::LeaseLeases)},
      {"/kv/lease/leases", unary(s.lease, &Lease::Stub::LeaseLeases)},
      {"/cluster/member/add", unary(s.cluster, &Cluster::Stub::MemberAdd)},
      {"/cluster/member/remove", unary(s.cluster, &Cluster::Stub::MemberRemove)},
      {"/cluster/member/update", unary(s.cluster, &Cluster::Stub::MemberUpdate)},
      {"/cluster/member/list", unary(s.cluster, &Cluster::Stub::MemberList)},
      {"/cluster/member/promote", unary(s.cluster, &Cluster::Stub::MemberPromote)},
      {"/maintenance/alarm", unary(s.maintenance, &Maintenance::Stub::Alarm)},
      {"/maintenance/status", unary(s.maintenance, &Maintenance::Stub::Status)},
      {"/maintenance/defragment", unary(s.maintenance, &Maintenance::Stub::Defragment)},
      {"/maintenance/hash", unary(s.maintenance, &Maintenance::Stub::Hash)},
      {"/maintenance/snapshot", server_stream(s.maintenance, &Maintenance::Stub::Snapshot)},
      {"/maintenance/transfer-leadership", unary(s.maintenance, &Maintenance::Stub::MoveLeader)},
      {"/auth/enable", unary(s.auth, &Auth::Stub::AuthEnable)},
      {"/auth/disable", unary(s.auth, &Auth::Stub::AuthDisable)},
      {"/auth/authenticate", unary(s.auth, &Auth::Stub::Authenticate)},
      {"/auth/user/add", unary(s.auth, &Auth::Stub::UserAdd)},
      {"/auth/user/get", unary(s.auth, &Auth::Stub::UserGet)},
      {"/auth/user/list", unary(s.auth, &Auth::Stub::UserList)},
      {"/auth/user/delete", unary(s.auth, &Auth::Stub::UserDelete)},
      {"/auth/user/changepw", unary(s.auth, &Auth::Stub::UserChangePassword)},
      {"/auth/user/grant", unary(s.auth, &Auth::Stub::UserGrantRole)},
      {"/auth/user/revoke", unary(s.auth, &Auth::Stub::UserRevokeRole)},
      {"/auth/role/add", unary(s.auth, &Auth::Stub::RoleAdd)},
      {"/auth/role/get", unary(s.auth, &Auth::Stub::RoleGet)},
      {"/auth/role/list", unary(s.auth, &Auth::Stub::RoleList)},
      {"/auth/role/delete", unary(s.auth, &Auth::Stub::RoleDelete)},
      {"/auth/role/grant", unary(s.auth, &Auth::Stub::RoleGrantPermission)},
      {"/auth/role/revoke", unary(s.auth, &Auth::Stub::RoleRevokePermission)},
  };
}

JsonGateway::~JsonGateway() = default;

bool JsonGateway::owns(const std::string& path) { return !route_of(path).empty(); }

HttpReply JsonGateway::handle(const std::string& method, const std::string& path,
                              const std::string& body) const {
  const std::string route = route_of(path);
  auto it = routes_.find(route);
  const DeclinedService* declined = nullptr;
  for (const auto& service : kDeclinedServices) {
    if (route.rfind(service.gateway_prefix, 0) == 0) declined = &service;
  }
  if (it == routes_.end() && declined == nullptr) {
    return HttpReply{404, "text/plain; charset=utf-8", "Not Found\n",
                     {{"X-Content-Type-Options", "nosniff"}}, {}};
  }
  if (method != "POST") {
    return HttpReply{405, "text/plain; charset=utf-8", "Method Not Allowed\n", {}, {}};
  }
  if (it == routes_.end()) return error_reply(grpc::StatusCode::UNIMPLEMENTED, declined->why);
  return it->second(body);
}

}  // namespace mgmt::store::server
