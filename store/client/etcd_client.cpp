// etcd_client.cpp: unary calls with failover over the endpoints, and watches on a thread; see
// etcd_client.h.
#include "store/client/etcd_client.h"

#include "etcd/rpc.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

namespace mgmt::store::client {
namespace {

// The error details with_failover puts on a deadline that passed on a connected channel.
const char* const kConnectedNoAnswer = "mgmt: connected, no answer";

std::string target_of(const std::string& url) {
  std::string rest = url;
  for (const char* scheme : {"http://", "https://"}) {
    if (rest.rfind(scheme, 0) == 0) rest = rest.substr(std::string(scheme).size());
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  return rest;
}

KeyValue from_pb(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(),
                  kv.lease()};
}

}  // namespace

std::string prefix_end(const std::string& key) {
  std::string end = key;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

struct EtcdClient::Impl {
  struct Endpoint {
    std::string url;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Cluster::Stub> cluster;
  };
  std::vector<Endpoint> endpoints;
  std::chrono::milliseconds timeout{5000};
  std::atomic<std::size_t> preferred{0};  // the last endpoint that answered
  std::mutex calls_mutex;                  // guards calls and cancelled
  std::set<grpc::ClientContext*> calls;    // the calls under way
  std::optional<std::string> cancelled;    // cancel_calls() was called, with this reason

  // Registers `context` for cancel_calls(); false when the calls are cancelled already.
  bool begin_call(grpc::ClientContext& context) {
    std::lock_guard lock(calls_mutex);
    if (cancelled) return false;
    calls.insert(&context);
    return true;
  }
  void end_call(grpc::ClientContext& context) {
    std::lock_guard lock(calls_mutex);
    calls.erase(&context);
  }

  // A failure after which the request certainly did not run: the connection was never made,
  // or the member dropped the proposal for want of a leader.
  static bool not_sent(const grpc::Status& s) {
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
    const std::string& m = s.error_message();
    return m.find("etcdserver: no leader") != std::string::npos ||
           m.find("failed to connect") != std::string::npos ||
           m.find("onnection refused") != std::string::npos;
  }

  // Calls `call` on each endpoint, starting with the one that answered last, until one gives
  // an answer other than UNAVAILABLE. Returns the last status. A `mutating` request is tried on
  // another endpoint only when it certainly did not run: a blind retry of a write that timed
  // out could apply it twice (etcd's clientv3 has the same rule).
  // `call_timeout` (when not zero) replaces the client's timeout for this call.
  template <typename Call>
  grpc::Status with_failover(Call call, std::string* answered_by, bool mutating = false,
                             std::chrono::milliseconds call_timeout = {}) {
    grpc::Status status;
    std::size_t first = preferred.load();
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      std::size_t at = (first + i) % endpoints.size();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           (call_timeout.count() > 0 ? call_timeout : timeout));
      if (!begin_call(context)) return grpc::Status(grpc::StatusCode::CANCELLED, "");
      status = call(endpoints[at], context);
      end_call(context);
      if (status.error_code() == grpc::StatusCode::CANCELLED) {
        std::lock_guard lock(calls_mutex);
        if (cancelled) return grpc::Status(grpc::StatusCode::CANCELLED, "");
      }
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
          status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        preferred = at;
        if (answered_by) *answered_by = endpoints[at].url;
        return status;
      }
      // Connected, yet no answer in time: the store runs but is paused, overloaded or without
      // a quorum, which "is it running?" would misname (error_of reads the mark).
      if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
          endpoints[at].channel->GetState(false) == GRPC_CHANNEL_READY) {
        status = grpc::Status(status.error_code(), status.error_message(), kConnectedNoAnswer);
      }
      // This endpoint did not answer: the next request starts with the one after it, so that a
      // member that stopped answering (paused, cut off) costs one timeout, not one per request.
      std::size_t expected = at;
      preferred.compare_exchange_strong(expected, (at + 1) % endpoints.size());
      if (mutating && !not_sent(status)) return status;  // outcome unknown: no blind retry
    }
    return status;
  }

  Error error_of(const grpc::Status& status) {
    std::string urls;
    for (const auto& e : endpoints) urls += (urls.empty() ? "" : ", ") + e.url;
    if (status.error_code() == grpc::StatusCode::CANCELLED) {
      std::lock_guard lock(calls_mutex);
      if (cancelled) {
        return Error(Code::cancelled,
                     "the call to the store at " + urls + " was abandoned: " + *cancelled);
      }
    }
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
        status.error_message() == "etcdserver: no leader") {
      // The member answers, but its cluster cannot elect a leader: "is it running?" would send
      // the user the wrong way.
      return Error(Code::unavailable,
                   "the store at " + urls + " answers but has no leader (etcdserver: no leader): "
                   "its cluster lost its quorum; start its stopped members again, until most "
                   "of them run");
    }
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
        status.error_message() == "etcdserver: unhealthy cluster") {
      // A membership change the cluster cannot take now: it answers, so "is it running?" would
      // mislead too.
      return Error(Code::unavailable,
                   "the store at " + urls + " refuses a membership change for now (etcdserver: "
                   "unhealthy cluster): its leader has not been connected to every voting member "
                   "for 5 s; wait for a member that just joined, or start or remove one that "
                   "is down");
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
        status.error_details() == kConnectedNoAnswer) {
      return Error(Code::unavailable,
                   "the store at " + urls + " takes connections but did not answer in time (" +
                       status.error_message() + "): it is paused or overloaded, or its cluster "
                       "lost its quorum; check that most of its members run and answer "
                       "(etcdctl endpoint status)");
    }
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return Error(Code::unavailable,
                   "cannot reach the store at " + urls + " (" + status.error_message() +
                       "); is `mgmt run` or etcd running there? Point --seeds at it");
    }
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
        status.error_message() == "etcdserver: mvcc: database space exceeded") {
      // The store's NOSPACE alarm (--quota-backend-bytes): say how to free it.
      return Error(Code::resource_exhausted,
                   "the store at " + urls + " is full (" + status.error_message() +
                       ": its NOSPACE alarm is raised); delete keys, compact it "
                       "(etcdctl compaction REV), then etcdctl alarm disarm");
    }
    return Error(static_cast<Code>(status.error_code()),
                 "the store at " + urls + " refused: " + status.error_message());
  }
};

