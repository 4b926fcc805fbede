// event_loop.h: the I/O thread ("rpc-io") that the store's RPC servers and clients run on: one
// Asio io_context and the thread that runs it. A member's client port, its peer port and its
// connections to the other members share one, so that a request read, the Raft round it
// starts, the messages that round sends to the peers and the answers it gives all happen on one
// thread, with no hand-off between threads (each cost about 50 us and a context switch here).
// Lifetime: start() once; stop() (also from the destructor) stops the thread, then runs what
// other threads posted meanwhile, so that posted jobs (which may hold objects that hold the
// loop) are freed. A job posted after stop() never runs.
// Thread-safety: post() and on_this_thread() from any thread; start() and stop() from one.
#pragma once

#include <boost/asio/io_context.hpp>
#include <atomic>
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
};

}  // namespace mgmt::rpc
