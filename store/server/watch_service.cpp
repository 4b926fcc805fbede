// watch_service.cpp: etcd's Watch service: one bidi stream multiplexing many watchers.
// A create is answered with `created` before any event (history replay included); events come
// in revision order, each once; a start revision below the compaction gets compact_revision and
// `canceled`; a progress request gets a header-only response with watch_id -1, as etcd 3.4.
// A watcher created with progress_notify gets, at each tick of its stream (progress_ticker.h)
// after which no event was sent to it, a response without events under its own watch_id whose
// header holds the current revision: it has seen everything up to there. As etcd 3.4, none while
// it is behind (replaying history, or held back by a slow client), and none to other watchers.
// A watcher created with `fragment` gets a large response in parts (watch_fragments.h).
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "store/server/pb_convert.h"
#include "store/server/progress_ticker.h"
#include "store/server/watch_fragments.h"
#include "store/server/etcd_errors.h"
#include "store/server/services.h"

namespace mgmt::store::server {
namespace {

using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

// One Watch stream, driven by the RPC server's I/O thread: no thread of its own. Responses come
// from the stream's requests (created, canceled, progress) and from the store's watch sinks, which
// run on the Raft thread under the store's locks; each is queued and written in order, one write in
// flight at a time, started by whoever queues into an idle stream (StartWrite only queues: it
// never runs a reaction, waits on the network nor re-enters the store).
// A slow client (as etcd's "unsynced" watchers): while more than kBacklogBytes wait unwritten,
// a watcher's new events are not queued; the watcher remembers the revision of the first one it
// skipped, and once the stream has written everything queued it is registered again from that
// revision, and the store replays what it skipped from its history (or, if that was compacted
// meanwhile, the client gets compact_revision, as from etcd). So a client that stops reading
// holds a bounded backlog, not one that grows with every write, and loses nothing. A long
// history is replayed the same way: the store replays one part (KvStore::kReplayMaxEvents or
// kReplayMaxBytes) and says where it stopped (behind_from), and the watcher is registered again
// from there once that part is written, so a watch from revision 1 on a big store is paced by
// its client and never copies the whole history.
// Lifetime: the stream finishes when the client cancels or leaves, a write fails, or the server
// shuts down; a client that half-closes (sends no more requests, as etcd's JSON gateway does)
// keeps its watchers, as with etcd. OnDone cancels the watchers (no sink runs after that), then
// deletes the stream.
// Locks: watchers_mutex_ (registrations) is taken before the store's, the store's before
// mutex_ (the queue); sinks take only mutex_.
class WatchStream final : public rpc::BidiReactor<WatchRequest, WatchResponse> {
 public:
  static constexpr std::size_t kBacklogBytes = 16 << 20;

  explicit WatchStream(ServiceContext& context) : context_(context) {
    ++context_.watch_streams;
    if (context_.progress_ticker != nullptr) {
      ticker_job_ = context_.progress_ticker->add([this] { tick_progress(); });
    }
  }

  // A client that half-closes keeps its watchers (OnHalfClose is not needed).
  void OnRead(const WatchRequest& request) override {
    handle(request);
    catch_up_when_idle();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      if (!ok) finish_locked();  // the client is gone
      if (finished_) {
        send_finish_locked();  // it waited for this write
        return;
      }
      write_next_locked();
    }
    catch_up_when_idle();
  }

  void OnCancel() override {
    std::lock_guard lock(mutex_);
    finish_locked();
  }

  void OnDone() override {
    if (ticker_job_ != 0) context_.progress_ticker->remove(ticker_job_);  // no tick runs now
    {
      std::lock_guard lock(watchers_mutex_);
      for (const auto& [id, w] : watchers_) context_.backend.kv().cancel_watch(w.store_id);
    }
    context_.slow_watchers -= static_cast<int64_t>(lagging_.size());  // no sink runs now
    --context_.watch_streams;
    delete this;
  }

 private:
  struct Registered {
    mvcc::WatcherId store_id = 0;
    mvcc::WatchRequest request;
    bool fragment = false;  // large responses go in parts
  };

