// watch_service.cpp: etcd's Watch service: one bidi stream multiplexing many watchers.
// A create is answered with `created` before any event (history replay included); events come
// in revision order, each once; a start revision below the compaction gets compact_revision and
// `canceled`; a progress request gets a header-only response with watch_id -1, as etcd 3.4.
#include "common/thread_name.h"
#include "store/server/pb_convert.h"
#include "store/server/services.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace mgmt::store::server {
namespace {

// Responses waiting for the stream's writer thread. Watch sinks push under the store's locks,
// so push never blocks on the network.
class ResponseQueue {
 public:
  void push(etcdserverpb::WatchResponse response) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      queue_.push_back(std::move(response));
    }
    changed_.notify_all();  // the writer, not only the stream's thread waiting in wait_closed()
  }
  // Blocks until a response is queued or the queue is closed (then nothing).
  std::optional<etcdserverpb::WatchResponse> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return std::nullopt;
    auto r = std::move(queue_.front());
    queue_.pop_front();
    return r;
  }
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      queue_.clear();
    }
    changed_.notify_all();
  }
  // Waits up to `timeout` for close(); whether it was closed.
  bool wait_closed(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return closed_; });
  }

 private:
  std::mutex mutex_;  // guards queue_, closed_
  std::condition_variable changed_;
  std::deque<etcdserverpb::WatchResponse> queue_;
  bool closed_ = false;
};

class WatchService final : public etcdserverpb::Watch::Service {
 public:
  explicit WatchService(ServiceContext& context) : context_(context) {}

  grpc::Status Watch(
      grpc::ServerContext* call,
      grpc::ServerReaderWriter<etcdserverpb::WatchResponse, etcdserverpb::WatchRequest>* stream)
      override {
    ResponseQueue queue;
    std::thread writer([&] {
      name_this_thread("watch-send");
      while (auto response = queue.pop()) {
        if (!stream->Write(*response)) break;
      }
      queue.close();  // the client is gone
    });
    std::map<int64_t, mvcc::WatcherId> watchers;  // our stream's watch ids -> the store's
    int64_t next_id = 0;
    etcdserverpb::WatchRequest request;
    while (!context_.stopping && stream->Read(&request)) {
      if (request.has_create_request()) {
        const auto& create = request.create_request();
        int64_t id = create.watch_id();
        if (id == 0) {
          while (watchers.count(next_id)) ++next_id;
          id = next_id++;
        } else if (watchers.count(id)) {
          etcdserverpb::WatchResponse refused;
          context_.fill(refused.mutable_header());
          refused.set_watch_id(id);
          refused.set_created(true);
          refused.set_canceled(true);
          refused.set_cancel_reason("mvcc: duplicate watch ID provided on the WatchStream");
          queue.push(std::move(refused));
          continue;
        }
        etcdserverpb::WatchResponse created;
        context_.fill(created.mutable_header());
        created.set_watch_id(id);
        created.set_created(true);
        queue.push(std::move(created));

        mvcc::WatchRequest w;
        w.key = create.key();
        w.range_end = create.range_end();
        w.start_revision = create.start_revision();
        w.prev_kv = create.prev_kv();
        for (int f : create.filters()) {
          if (f == etcdserverpb::WatchCreateRequest::NOPUT) w.no_put = true;
          if (f == etcdserverpb::WatchCreateRequest::NODELETE) w.no_delete = true;
        }
        watchers[id] = context_.backend.kv().watch(w, [this, &queue, id](
                                                          const mvcc::WatchEvents& events) {
          etcdserverpb::WatchResponse r;
          context_.fill(r.mutable_header(), events.revision);
          r.set_watch_id(id);
          if (events.compact_revision != 0) {
            r.set_compact_revision(events.compact_revision);
            r.set_canceled(true);
          }
          for (const auto& e : events.events) to_pb(e, r.add_events());
          queue.push(std::move(r));
        });
      } else if (request.has_cancel_request()) {
        int64_t id = request.cancel_request().watch_id();
        auto it = watchers.find(id);
        if (it == watchers.end()) continue;
        context_.backend.kv().cancel_watch(it->second);
        watchers.erase(it);
        etcdserverpb::WatchResponse canceled;
        context_.fill(canceled.mutable_header());
        canceled.set_watch_id(id);
        canceled.set_canceled(true);
        queue.push(std::move(canceled));
      } else if (request.has_progress_request()) {
        etcdserverpb::WatchResponse progress;
        context_.fill(progress.mutable_header());
        progress.set_watch_id(-1);  // etcd: not tied to a watcher; every client channel sees it
        queue.push(std::move(progress));
      }
    }
    // A client that half-closed (sends no more requests, as etcd's JSON gateway does) keeps its
    // watchers, as with etcd: the stream ends when the call does (the client cancels or leaves,
    // or the server stops). gRPC's synchronous API does not notify a cancel: it is polled.
    while (!context_.stopping && !call->IsCancelled() &&
           !queue.wait_closed(std::chrono::milliseconds(200))) {
    }
    for (const auto& [id, watcher] : watchers) context_.backend.kv().cancel_watch(watcher);
    queue.close();
    writer.join();
    return grpc::Status::OK;
  }

 private:
  ServiceContext& context_;
};

}  // namespace

std::unique_ptr<etcdserverpb::Watch::Service> make_watch_service(ServiceContext& context) {
  return std::make_unique<WatchService>(context);
}

}  // namespace mgmt::store::server
