// async_load.cpp: see async_load.h.
#include "test/bench/async_load.h"

#include "etcd/rpc.grpc.pb.h"
#include "store/client/etcd_client.h"

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstdio>
#include <string_view>

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

// The tags of the watch stream's operations on the queue (a Client* is any other tag).
enum class WatchStep { start, write, read, finish };

// The watch workload's stream: one watcher on the prefix kWatchPrefix, on the first connection.
struct WatchStream {
  std::unique_ptr<etcdserverpb::Watch::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<etcdserverpb::WatchRequest,
                                                etcdserverpb::WatchResponse>> stream;
  etcdserverpb::WatchRequest create;
  etcdserverpb::WatchResponse answer;
  grpc::Status status;
  WatchStep tags[4] = {WatchStep::start, WatchStep::write, WatchStep::read, WatchStep::finish};
  void* tag(WatchStep step) { return &tags[static_cast<int>(step)]; }
  bool created = false;
  bool failed = false;
  bool finished = false;  // Finish's tag came back: nothing of the stream is on the queue
};

constexpr std::string_view kWatchPrefix = "watch/";
constexpr std::string_view kWatchWarmup = "watch/w";  // warm-up puts: their events are not timed

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
  // The watch workload: every put's start by its number (its key is kWatchPrefix + number), and
  // how many of their events the watcher has seen.
  WatchStream watch;
  std::vector<LoadClock::time_point> put_started;
  size_t events_seen = 0;
  std::vector<double>* event_latencies = nullptr;  // where the timed events' latencies go
  bool timing = false;

  std::string next_key(Client& c) {
    c.x ^= c.x << 13;
    c.x ^= c.x >> 7;
    c.x ^= c.x << 17;
    return "load/" + std::to_string(c.x % static_cast<uint64_t>(keys));
  }

  // The key of a watch workload's put: under the watched prefix, numbered while timing so that
  // its event is timed from this moment (a warm-up put's event is not timed).
  std::string watched_key(const Client& c) {
    if (!timing) return std::string(kWatchWarmup) + std::to_string(c.sent);
    put_started.push_back(c.sent_at);
    return std::string(kWatchPrefix) + std::to_string(put_started.size() - 1);
  }

  void send(Client& c) {
    c.context = std::make_unique<grpc::ClientContext>();
    c.context->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    const std::string key = next_key(c);
    c.sent_at = LoadClock::now();
    ++c.sent;
    if (workload == "put" || workload == "watch") {
      if (workload == "watch") {
        c.put.set_key(watched_key(c));
        c.put.set_value("v");
      } else {
        c.put.set_key(key);
        c.put.set_value(std::to_string(c.sent));
      }
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

  // Takes the next completion off the queue: a client's answer (*client) or a step of the watch
  // stream, handled here (*client is nullptr then). False when the queue is shut down or nothing
  // came before `until`.
  bool wait(Client** client, LoadClock::time_point until = LoadClock::time_point::max()) {
    void* tag = nullptr;
    bool ok = false;
    const auto got = until == LoadClock::time_point::max()
                         ? (queue.Next(&tag, &ok) ? grpc::CompletionQueue::GOT_EVENT
                                                  : grpc::CompletionQueue::SHUTDOWN)
                         : queue.AsyncNext(&tag, &ok,
                                           std::chrono::system_clock::now() +
                                               (until - LoadClock::now()));
    if (got != grpc::CompletionQueue::GOT_EVENT) return false;
    *client = nullptr;
    const auto at = reinterpret_cast<std::uintptr_t>(tag);
    if (at >= reinterpret_cast<std::uintptr_t>(&watch.tags[0]) &&
        at <= reinterpret_cast<std::uintptr_t>(&watch.tags[3])) {
      on_watch(*static_cast<WatchStep*>(tag), ok);
    } else {
      *client = static_cast<Client*>(tag);
    }
    return true;
  }

  // The next client whose request was answered (the watch stream's steps are handled on the
  // way); nullptr when the queue is shut down.
  Client* next() {
    Client* c = nullptr;
    while (wait(&c) && c == nullptr) {
    }
    return c;
  }

  // Opens the watch stream and asks for the watcher (the answers come through next()).
  void open_watch() {
    watch.stub = etcdserverpb::Watch::NewStub(channels.front());
    auto* create = watch.create.mutable_create_request();
    create->set_key(std::string(kWatchPrefix));
    create->set_range_end(store::client::prefix_end(std::string(kWatchPrefix)));
    watch.stream = watch.stub->AsyncWatch(&watch.context, &queue, watch.tag(WatchStep::start));
  }

  void on_watch(WatchStep step, bool ok) {
    if (step == WatchStep::finish) {
      watch.finished = true;
      return;
    }
    if (!ok) {  // the stream ended: its status comes with Finish
      if (!watch.failed) watch.stream->Finish(&watch.status, watch.tag(WatchStep::finish));
      watch.failed = true;
      return;
    }
    switch (step) {
      case WatchStep::start:
        watch.stream->Write(watch.create, watch.tag(WatchStep::write));
        return;
      case WatchStep::write:
        watch.stream->Read(&watch.answer, watch.tag(WatchStep::read));
        return;
      case WatchStep::read: {
        const auto now = LoadClock::now();
        if (watch.answer.created()) watch.created = true;
        for (const auto& e : watch.answer.events()) {
          const std::string& key = e.kv().key();
          if (key.compare(0, kWatchWarmup.size(), kWatchWarmup) == 0) continue;
          const size_t n = std::stoul(key.substr(kWatchPrefix.size()));
          if (n < put_started.size()) {
            event_latencies->push_back(to_ms(now - put_started[n]));
            ++events_seen;
            finished_at = now;
          }
        }
        watch.stream->Read(&watch.answer, watch.tag(WatchStep::read));
        return;
      }
      case WatchStep::finish:
        return;
    }
  }

  // Ends the watch stream and takes its last steps off the queue.
  void close_watch() {
    if (!watch.stream || watch.finished) return;
    watch.context.TryCancel();
    Client* c = nullptr;
    while (!watch.finished && wait(&c)) {
    }
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
  impl_->close_watch();
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
  if (s.workload == "watch") {
    // The watcher exists before any timed put.
    s.event_latencies = &latencies;
    s.open_watch();
    const auto until = LoadClock::now() + std::chrono::seconds(5);
    Client* c = nullptr;  // none: no request was sent yet
    while (!s.watch.created && !s.watch.failed && s.wait(&c, until)) {
    }
    if (!s.watch.created) {
      std::fprintf(stderr, "store_load: the watch was not created within 5 s%s%s\n",
                   s.watch.failed ? ": " : "", s.watch.status.error_message().c_str());
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
  s.timing = true;
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
  const bool watching = s.workload == "watch";
  while (in_flight > 0) {
    Client* c = s.next();
    if (c == nullptr) break;
    const auto now = LoadClock::now();
    if (!watching) latencies.push_back(to_ms(now - c->sent_at));
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
  if (!watching) {
    s.finished_at = LoadClock::now();
    return true;
  }
  // Every acknowledged put's event, or a failure once 10 s passed without it.
  const auto until = LoadClock::now() + kCallDeadline;
  Client* c = nullptr;  // none: every put was answered
  while (s.events_seen < s.put_started.size() && !s.watch.finished && s.wait(&c, until)) {
  }
  if (s.events_seen < s.put_started.size()) {
    std::fprintf(stderr, "store_load: the watcher saw %zu of %zu puts%s%s\n", s.events_seen,
                 s.put_started.size(), s.watch.finished ? "; its stream ended: " : " within 10 s",
                 s.watch.finished ? s.watch.status.error_message().c_str() : "");
    s.failed += static_cast<int>(s.put_started.size() - s.events_seen);
  }
  s.close_watch();
  return true;
}

int AsyncLoad::failed() const { return impl_->failed; }
LoadClock::time_point AsyncLoad::finished_at() const { return impl_->finished_at; }

}  // namespace mgmt::bench
