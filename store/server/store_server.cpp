// store_server.cpp: serving a member over gRPC; see store_server.h.
#include "store/server/store_server.h"

#include "store/rpc/event_loop.h"

#include "common/log.h"
#include "store/server/backend.h"
#include "store/server/client_listener.h"
#include "store/server/declined_services.h"
#include "store/server/json_gateway.h"
#include "store/server/progress_ticker.h"
#include "store/server/etcd_errors.h"
#include "store/server/raft_host.h"
#include "store/server/services.h"

#include <absl/synchronization/mutex.h>
#include <fmt/ranges.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/create_channel_posix.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

namespace mgmt::store::server {

void ServiceContext::fill(etcdserverpb::ResponseHeader* header) const {
  fill(header, backend.revision());
}

void ServiceContext::fill(etcdserverpb::ResponseHeader* header, int64_t revision) const {
  header->set_cluster_id(backend.cluster_id());
  header->set_member_id(backend.member_id());
  header->set_revision(revision);
  header->set_raft_term(backend.raft_term());
}

Result<std::string> listen_address(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return fail(Code::invalid_argument, "client URL \"" + url + "\" cannot be served (" + why +
                                            "); use one like http://127.0.0.1:2379");
  };
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    return bad("TLS is not supported yet");
  } else {
    return bad("the scheme must be http");
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || (rest.front() == '[' && rest.back() == ']')) {
    return bad("no port");
  }
  return rest;
}

HostPort split_listen_address(const std::string& address) {
  const auto colon = address.rfind(':');
  HostPort out{address.substr(0, colon), address.substr(colon + 1)};
  if (out.host.size() >= 2 && out.host.front() == '[') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return out;
}

namespace {

// Why `address` ("host:port", from listen_address) cannot be listened on, found by binding it
// once ourselves; "" when it can. gRPC only says that one of a server's ports failed.
std::string bind_problem(const std::string& address) {
  const auto [host, port] = split_listen_address(address);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return std::string("the host does not resolve: ") + ::gai_strerror(rc);
  }
  std::string problem;
  for (addrinfo* a = found; a != nullptr && problem.empty(); a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      problem = errno == EADDRINUSE      ? "the address is in use"
                : errno == EADDRNOTAVAIL ? "the address is not one of this machine's"
                : errno == EACCES        ? "a port below 1024 needs root"
                                         : std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return problem;
}

// The first of the URLs that cannot be listened on, as the one line a user reads (the URL, why,
// and the flag to change); nothing when all can.
std::optional<Error> first_unusable(const StoreConfig& config) {
  struct Url {
    const std::string& url;
    const char* flag;
  };
  std::vector<Url> urls;
  for (const auto& u : config.client_urls) urls.push_back({u, "--client-urls"});
  for (const auto& u : config.peer_urls) urls.push_back({u, "--server-urls"});
  for (const auto& [url, flag] : urls) {
    const std::string why = bind_problem(*listen_address(url));
    if (why.empty()) continue;
    const bool in_use = why == "the address is in use";
    return Error(Code::unavailable,
                 "cannot listen on " + url + ": " + why + "; " +
                     (in_use ? "stop what uses it or choose another" : "choose another") +
                     " with " + flag);
  }
  return std::nullopt;
}

}  // namespace

Result<void> check_listen(const StoreConfig& config) {
  for (const auto& url : config.client_urls) {
    if (auto a = listen_address(url); !a) return fail(a.error());
  }
  for (const auto& url : config.peer_urls) {
    if (auto a = listen_address(url); !a) return fail(a.error());
  }
  if (auto problem = first_unusable(config)) return fail(*problem);
  return ok();
}