  void handle(const WatchRequest& request) {
    if (request.has_create_request()) {
      const auto& create = request.create_request();
      std::lock_guard lock(watchers_mutex_);
      // As etcd's: a range that ends at or before its key (an empty key is "\0"; a range end
      // "\0" means from the key on) is refused, and takes no watch id.
      const std::string& end = create.range_end();
      const std::string key = create.key().empty() ? std::string(1, '\0') : create.key();
      if (!end.empty() && end != std::string(1, '\0') && key >= end) {
        push(refused("mvcc: watcher range is empty"));
        return;
      }
      int64_t id = create.watch_id();
      if (id == 0) {
        while (watchers_.count(next_id_)) ++next_id_;
        id = next_id_++;
      } else if (watchers_.count(id)) {
        push(refused("mvcc: duplicate watch ID provided on the WatchStream"));
        return;
      }
      WatchResponse created;
      context_.fill(created.mutable_header());
      created.set_watch_id(id);
      created.set_created(true);
      push(std::move(created));

      Registered& w = watchers_[id];
      w.request.key = key;  // as etcd's: an empty key is "\0", the smallest one
      w.request.range_end = create.range_end();
      w.request.start_revision = create.start_revision();
      w.request.prev_kv = create.prev_kv();
      for (int f : create.filters()) {
        if (f == etcdserverpb::WatchCreateRequest::NOPUT) w.request.no_put = true;
        if (f == etcdserverpb::WatchCreateRequest::NODELETE) w.request.no_delete = true;
      }
      if (create.progress_notify()) {
        std::lock_guard queue_lock(mutex_);
        quiet_[id] = true;  // as etcd: the first tick reports progress unless events came
      }
      w.fragment = create.fragment();
      w.store_id = context_.backend.kv().watch(w.request, sink(id, w.fragment));
    } else if (request.has_cancel_request()) {
      const int64_t id = request.cancel_request().watch_id();
      std::lock_guard lock(watchers_mutex_);
      auto it = watchers_.find(id);
      if (it == watchers_.end()) return;
      context_.backend.kv().cancel_watch(it->second.store_id);
      watchers_.erase(it);
      {
        std::lock_guard queue_lock(mutex_);
        if (lagging_.erase(id) > 0) --context_.slow_watchers;
        quiet_.erase(id);
      }
      WatchResponse canceled;
      context_.fill(canceled.mutable_header());
      canceled.set_watch_id(id);
      canceled.set_canceled(true);
      push(std::move(canceled));
    } else if (request.has_progress_request()) {
      {
        // As etcd 3.4: no progress while a watcher is behind (it would claim what the client
        // has not seen yet).
        std::lock_guard queue_lock(mutex_);
        if (!lagging_.empty()) return;
      }
      WatchResponse progress;
      context_.fill(progress.mutable_header());
      progress.set_watch_id(-1);  // etcd: not tied to a watcher; every client channel sees it
      push(std::move(progress));
    }
  }

  // The answer to a create that is refused, as etcd's: the watch has no id of its own.
  WatchResponse refused(const std::string& reason) const {
    WatchResponse r;
    context_.fill(r.mutable_header());
    r.set_watch_id(-1);
    r.set_created(true);
    r.set_canceled(true);
    r.set_cancel_reason(reason);
    return r;
  }

  // What the store calls with watcher `id`'s events (on the Raft thread, under its locks).
  mvcc::WatchSink sink(int64_t id, bool fragment) {
    return [this, id, fragment](const mvcc::WatchEvents& events) {
      WatchResponse r;
      context_.fill(r.mutable_header(), events.revision);
      r.set_watch_id(id);
      if (events.compact_revision != 0) {
        r.set_compact_revision(events.compact_revision);
        r.set_canceled(true);
      }
      for (const auto& e : events.events) to_pb(e, r.add_events());
      const int64_t first = events.events.empty() ? 0 : events.events.front().kv.mod_revision;
      std::lock_guard lock(mutex_);
      if (finished_) return;
      if (events.behind_from != 0) {
        // The store replayed one part of a long history: the rest once this part is written.
        if (lagging_.emplace(id, events.behind_from).second) ++context_.slow_watchers;
        return;
      }
      if (events.compact_revision == 0) {
        if (lagging_.count(id)) return;  // skipped: catch_up() replays it
        if (queued_bytes_ >= kBacklogBytes) {
          if (first != 0) {
            lagging_[id] = first;
            ++context_.slow_watchers;
          }
          return;  // a progress notification is dropped too: the client is behind
        }
      }
      if (first != 0) {
        // etcd elides the next progress notification of a watcher that was sent events.
        if (auto q = quiet_.find(id); q != quiet_.end()) q->second = false;
      }
      if (!fragment) return enqueue_locked(std::move(r));
      // etcd cuts at its request limit plus its allowance for gRPC overhead (2 MiB).
      for (auto& part : watch_fragments(std::move(r), kMaxReceiveMessageBytes)) {
        enqueue_locked(std::move(part));
      }
    };
  }