EtcdClient::EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  for (const auto& url : endpoints_) {
    Impl::Endpoint e;
    e.url = url;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    // A store that comes back is used again within 2 s (gRPC's backoff grows to 2 minutes by
    // default, so a watch would resume, and requests succeed, that much later).
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    args.SetMaxReceiveMessageSize(-1);
    e.channel = grpc::CreateCustomChannel(target_of(url), grpc::InsecureChannelCredentials(), args);
    e.kv = etcdserverpb::KV::NewStub(e.channel);
    e.lease = etcdserverpb::Lease::NewStub(e.channel);
    e.watch = etcdserverpb::Watch::NewStub(e.channel);
    e.cluster = etcdserverpb::Cluster::NewStub(e.channel);
    impl_->endpoints.push_back(std::move(e));
  }
}

EtcdClient::~EtcdClient() = default;

void EtcdClient::cancel_calls(const std::string& why) {
  std::lock_guard lock(impl_->calls_mutex);
  if (!impl_->cancelled) impl_->cancelled = why;
  for (grpc::ClientContext* context : impl_->calls) context->TryCancel();
}

void EtcdClient::resume_calls() {
  std::lock_guard lock(impl_->calls_mutex);
  impl_->cancelled.reset();
}

Result<std::unique_ptr<EtcdClient>> EtcdClient::open(const std::vector<std::string>& endpoints,
                                                     std::chrono::milliseconds timeout) {
  if (endpoints.empty()) {
    return fail(Code::invalid_argument,
                "no store to talk to; give its URLs with --seeds (or MGMT_SEEDS)");
  }
  for (const auto& url : endpoints) {
    if (url.rfind("http://", 0) != 0) {
      return fail(Code::invalid_argument, "store URL \"" + url +
                                              "\" is not supported; use http://HOST:PORT");
    }
  }
  return std::unique_ptr<EtcdClient>(new EtcdClient(endpoints, timeout));
}

