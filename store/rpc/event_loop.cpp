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

void EventLoop::post(std::function<void()> job) { boost::asio::post(io_, std::move(job)); }

bool EventLoop::on_this_thread() const { return this_thread_loop == this; }

EventLoop* EventLoop::current() { return this_thread_loop; }

}  // namespace mgmt::rpc
