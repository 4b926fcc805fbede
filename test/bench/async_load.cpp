// async_load.cpp: see async_load.h.
#include "test/bench/async_load.h"

#include "etcd/rpc.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>

namespace mgmt::bench {
namespace {

constexpr auto kCallDeadline = std::chrono::seconds(10);

std::string target_of(const std::string& url) {
  const auto scheme = url.find("://");
  return scheme == std::string::npos ? url : url.substr(scheme + 3);
}

// One client's loop: the request it has in flight (at most one).
struct Client {
  etcdserverpb::KV::Stub* stub = nullptr;
  uint64_t x = 0;  // xorshift state: which key comes next
  int sent = 0;
  std::unique_ptr<grpc::ClientContext> context;
  LoadClock::time_point sent_at;
  grpc::Status status;
  etcdserverpb::PutRequest put;
  etcdserverpb::PutResponse put_answer;
  etcdserverpb::RangeRequest range;
  etcdserverpb::RangeResponse range_answer;
  etcdserverpb::TxnRequest txn;
  etcdserverpb::TxnResponse txn_answer;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> put_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::RangeResponse>> range_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::TxnResponse>> txn_reader;
};

}  // namespace

struct AsyncLoad::Impl {
  std::string endpoint;
  std::string workload;
  int keys = 1;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  std::vector<Client> clients;
  grpc::CompletionQueue queue;
  int failed = 0;
  LoadClock::time_point finished_at;

  std::string next_key(Client& c) {
    c.x ^= c.x << 13;
    c.x ^= c.x >> 7;
    c.x ^= c.x << 17;
    return "load/" + std::to_string(c.x % static_cast<uint64_t>(keys));
  }

  void send(Client& c) {
    c.context = std::make_unique<grpc::ClientContext>();
    c.context->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    const std::string key = next_key(c);
    c.sent_at = LoadClock::now();
    ++c.sent;
    if (workload == "put") {
      c.put.set_key(key);
      c.put.set_value(std::to_string(c.sent));
      c.put_reader = c.stub->AsyncPut(c.context.get(), c.put, &queue);
      c.put_reader->Finish(&c.put_answer, &c.status, &c);
    } else if (workload == "txn") {
      c.txn.Clear();
      auto* cmp = c.txn.add_compare();
      cmp->set_key(key);
      cmp->set_target(etcdserverpb::Compare::VERSION);
      cmp->set_result(etcdserverpb::Compare::EQUAL);
      cmp->set_version(0);
      auto* put = c.txn.add_success()->mutable_request_put();
      put->set_key(key + "-new");
      put->set_value("v");
      c.txn_reader = c.stub->AsyncTxn(c.context.get(), c.txn, &queue);
      c.txn_reader->Finish(&c.txn_answer, &c.status, &c);
    } else {
      c.range.set_key(key);
      c.range.set_serializable(workload == "get-serializable");
      c.range_reader = c.stub->AsyncRange(c.context.get(), c.range, &queue);
      c.range_reader->Finish(&c.range_answer, &c.status, &c);
    }
  }

  // The next answer; nullptr when the queue is shut down.
  Client* next() {
    void* tag = nullptr;
    bool ok = false;
    if (!queue.Next(&tag, &ok)) return nullptr;
    return static_cast<Client*>(tag);
  }
};

AsyncLoad::AsyncLoad(const std::string& endpoint, std::string workload, int clients, int conns,
                     int keys)
    : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = endpoint;
  impl_->workload = std::move(workload);
  impl_->keys = std::max(1, keys);
  for (int i = 0; i < std::max(1, conns); ++i) {
    grpc::ChannelArguments args;
    // A connection of its own per channel (gRPC would otherwise share one between channels to
    // the same address).
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    impl_->channels.push_back(grpc::CreateCustomChannel(
        target_of(endpoint), grpc::InsecureChannelCredentials(), args));
    impl_->stubs.push_back(etcdserverpb::KV::NewStub(impl_->channels.back()));
  }
  impl_->clients.resize(static_cast<size_t>(std::max(1, clients)));
  for (size_t i = 0; i < impl_->clients.size(); ++i) {
    impl_->clients[i].stub = impl_->stubs[i % impl_->stubs.size()].get();
    impl_->clients[i].x = 0x9e3779b97f4a7c15ULL * (i + 1);
  }
}

AsyncLoad::~AsyncLoad() {
  impl_->queue.Shutdown();
  while (impl_->next() != nullptr) {
  }
}

bool AsyncLoad::run(int warmup, int ops, std::chrono::seconds run_for,
                    std::vector<double>& latencies, LoadClock::time_point& start) {
  Impl& s = *impl_;
  for (auto& channel : s.channels) {
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
      std::fprintf(stderr, "store_load: cannot connect to %s within 5 s\n", s.endpoint.c_str());
      return false;
    }
  }
  // Warm-up: every client makes `warmup` requests; those done wait for the others.
  size_t in_flight = 0;
  for (auto& c : s.clients) {
    s.send(c);
    ++in_flight;
  }
  bool warm = true;
  while (in_flight > 0) {
    Client* c = s.next();
    if (c == nullptr) return false;
    if (!c->status.ok() && warm) {
      std::fprintf(stderr, "store_load: a warm-up request failed: %s\n",
                   c->status.error_message().c_str());
      warm = false;
    }
    if (c->sent < warmup && warm) {
      s.send(*c);
    } else {
      --in_flight;
    }
  }
  if (!warm) return false;

  // The timed run: all clients start together.
  start = LoadClock::now();
  const auto deadline = start + run_for;
  int sent = 0;
  latencies.reserve(latencies.size() + static_cast<size_t>(std::min(ops, 1 << 22)));
  for (auto& c : s.clients) {
    if (sent >= ops) break;
    s.send(c);
    ++sent;
    ++in_flight;
  }
  while (in_flight > 0) {
    Client* c = s.next();
    if (c == nullptr) break;
    const auto now = LoadClock::now();
    latencies.push_back(to_ms(now - c->sent_at));
    if (!c->status.ok() && s.failed++ == 0) {
      std::fprintf(stderr, "store_load: a request failed: %s\n", c->status.error_message().c_str());
    }
    if (sent < ops && now < deadline) {
      s.send(*c);
      ++sent;
    } else {
      --in_flight;
    }
  }
  s.finished_at = LoadClock::now();
  return true;
}

int AsyncLoad::failed() const { return impl_->failed; }
LoadClock::time_point AsyncLoad::finished_at() const { return impl_->finished_at; }

}  // namespace mgmt::bench
