// cluster_service.cpp: etcd's Cluster service: the membership as applied through Raft.
// MemberList answers locally; MemberAdd/Remove/Update/Promote are membership changes the
// leader proposes, so a follower forwards them to the leader.
#include "store/server/etcd_errors.h"
#include "store/server/leader_forward.h"
#include "store/server/raft_host.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

void to_pb(const Backend::Member& m, etcdserverpb::Member* out) {
  out->set_id(m.id());
  out->set_name(m.name());
  for (const auto& u : m.peer_urls()) out->add_peerurls(u);
  for (const auto& u : m.client_urls()) out->add_clienturls(u);
  out->set_islearner(m.is_learner());
}

// Whether `urls` are peer URLs as etcd's types.NewURLs takes them: at least one; each (spaces
// around it trimmed) a scheme http, https, unix or unixs, then host:port (a bracketed IPv6
// host, an optional user@), nothing after but a query, and no character a URL cannot hold.
// A member added with anything else could never be reached, and a lone member that took it as
// a voter would have lost its quorum.
bool peer_urls_valid(const google::protobuf::RepeatedPtrField<std::string>& urls) {
  if (urls.empty()) return false;
  for (std::string url : urls) {
    const auto first = url.find_first_not_of(" \t\r\n");
    const auto last = url.find_last_not_of(" \t\r\n");
    url = first == std::string::npos ? "" : url.substr(first, last - first + 1);
    for (unsigned char c : url) {
      if (c <= 0x20 || c == 0x7f) return false;
    }
    const auto sep = url.find("://");
    if (sep == std::string::npos) return false;
    const std::string scheme = url.substr(0, sep);
    if (scheme != "http" && scheme != "https" && scheme != "unix" && scheme != "unixs") {
      return false;
    }
    std::string authority = url.substr(sep + 3);
    const auto end = authority.find_first_of("/?#");
    if (end != std::string::npos) {
      if (authority[end] == '/') return false;  // a path
      authority.resize(end);
    }
    if (const auto at = authority.rfind('@'); at != std::string::npos) {
      authority.erase(0, at + 1);
    }
    if (!authority.empty() && authority.front() == '[') {
      const auto close = authority.find(']');
      if (close == std::string::npos || close + 1 >= authority.size() ||
          authority[close + 1] != ':') {
        return false;
      }
      authority.erase(0, close + 1);
    }
    const auto colon = authority.find(':');
    if (colon == std::string::npos || authority.find(':', colon + 1) != std::string::npos) {
      return false;  // no port separator, or an IPv6 host without brackets
    }
  }
  return true;
}

grpc::Status bad_urls() {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, kErrMemberBadURLs);
}

class ClusterService final {
 public:
  explicit ClusterService(ServiceContext& context) : context_(context) {}

  // As etcd 3.4's cluster server: cluster id, member id and raft term, no revision.
  void fill(etcdserverpb::ResponseHeader* header) const {
    context_.fill(header);
    header->clear_revision();
  }

  grpc::Status MemberList(const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse* response) {
    fill(response->mutable_header());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberAdd(const etcdserverpb::MemberAddRequest* request,
                         etcdserverpb::MemberAddResponse* response) {
    if (!leader()) {
      return forward(
          [&](auto& stub, auto& ctx) { return stub.MemberAdd(&ctx, *request, response); });
    }
    if (!peer_urls_valid(request->peerurls())) return bad_urls();
    std::vector<std::string> urls(request->peerurls().begin(), request->peerurls().end());
    auto m = context_.backend.add_member(urls, request->islearner());
    if (!m) return to_status(m.error());
    fill(response->mutable_header());
    to_pb(*m, response->mutable_member());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberRemove(const etcdserverpb::MemberRemoveRequest* request,
                            etcdserverpb::MemberRemoveResponse* response) {
    if (!context_.backend.member(request->id())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    if (!leader()) {
      return forward(
          [&](auto& stub, auto& ctx) { return stub.MemberRemove(&ctx, *request, response); });
    }
    if (auto r = context_.backend.remove_member(request->id()); !r) return to_status(r.error());
    fill(response->mutable_header());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberUpdate(const etcdserverpb::MemberUpdateRequest* request,
                            etcdserverpb::MemberUpdateResponse* response) {
    if (!context_.backend.member(request->id())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    if (!leader()) {
      return forward(
          [&](auto& stub, auto& ctx) { return stub.MemberUpdate(&ctx, *request, response); });
    }
    // etcd 3.4 takes any URLs here, and a member given bad ones is cut off from its peers.
    if (!peer_urls_valid(request->peerurls())) return bad_urls();
    std::vector<std::string> urls(request->peerurls().begin(), request->peerurls().end());
    if (auto r = context_.backend.update_member(request->id(), urls); !r) {
      return to_status(r.error());
    }
    fill(response->mutable_header());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

  grpc::Status MemberPromote(const etcdserverpb::MemberPromoteRequest* request,
                             etcdserverpb::MemberPromoteResponse* response) {
    if (!context_.backend.member(request->id())) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, kErrMemberNotFound);
    }
    if (!leader()) {
      return forward(
          [&](auto& stub, auto& ctx) { return stub.MemberPromote(&ctx, *request, response); });
    }
    if (auto r = context_.backend.promote_member(request->id()); !r) return to_status(r.error());
    fill(response->mutable_header());
    list(response->mutable_members());
    return grpc::Status::OK;
  }

 private:
  bool leader() const { return context_.backend.is_leader(); }

  template <typename Call>
  grpc::Status forward(Call&& call) {
    const uint64_t lead = context_.host ? context_.host->leader_id() : 0;
    return forward_to_leader<etcdserverpb::Cluster>(context_.backend, lead,
                                                    std::forward<Call>(call));
  }

  void list(google::protobuf::RepeatedPtrField<etcdserverpb::Member>* out) const {
    for (const auto& m : context_.backend.members()) to_pb(m, out->Add());
  }

  ServiceContext& context_;
};

}  // namespace

void add_cluster_service(ServiceContext& context, rpc::RpcServer& server) {
  auto service = std::make_shared<ClusterService>(context);
  const std::string at = "/etcdserverpb.Cluster/";
  add_blocking(server, at + "MemberList", service, &ClusterService::MemberList);
  add_blocking(server, at + "MemberAdd", service, &ClusterService::MemberAdd);
  add_blocking(server, at + "MemberRemove", service, &ClusterService::MemberRemove);
  add_blocking(server, at + "MemberUpdate", service, &ClusterService::MemberUpdate);
  add_blocking(server, at + "MemberPromote", service, &ClusterService::MemberPromote);
}

}  // namespace mgmt::store::server