Result<GetResult> EtcdClient::get(const std::string& key, const GetOptions& options) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  if (options.prefix) request.set_range_end(prefix_end(key));
  request.set_keys_only(options.keys_only);
  request.set_revision(options.revision);
  request.set_limit(options.limit);
  request.set_serializable(options.serializable);
  etcdserverpb::RangeResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.kv->Range(&c, request, &response);
      },
      nullptr);
  if (!status.ok()) return fail(impl_->error_of(status));
  GetResult result;
  result.revision = response.header().revision();
  for (const auto& kv : response.kvs()) result.kvs.push_back(from_pb(kv));
  return result;
}

Result<int64_t> EtcdClient::put(const std::string& key, const std::string& value,
                                int64_t lease) {
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.kv->Put(&c, request, &response);
      },
      nullptr, /*mutating=*/true);
  if (!status.ok()) return fail(impl_->error_of(status));
  return response.header().revision();
}

Result<int64_t> EtcdClient::del(const std::string& key, bool prefix) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(key);
  if (prefix) request.set_range_end(prefix_end(key));
  etcdserverpb::DeleteRangeResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.kv->DeleteRange(&c, request, &response);
      },
      nullptr, /*mutating=*/true);
  if (!status.ok()) return fail(impl_->error_of(status));
  return response.deleted();
}

Result<bool> EtcdClient::txn(const std::vector<Compare>& compares, const std::vector<Put>& then) {
  etcdserverpb::TxnRequest request;
  for (const auto& c : compares) {
    auto* pb = request.add_compare();
    pb->set_key(c.key);
    pb->set_result(etcdserverpb::Compare::EQUAL);
    switch (c.target) {
      case Compare::Target::version:
        pb->set_target(etcdserverpb::Compare::VERSION);
        pb->set_version(c.number);
        break;
      case Compare::Target::mod_revision:
        pb->set_target(etcdserverpb::Compare::MOD);
        pb->set_mod_revision(c.number);
        break;
      case Compare::Target::value:
        pb->set_target(etcdserverpb::Compare::VALUE);
        pb->set_value(c.value);
        break;
    }
  }
  for (const auto& p : then) {
    auto* put = request.add_success()->mutable_request_put();
    put->set_key(p.key);
    put->set_value(p.value);
    put->set_lease(p.lease);
  }
  etcdserverpb::TxnResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.kv->Txn(&c, request, &response);
      },
      nullptr, /*mutating=*/true);
  if (!status.ok()) return fail(impl_->error_of(status));
  return response.succeeded();
}

Result<int64_t> EtcdClient::lease_grant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.lease->LeaseGrant(&c, request, &response);
      },
      nullptr, /*mutating=*/true);
  if (!status.ok()) return fail(impl_->error_of(status));
  return response.id();
}

Result<void> EtcdClient::lease_keep_alive_once(int64_t lease) {
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        auto stream = e.lease->LeaseKeepAlive(&c);
        etcdserverpb::LeaseKeepAliveRequest request;
        request.set_id(lease);
        etcdserverpb::LeaseKeepAliveResponse response;
        if (!stream->Write(request) || !stream->Read(&response)) {
          stream->WritesDone();
          return stream->Finish();
        }
        stream->WritesDone();
        auto finished = stream->Finish();
        if (finished.ok() && response.ttl() <= 0) {
          return grpc::Status(grpc::StatusCode::NOT_FOUND, "lease expired or revoked");
        }
        return finished;
      },
      nullptr);
  if (!status.ok()) return fail(impl_->error_of(status));
  return ok();
}