  // A tick of the stream's progress ticker: each progress_notify watcher that was sent no
  // event since the last tick is sent the current revision, through the store, so that it
  // comes after every event up to that revision (and not at all while the watcher is behind).
  void tick_progress() {
    std::vector<int64_t> due;
    {
      std::lock_guard lock(mutex_);
      if (finished_) return;
      for (auto& [id, quiet] : quiet_) {
        if (quiet) due.push_back(id);
        quiet = true;
      }
    }
    if (due.empty()) return;
    std::lock_guard lock(watchers_mutex_);
    for (int64_t id : due) {
      if (auto it = watchers_.find(id); it != watchers_.end()) {
        context_.backend.kv().progress(it->second.store_id);
      }
    }
  }

  // While nothing is being written and watchers are behind, registers them again from where
  // each fell behind. A replay that queues nothing (all filtered out) goes on to the next part
  // here; one that queues something goes on from OnWriteDone once that is written.
  void catch_up_when_idle() {
    for (;;) {
      std::map<int64_t, int64_t> behind;
      {
        std::lock_guard lock(mutex_);
        if (finished_ || writing_ || lagging_.empty() || catching_up_) return;
        catching_up_ = true;
        behind = lagging_;
      }
      catch_up(behind);
    }
  }

  // Registers the watchers that fell behind again, from the first revision each skipped; the
  // store replays from there (the queue is empty: everything before it was written).
  void catch_up(const std::map<int64_t, int64_t>& behind) {
    std::lock_guard lock(watchers_mutex_);
    for (const auto& [id, from] : behind) {
      {
        // Canceled meanwhile (which cleared its lag), perhaps with its id given to a new one.
        std::lock_guard queue_lock(mutex_);
        auto lag = lagging_.find(id);
        if (lag == lagging_.end() || lag->second != from) continue;
      }
      auto it = watchers_.find(id);
      if (it == watchers_.end()) continue;
      // The old registration goes first: until then its events are still skipped, and the new
      // one replays them all from `from`.
      context_.backend.kv().cancel_watch(it->second.store_id);
      {
        std::lock_guard queue_lock(mutex_);
        if (lagging_.erase(id) > 0) --context_.slow_watchers;
      }
      it->second.request.start_revision = from;
      it->second.store_id =
          context_.backend.kv().watch(it->second.request, sink(id, it->second.fragment));
    }
    std::lock_guard queue_lock(mutex_);
    catching_up_ = false;
  }

  // Responses to the stream's own requests, never skipped.
  void push(WatchResponse response) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    enqueue_locked(std::move(response));
  }

  void enqueue_locked(WatchResponse response) {
    queued_bytes_ += response.ByteSizeLong();
    queue_.push_back(std::move(response));
    if (!writing_) write_next_locked();
  }

  void write_next_locked() {
    if (finished_ || queue_.empty()) return;
    // StartWrite serialises the response at once: it need not outlive the call.
    const WatchResponse next = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= std::min(queued_bytes_, next.ByteSizeLong());
    writing_ = true;
    StartWrite(&next);
  }

  // Ends the stream: nothing more is written, and the call is finished once no write is in
  // flight (now, or when OnWriteDone comes).
  void finish_locked() {
    finished_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    send_finish_locked();
  }
  void send_finish_locked() {
    if (writing_ || finish_sent_) return;
    finish_sent_ = true;
    Finish(grpc::Status::OK);
  }

  ServiceContext& context_;
  ProgressTicker::JobId ticker_job_ = 0;  // this stream's ticks (0: none)
  std::mutex watchers_mutex_;               // guards watchers_, next_id_
  std::map<int64_t, Registered> watchers_;  // this stream's watch ids -> the store's
  int64_t next_id_ = 0;
  std::mutex mutex_;  // guards what follows
  std::deque<WatchResponse> queue_;
  std::size_t queued_bytes_ = 0;
  std::map<int64_t, int64_t> lagging_;  // watch id -> first revision it skipped
  // The progress_notify watchers: watch id -> whether no event was sent to it since the last
  // tick (etcd's sws.progress).
  std::map<int64_t, bool> quiet_;
  bool catching_up_ = false;
  bool writing_ = false;
  bool finished_ = false;
  bool finish_sent_ = false;
};

}  // namespace

void add_watch_service(ServiceContext& context, rpc::RpcServer& server) {
  server.add_bidi<WatchRequest, WatchResponse>(
      "/etcdserverpb.Watch/Watch",
      [&context](const rpc::CallInfo&) { return new WatchStream(context); });
}

}  // namespace mgmt::store::server