Result<std::unique_ptr<StoreServer>> StoreServer::open(const StoreConfig& config) {
  std::unique_ptr<StoreServer> s(new StoreServer());
  s->config_ = config;
  // Before the store is opened: a start that cannot listen must not create a cluster in a fresh
  // data dir (started again with --seeds, that dir would belong to its own cluster).
  if (auto r = check_listen(config); !r) return fail(r.error());
  BackendConfig backend_config;
  backend_config.data_dir = config.data_dir;
  backend_config.member_name = config.member_name;
  backend_config.peer_urls = config.peer_urls;
  backend_config.client_urls = config.client_urls;
  backend_config.join_cluster_id = config.join_cluster_id;
  backend_config.join_member_id = config.join_member_id;
  backend_config.seeds_cluster_id = config.seeds_cluster_id;
  backend_config.seeds = config.seeds;
  backend_config.quota_backend_bytes = config.quota_backend_bytes;
  backend_config.health_interval = config.health_interval;
  auto backend = Backend::open(backend_config);
  if (!backend) return fail(backend.error());
  s->backend_ = std::move(*backend);
  s->context_.reset(new ServiceContext{*s->backend_, MemberInfo{config.member_name,
                                                                 config.peer_urls, {}}});
  s->progress_ticker_ = std::make_unique<ProgressTicker>(config.watch_progress_notify_interval);
  s->context_->progress_ticker = s->progress_ticker_.get();
  RaftHostConfig host_config;
  host_config.tick_interval = config.tick_interval;
  host_config.ideal_voters = config.ideal_voters;
  host_config.member_timeout = config.member_timeout;
  host_config.on_removed = config.on_removed;
  host_config.joining = config.join_member_id.has_value() || config.never_bootstrap;
  host_config.name = config.member_name;
  host_config.peer_urls =
      config.advertise_peer_urls.empty() ? config.peer_urls : config.advertise_peer_urls;
  host_config.compact_after = config.snapshot_count;
  host_config.keep_after_compaction = config.snapshot_catchup_entries;
  host_config.client_urls =
      config.advertise_client_urls.empty() ? config.client_urls : config.advertise_client_urls;
  host_config.initial_peers = config.join_peers;
  // One I/O thread for the client port, the peer port and the connections to the peers: a
  // Raft round started there by a request, the messages it sends and the answers it gives need
  // no other thread (RaftHost::run_rounds_through).
  s->loop_ = std::make_shared<rpc::EventLoop>(
      [] { RaftHost::run_rounds_through(&rpc::RpcServer::run_when_idle); });
  host_config.loop = s->loop_;
  auto host = RaftHost::open(*s->backend_, host_config);
  if (!host) return fail(host.error());
  s->host_ = std::move(*host);
  s->backend_->attach(s->host_.get());
  s->context_->host = s->host_.get();
  return s;
}

StoreServer::~StoreServer() { stop(); }

Result<void> StoreServer::start() {
  // Debian's abseil checks every mutex acquisition of gRPC's for lock-order cycles (a debugging
  // aid, on in its build): about 1% of the store's CPU under load, for nothing in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Two servers of our own (store/rpc/rpc_server.h), each behind our own listening sockets:
  // the clients' (etcd's 2 MiB message limit) and the peers', whose snapshots carry the whole
  // store and have no such limit (a 2 MiB one made a member that fell behind a store over 2 MiB
  // unrecoverable). Both run on the member's I/O loop, where a Raft round for the requests read
  // runs once the loop has read what is ready (RaftHost::run_rounds_through).
  // The client URLs are our own sockets (client_listener.h), so that plain HTTP (/health,
  // /version, /metrics) shares the port with gRPC as on etcd; gRPC gets its connections.
  std::vector<std::string> client_addresses;
  for (const auto& url : config_.client_urls) client_addresses.push_back(*listen_address(url));
  auto listener = ClientListener::open(client_addresses);
  if (!listener) {
    if (auto problem = first_unusable(config_)) return fail(*problem);
    return fail(listener.error());
  }
  listener_ = std::move(*listener);
  ports_ = listener_->ports();
  // The peer URLs serve the Raft peer service only, as etcd's serve its peer protocol (plain
  // HTTP there gets 404).
  std::vector<std::string> peer_addresses;
  for (const auto& url : config_.peer_urls) peer_addresses.push_back(*listen_address(url));
  auto peer_listener = ClientListener::open(peer_addresses);
  if (!peer_listener) {
    listener_.reset();
    if (auto problem = first_unusable(config_)) return fail(*problem);
    return fail(peer_listener.error());
  }
  peer_listener_ = std::move(*peer_listener);
  loop_->start();
  rpc::RpcServer::Options peer_options;
  peer_options.max_receive_bytes = std::numeric_limits<uint32_t>::max();
  peer_options.workers = 1;  // nothing blocks there
  peer_options.loop = loop_;
  peer_server_ = std::make_unique<rpc::RpcServer>(peer_options);
  host_->peer_service().add_to(*peer_server_);
  peer_server_->start();
  rpc::RpcServer::Options rpc_options;
  rpc_options.max_receive_bytes = kMaxReceiveMessageBytes;
  rpc_options.loop = loop_;
  server_ = std::make_unique<rpc::RpcServer>(rpc_options);
  add_kv_service(*context_, *server_);
  add_watch_service(*context_, *server_);
  add_lease_service(*context_, *server_);
  add_cluster_service(*context_, *server_);
  add_maintenance_service(*context_, *server_);
  add_auth_service(*context_, *server_);
  for (const auto& declined : kDeclinedServices) {
    server_->decline_service(declined.service, declined.why);
  }
  server_->start();
  context_->member.client_urls = client_endpoints();
  // The JSON gateway is a gRPC client of the same services, over a socket pair.
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail(Code::unavailable, std::string("cannot make the JSON gateway's socket pair: ") +
                                       std::strerror(errno));
  }
  server_->serve(pair[0]);
  grpc::ChannelArguments gateway_args;
  gateway_args.SetMaxReceiveMessageSize(-1);
  gateway_ = std::make_unique<JsonGateway>(
      grpc::CreateCustomInsecureChannelFromFd("localhost", pair[1], gateway_args));
  http_ = std::make_unique<HttpEndpoints>(*context_, *gateway_);
  listener_->start(
      [server = server_.get()](int fd) { server->serve(fd); },
      [http = http_.get()](const std::string& method, const std::string& target,
                           const std::string& body) { return http->handle(method, target, body); });
  peer_listener_->start([server = peer_server_.get()](int fd) { server->serve(fd); },
                        [](const std::string&, const std::string&, const std::string&) {
                          return HttpReply{404, "text/plain; charset=utf-8",
                                           "this is a member's peer URL: it serves Raft between "
                                           "members, not clients\n",
                                           {},
                                           nullptr};
                        });
  host_->start();
  publisher_ = std::thread([this] { publish_loop(); });
  AutoCompactor::Hooks compactor_hooks;
  compactor_hooks.revision = [this] { return backend_->revision(); };
  compactor_hooks.leader = [this] { return backend_->is_leader(); };
  compactor_hooks.compact = [this](int64_t revision) -> Result<void> {
    auto r = backend_->compact(revision);
    if (!r) return fail(r.error());
    return ok();
  };
  auto_compactor_ =
      std::make_unique<AutoCompactor>(config_.auto_compaction, std::move(compactor_hooks));
  auto_compactor_->start();
  log::get("etcd")->info("serving etcd v3 clients on {} (member {:x}, cluster {:x})",
                         fmt::join(client_endpoints(), ", "), member_id(), cluster_id());
  return ok();
}