Result<void> EtcdClient::lease_revoke(int64_t lease, std::chrono::milliseconds timeout) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.lease->LeaseRevoke(&c, request, &response);
      },
      nullptr, /*mutating=*/true, timeout);
  if (!status.ok()) return fail(impl_->error_of(status));
  return ok();
}

namespace {

MemberInfo member_from_pb(const etcdserverpb::Member& m) {
  MemberInfo info;
  info.id = m.id();
  info.name = m.name();
  info.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
  info.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
  info.is_learner = m.islearner();
  return info;
}

}  // namespace

Result<std::vector<MemberInfo>> EtcdClient::member_list(uint64_t* cluster_id) {
  etcdserverpb::MemberListRequest request;
  etcdserverpb::MemberListResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.cluster->MemberList(&c, request, &response);
      },
      nullptr);
  if (!status.ok()) return fail(impl_->error_of(status));
  if (cluster_id != nullptr) *cluster_id = response.header().cluster_id();
  std::vector<MemberInfo> out;
  for (const auto& m : response.members()) out.push_back(member_from_pb(m));
  return out;
}

Result<uint64_t> EtcdClient::cluster_id() {
  uint64_t id = 0;
  if (auto members = member_list(&id); !members) return fail(members.error());
  return id;
}

Result<MemberAddResult> EtcdClient::member_add(const std::vector<std::string>& peer_urls,
                                               bool is_learner) {
  etcdserverpb::MemberAddRequest request;
  for (const auto& u : peer_urls) request.add_peerurls(u);
  request.set_islearner(is_learner);
  etcdserverpb::MemberAddResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.cluster->MemberAdd(&c, request, &response);
      },
      nullptr, /*mutating=*/true);
  if (!status.ok()) return fail(impl_->error_of(status));
  MemberAddResult result;
  result.cluster_id = response.header().cluster_id();
  result.added = member_from_pb(response.member());
  for (const auto& m : response.members()) result.members.push_back(member_from_pb(m));
  return result;
}

Result<void> EtcdClient::member_remove(uint64_t id) {
  etcdserverpb::MemberRemoveRequest request;
  request.set_id(id);
  etcdserverpb::MemberRemoveResponse response;
  auto status = impl_->with_failover(
      [&](Impl::Endpoint& e, grpc::ClientContext& c) {
        return e.cluster->MemberRemove(&c, request, &response);
      },
      nullptr, /*mutating=*/true);
  if (!status.ok()) return fail(impl_->error_of(status));
  return ok();
}

namespace {

// One Watch stream to one endpoint, on gRPC's callback API, so no thread of ours waits inside
// gRPC: a thread blocked in a synchronous Read takes turns polling every socket of the process,
// and woke for the store's own traffic (in a member, about 3 times per write it served). What
// it reads is queued for the watch's thread (StreamWatch), which alone calls back the user.
// gRPC may call it until OnDone: its owner waits for done() before freeing it.
class WatchStream final
    : public grpc::ClientBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse> {
 public:
  WatchStream(etcdserverpb::Watch::Stub* stub, etcdserverpb::WatchRequest create,
              std::mutex& mutex, std::condition_variable& changed)
      : create_(std::move(create)), mutex_(mutex), changed_(changed) {
    stub->async()->Watch(&context_, this);
    StartWrite(&create_);
    StartRead(&incoming_);
    StartCall();
  }
  void cancel() { context_.TryCancel(); }
  // Under the owner's mutex:
  std::deque<etcdserverpb::WatchResponse>& queue() { return queue_; }
  bool ended() const { return ended_; }  // no more responses will come
  bool done() const { return done_; }    // OnDone ran: gRPC no longer touches this reactor

  void OnWriteDone(bool) override {}
  void OnReadDone(bool ok) override {
    {
      std::lock_guard lock(mutex_);
      if (ok) {
        queue_.push_back(std::move(incoming_));
      } else {
        ended_ = true;
      }
    }
    changed_.notify_all();
    if (ok) {
      incoming_.Clear();
      StartRead(&incoming_);
    }
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard lock(mutex_);
    ended_ = true;
    done_ = true;
    changed_.notify_all();  // under the lock: the owner may free this once it sees done_
  }

 private:
  grpc::ClientContext context_;
  etcdserverpb::WatchRequest create_;
  etcdserverpb::WatchResponse incoming_;  // the read in flight
  std::mutex& mutex_;                     // the owner's; guards queue_, ended_, done_
  std::condition_variable& changed_;
  std::deque<etcdserverpb::WatchResponse> queue_;
  bool ended_ = false;
  bool done_ = false;
};

// A watch that outlives its streams, as etcd's clientv3 watch does: when a stream ends without
// the store ending the watch (the member restarted, went away or was cut off), it opens another
// on whichever endpoint answers, from the revision after the last event it delivered, so no
// event is lost or repeated. Tries again after 0.1 s, doubling up to 10 s. If the store
// compacted that history meanwhile, the watch goes on from the store's revision then and tells
// on_gap (without on_gap, it ends there). A compaction past the revision it first asked for, or
// a cancel by the store, ends it (on_error).
class StreamWatch final : public Watch {
 public:
  // An endpoint that answered, and the store revision it answered at.
  struct Answering {
    etcdserverpb::Watch::Stub* stub = nullptr;
    std::string url;
    int64_t revision = 0;
  };
  // An endpoint that answers now, or why none does.
  using Find = std::function<Result<Answering>()>;

