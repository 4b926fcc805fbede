// event_loop.h: the I/O thread ("rpc-io") that the store's RPC servers and clients run on: one
// Asio io_context and the thread that runs it. A member's client port, its peer port and its
// connections to the other members share one, so that a request read, the Raft round it
// starts, the messages that round sends to the peers and the answers it gives all happen on one
// thread, with no hand-off between threads (each cost about 50 us and a context switch here).
// Lifetime: start() once; stop() (also from the destructor) stops the thread, then runs what
// other threads posted meanwhile, so that posted jobs (which may hold objects that hold the
// loop) are freed. A job posted after stop() never runs.
// Batches: a job posted from the loop's own thread runs as a batch, and so does the handling of
// one read of a server connection. What is asked with soon() during a batch (the answers a Raft
// round gives, then the flushes that send them) runs when the batch ends, in the order asked,
// instead of going through the queue: every trip through the queue polls the sockets first
// (one epoll_wait, a few us on a virtual machine), and an answer used to take two such trips
// before its write. soon() from another thread, or outside a batch, is post().
// Thread-safety: post(), soon() and on_this_thread() from any thread; start() and stop() from
// one; Batch on the loop's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

namespace mgmt::rpc {

class EventLoop {
 public:
  // `on_thread_start` runs first on the thread (e.g. RaftHost::run_rounds_through).
  explicit EventLoop(std::function<void()> on_thread_start = nullptr);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void start();
  void stop();

  boost::asio::io_context& io() { return io_; }
  void post(std::function<void()> job);
  // At the end of the batch under way on this loop's thread; otherwise as post().
  void soon(std::function<void()> job);

  // A batch on the loop's thread (nested ones join the outermost): its soon() jobs, and theirs,
  // run when it ends.
  class Batch {
   public:
    explicit Batch(EventLoop& loop);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

   private:
    EventLoop& loop_;
  };
  // True on the loop's own thread.
  bool on_this_thread() const;
  // Started and not stopped: a job posted now will run.
  bool running() const { return running_.load(); }
  // The loop whose thread this is (nullptr on other threads).
  static EventLoop* current();

 private:
  boost::asio::io_context io_{1};
  std::function<void()> on_thread_start_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<bool> running_{false};
  int batch_depth_ = 0;                           // loop thread only
  std::deque<std::function<void()>> batch_jobs_;  // loop thread only: soon() in a batch
};

}  // namespace mgmt::rpc