void StoreServer::publish_loop() {
  // Every member records the client URLs it serves in the membership (MemberList shows them,
  // and followers forward leader-only requests there). Retried until a leader takes it.
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopped_; })) {
    lock.unlock();
    const auto self = backend_->member(backend_->member_id());
    const auto want = config_.advertise_client_urls.empty() ? client_endpoints()
                                                            : config_.advertise_client_urls;
    bool published = false;
    if (self && host_->leader_id() != 0) {
      std::vector<std::string> have(self->client_urls().begin(), self->client_urls().end());
      if (have == want && self->name() == config_.member_name) {
        published = true;
      } else {
        backend_->set_self_urls(want);
      }
    }
    lock.lock();
    if (published) return;
  }
}

void StoreServer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  wake_.notify_all();
  if (context_) context_->stopping = true;
  // No new connection, and no HTTP request in progress, past this point.
  if (listener_) listener_->stop();
  if (peer_listener_) peer_listener_->stop();
  // Raft stops first, and the requests still waiting for it are answered, so that gRPC's
  // shutdown (which waits for every open call) does not wait for them.
  if (host_) host_->stop();
  if (backend_) backend_->fail_waiters(Error(Code::unavailable, "etcdserver: server stopped"));
  // After the waiters are answered: a compaction it proposed is not waited for.
  if (auto_compactor_) auto_compactor_->stop();
  if (server_) server_->stop();
  if (peer_server_) peer_server_->stop();
  if (publisher_.joinable()) publisher_.join();
  http_.reset();
  gateway_.reset();  // its channel is to server_
  server_.reset();
  peer_server_.reset();
  progress_ticker_.reset();  // every Watch stream, which ticks on it, ended with server_
  // Every user of the loop stopped above; what they posted is freed now.
  if (loop_) loop_->stop();
  if (backend_) backend_->attach(nullptr);
  host_.reset();
  backend_.reset();
}

std::vector<std::string> StoreServer::client_endpoints() const {
  std::vector<std::string> urls;
  for (std::size_t i = 0; i < config_.client_urls.size(); ++i) {
    std::string address = *listen_address(config_.client_urls[i]);
    std::string host = address.substr(0, address.rfind(':'));
    if (host == "0.0.0.0") host = "127.0.0.1";
    int port = i < ports_.size() ? ports_[i] : 0;
    urls.push_back("http://" + host + ":" + std::to_string(port));
  }
  return urls;
}

uint64_t StoreServer::member_id() const { return backend_ ? backend_->member_id() : 0; }
uint64_t StoreServer::cluster_id() const { return backend_ ? backend_->cluster_id() : 0; }
uint64_t StoreServer::leader_id() const { return host_ ? host_->leader_id() : 0; }

bool StoreServer::removed() const { return host_ && host_->removed(); }
std::string StoreServer::role() const {
  if (!backend_) return "voter";
  auto self = backend_->member(backend_->member_id());
  return self && self->is_learner() ? "learner" : "voter";
}

bool StoreServer::wait_for_leader(std::chrono::milliseconds timeout) {
  return host_ && host_->wait_for_leader(timeout);
}

}  // namespace mgmt::store::server