  StreamWatch(etcdserverpb::WatchRequest create, Find find, const Answering& at,
              WatchCallbacks callbacks)
      : create_(std::move(create)), find_(std::move(find)), callbacks_(std::move(callbacks)) {
    stream_ = std::make_unique<WatchStream>(at.stub, create_, mutex_, changed_);
    thread_ = std::thread([this, url = at.url]() mutable { deliver(std::move(url)); });
  }
  ~StreamWatch() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

 private:
  // The watch's thread: hands each response on, in order; opens a new stream when one ends.
  void deliver(std::string url) {
    for (;;) {
      etcdserverpb::WatchResponse response;
      bool ended = false;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] {
          return stopping_ || stream_->ended() || !stream_->queue().empty();
        });
        if (stopping_) return close_stream(lock);
        ended = stream_->queue().empty();
        if (!ended) {
          response = std::move(stream_->queue().front());
          stream_->queue().pop_front();
        }
      }
      if (ended) {  // the stream ended: open another
        if (!reopen(url, /*from_now=*/false)) return;  // stopping
        continue;
      }
      backoff_ = kFirstBackoff;  // this stream works: a new loss starts waiting afresh
      if (response.compact_revision() != 0) {
        Error compacted(Code::out_of_range,
                        "the watch on " + url + " started before the store's compaction at "
                        "revision " + std::to_string(response.compact_revision()));
        if (!resumed_ || !callbacks_.on_gap) return end_with(compacted);
        // Away from the store, the watch lost changes it can no longer replay: it goes on
        // from now, and the user reads again what it follows.
        if (!reopen(url, /*from_now=*/true)) return;  // stopping
        callbacks_.on_gap(compacted);
        continue;
      }
      if (response.canceled()) {
        return end_with(Error(Code::cancelled, "the store at " + url + " canceled the watch: " +
                                                   response.cancel_reason()));
      }
      if (response.events_size() == 0) continue;
      std::vector<WatchEvent> events;
      for (const auto& e : response.events()) {
        events.push_back(WatchEvent{e.type() == mvccpb::Event::DELETE, from_pb(e.kv())});
      }
      // A stream opened again starts after the last event delivered.
      create_.mutable_create_request()->set_start_revision(events.back().kv.mod_revision + 1);
      callbacks_.on_events(events);
    }
  }

  // The store ended the watch: closes the stream, then tells the user why.
  void end_with(const Error& why) {
    {
      std::unique_lock lock(mutex_);
      close_stream(lock);
    }
    callbacks_.on_error(why);
  }

  // Closes the stream, then opens another (resume); false once stopping.
  bool reopen(std::string& url, bool from_now) {
    {
      std::unique_lock lock(mutex_);
      close_stream(lock);
    }
    return resume(url, from_now);
  }

  // Cancels the stream and waits until gRPC is done with it.
  void close_stream(std::unique_lock<std::mutex>& lock) {
    stream_->cancel();
    changed_.wait(lock, [&] { return stream_->done(); });
  }

  // Opens a stream on an endpoint that answers, waiting between tries; false once stopping.
  // from_now: after the revision that endpoint answers at, rather than after the last event.
  bool resume(std::string& url, bool from_now) {
    int64_t from = create_.create_request().start_revision();
    if (callbacks_.on_notice) {
      callbacks_.on_notice(from_now ? "the store at " + url + " compacted the history this "
                                      "watch needed; watching again from now"
                                    : "lost the watch on the store at " + url +
                                          "; watching again from revision " +
                                          std::to_string(from));
    }
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        if (changed_.wait_for(lock, backoff_, [&] { return stopping_; })) return false;
      }
      // Doubles until a stream delivers something, so a store that accepts streams and ends
      // them at once is not asked 10 times a second.
      const auto waited = backoff_;
      backoff_ = std::min(backoff_ * 2, kLastBackoff);
      auto found = find_();
      if (found) {
        if (from_now) {
          from = found->revision + 1;
          create_.mutable_create_request()->set_start_revision(from);
        }
        {
          std::lock_guard lock(mutex_);
          if (stopping_) return false;
          url = found->url;
          stream_ = std::make_unique<WatchStream>(found->stub, create_, mutex_, changed_);
        }
        resumed_ = true;
        if (callbacks_.on_notice) {
          callbacks_.on_notice("watching the store at " + url + " again from revision " +
                               std::to_string(from));
        }
        return true;
      }
      if (callbacks_.on_notice && waited >= kLastBackoff) {
        callbacks_.on_notice("still no watch on the store: " + found.error().message());
      }
    }
  }

  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kLastBackoff{10000};

  etcdserverpb::WatchRequest create_;  // with the revision a new stream starts from
  Find find_;
  WatchCallbacks callbacks_;
  std::mutex mutex_;  // guards stopping_, stream_ and the stream's state
  std::condition_variable changed_;
  std::unique_ptr<WatchStream> stream_;
  bool stopping_ = false;  // the destructor runs
  std::chrono::milliseconds backoff_ = kFirstBackoff;  // the watch's thread's own
  bool resumed_ = false;  // the watch's thread's own: a stream was opened again
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Watch>> EtcdClient::watch(const std::string& key, bool prefix,
                                                 int64_t start_revision,
                                                 WatchCallbacks callbacks) {
  // An endpoint that answers, found by reading `key` there (which also gives the revision).
  StreamWatch::Find find = [this, key]() -> Result<StreamWatch::Answering> {
    auto probe = get(key, GetOptions{false, true, 0, 1});
    if (!probe) return fail(probe.error());
    auto& endpoint = impl_->endpoints[impl_->preferred.load()];
    return StreamWatch::Answering{endpoint.watch.get(), endpoint.url, probe->revision};
  };
  auto found = find();
  if (!found) return fail(found.error());
  etcdserverpb::WatchRequest create;
  auto* c = create.mutable_create_request();
  c->set_key(key);
  if (prefix) c->set_range_end(prefix_end(key));
  c->set_start_revision(start_revision != 0 ? start_revision : found->revision + 1);
  return std::unique_ptr<Watch>(
      new StreamWatch(std::move(create), std::move(find), *found, std::move(callbacks)));
}

Result<std::unique_ptr<Watch>> EtcdClient::watch(
    const std::string& key, bool prefix, int64_t start_revision,
    std::function<void(const std::vector<WatchEvent>&)> on_events,
    std::function<void(const Error&)> on_error) {
  return watch(key, prefix, start_revision,
               WatchCallbacks{std::move(on_events), std::move(on_error), nullptr, nullptr});
}

}  // namespace mgmt::store::client
