// reply_thread.h: sends the replies of applied writes from a thread of their own, so that the
// Raft loop goes on to its next round (and its disk sync) at once, as etcd's apply goroutine
// lets its Raft loop do. A reply is a gRPC send of tens of microseconds; a round of eight
// writes spent longer replying than syncing. The Raft host posts here only when more work
// already waits for the next round; otherwise it replies inline, where a hand-off would only
// add a wake-up to each reply.
// Invariants: batches run one at a time, in the order posted; stop() runs every batch posted
// before it (a gRPC call must be finished before its server shuts down), then joins; a batch
// posted after stop() runs on the caller's thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace mgmt::store::server {

class ReplyThread {
 public:
  ReplyThread();
  ~ReplyThread();
  ReplyThread(const ReplyThread&) = delete;
  ReplyThread& operator=(const ReplyThread&) = delete;

  void post(std::function<void()> replies);
  void stop();

 private:
  void run();

  std::mutex mutex_;  // guards queue_ and stopped_
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopped_ = false;
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace mgmt::store::server
