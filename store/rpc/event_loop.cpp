// event_loop.cpp: see event_loop.h.
#include "store/rpc/event_loop.h"

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

namespace mgmt::rpc {
namespace {
thread_local EventLoop* this_thread_loop = nullptr;
}  // namespace

EventLoop::EventLoop(std::function<void()> on_thread_start)
    : on_thread_start_(std::move(on_thread_start)) {}

EventLoop::~EventLoop() { stop(); }

void EventLoop::start() {
  if (started_) return;
  started_ = true;
  running_ = true;
  auto guard =
      std::make_shared<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
          io_.get_executor());
  thread_ = std::thread([this, guard] {
    pthread_setname_np(pthread_self(), "rpc-io");
    this_thread_loop = this;
    if (on_thread_start_) on_thread_start_();
    io_.run();
    this_thread_loop = nullptr;
  });
}

void EventLoop::stop() {
  if (stopped_) return;
  stopped_ = true;
  running_ = false;
  io_.stop();
  if (thread_.joinable()) thread_.join();
  // What other threads posted meanwhile runs now and finds its call over (a posted job may hold
  // what holds this loop: left queued, neither would be freed).
  io_.restart();
  io_.poll();
}

void EventLoop::post(std::function<void()> job) {
  if (!on_this_thread()) return boost::asio::post(io_, std::move(job));
  // From the loop itself (a round deferred until the loop is idle, say): a batch. Jobs from other
  // threads stay plain, so that what they ask soon() still queues behind the rest of them (the
  // answers of a round run on another thread go out in one write).
  boost::asio::post(io_, [this, job = std::move(job)] {
    Batch batch(*this);
    job();
  });
}

void EventLoop::soon(std::function<void()> job) {
  if (on_this_thread() && batch_depth_ > 0) return batch_jobs_.push_back(std::move(job));
  post(std::move(job));
}

EventLoop::Batch::Batch(EventLoop& loop) : loop_(loop) { ++loop_.batch_depth_; }

EventLoop::Batch::~Batch() {
  if (loop_.batch_depth_ > 1) {
    --loop_.batch_depth_;
    return;
  }
  // Still in the batch while its jobs run: what they ask soon() joins this drain.
  while (!loop_.batch_jobs_.empty()) {
    auto job = std::move(loop_.batch_jobs_.front());
    loop_.batch_jobs_.pop_front();
    job();
  }
  --loop_.batch_depth_;
}

bool EventLoop::on_this_thread() const { return this_thread_loop == this; }

EventLoop* EventLoop::current() { return this_thread_loop; }

}  // namespace mgmt::rpc
