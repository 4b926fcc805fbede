// watch_service.cpp: etcd's Watch service: one bidi stream multiplexing many watchers.
// A create is answered with `created` before any event (history replay included); events come
// in revision order, each once; a start revision below the compaction gets compact_revision and
// `canceled`; a progress request gets a header-only response with watch_id -1, as etcd 3.4.
#include "store/server/pb_convert.h"
#include "store/server/services.h"

#include <deque>
#include <map>
#include <mutex>

namespace mgmt::store::server {
namespace {

using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

// One Watch stream, on gRPC's callback API: no thread of its own. Responses come from the
// stream's requests (created, canceled, progress) and from the store's watch sinks, which run
// on the Raft thread under the store's locks; each is queued and written in order, one write in
// flight at a time, started by whoever queues into an idle stream (gRPC never runs a reaction
// inside StartWrite, so that never waits on the network nor re-enters the store).
// Lifetime: the stream finishes when the client cancels or leaves, a write fails, or the server
// shuts down; a client that half-closes (sends no more requests, as etcd's JSON gateway does)
// keeps its watchers, as with etcd. OnDone cancels the watchers (no sink runs after that), then
// deletes the stream.
class WatchStream final : public grpc::ServerBidiReactor<WatchRequest, WatchResponse> {
 public:
  explicit WatchStream(ServiceContext& context) : context_(context) {
    ++context_.watch_streams;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // half-closed, or gone (then OnCancel follows)
    handle(request_);
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!ok) finish_locked();  // the client is gone
    if (finished_) {
      send_finish_locked();  // it waited for this write
      return;
    }
    write_next_locked();
  }

  void OnCancel() override {
    std::lock_guard lock(mutex_);
    finish_locked();
  }

  void OnDone() override {
    for (const auto& [id, watcher] : watchers_) context_.backend.kv().cancel_watch(watcher);
    --context_.watch_streams;
    delete this;
  }

 private:
  void handle(const WatchRequest& request) {
    if (request.has_create_request()) {
      const auto& create = request.create_request();
      int64_t id = create.watch_id();
      if (id == 0) {
        while (watchers_.count(next_id_)) ++next_id_;
        id = next_id_++;
      } else if (watchers_.count(id)) {
        WatchResponse refused;
        context_.fill(refused.mutable_header());
        refused.set_watch_id(id);
        refused.set_created(true);
        refused.set_canceled(true);
        refused.set_cancel_reason("mvcc: duplicate watch ID provided on the WatchStream");
        push(std::move(refused));
        return;
      }
      WatchResponse created;
      context_.fill(created.mutable_header());
      created.set_watch_id(id);
      created.set_created(true);
      push(std::move(created));

      mvcc::WatchRequest w;
      w.key = create.key();
      w.range_end = create.range_end();
      w.start_revision = create.start_revision();
      w.prev_kv = create.prev_kv();
      for (int f : create.filters()) {
        if (f == etcdserverpb::WatchCreateRequest::NOPUT) w.no_put = true;
        if (f == etcdserverpb::WatchCreateRequest::NODELETE) w.no_delete = true;
      }
      watchers_[id] = context_.backend.kv().watch(w, [this, id](const mvcc::WatchEvents& events) {
        WatchResponse r;
        context_.fill(r.mutable_header(), events.revision);
        r.set_watch_id(id);
        if (events.compact_revision != 0) {
          r.set_compact_revision(events.compact_revision);
          r.set_canceled(true);
        }
        for (const auto& e : events.events) to_pb(e, r.add_events());
        push(std::move(r));
      });
    } else if (request.has_cancel_request()) {
      const int64_t id = request.cancel_request().watch_id();
      auto it = watchers_.find(id);
      if (it == watchers_.end()) return;
      context_.backend.kv().cancel_watch(it->second);
      watchers_.erase(it);
      WatchResponse canceled;
      context_.fill(canceled.mutable_header());
      canceled.set_watch_id(id);
      canceled.set_canceled(true);
      push(std::move(canceled));
    } else if (request.has_progress_request()) {
      WatchResponse progress;
      context_.fill(progress.mutable_header());
      progress.set_watch_id(-1);  // etcd: not tied to a watcher; every client channel sees it
      push(std::move(progress));
    }
  }

  // From the stream's reads and from the store's sinks.
  void push(WatchResponse response) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    queue_.push_back(std::move(response));
    if (!writing_) write_next_locked();
  }

  void write_next_locked() {
    if (finished_ || queue_.empty()) return;
    writing_response_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    StartWrite(&writing_response_);
  }

  // Ends the stream: nothing more is written, and the call is finished once no write is in
  // flight (now, or when OnWriteDone comes).
  void finish_locked() {
    finished_ = true;
    queue_.clear();
    send_finish_locked();
  }
  void send_finish_locked() {
    if (writing_ || finish_sent_) return;
    finish_sent_ = true;
    Finish(grpc::Status::OK);
  }

  ServiceContext& context_;
  WatchRequest request_;                          // the read in flight
  std::map<int64_t, mvcc::WatcherId> watchers_;   // this stream's watch ids -> the store's
  int64_t next_id_ = 0;
  std::mutex mutex_;  // guards what follows
  std::deque<WatchResponse> queue_;
  WatchResponse writing_response_;  // the write in flight, if writing_
  bool writing_ = false;
  bool finished_ = false;
  bool finish_sent_ = false;
};

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  explicit WatchService(ServiceContext& context) : context_(context) {}

  grpc::ServerBidiReactor<WatchRequest, WatchResponse>* Watch(
      grpc::CallbackServerContext*) override {
    return new WatchStream(context_);
  }

 private:
  ServiceContext& context_;
};

}  // namespace

std::unique_ptr<etcdserverpb::Watch::Service> make_watch_service(ServiceContext& context) {
  return std::make_unique<WatchService>(context);
}

}  // namespace mgmt::store::server
