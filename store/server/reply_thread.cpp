// reply_thread.cpp: see reply_thread.h.
#include "store/server/reply_thread.h"

#include "common/thread_name.h"

namespace mgmt::store::server {

ReplyThread::ReplyThread() : thread_([this] { run(); }) {}

ReplyThread::~ReplyThread() { stop(); }

void ReplyThread::post(std::function<void()> replies) {
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      queue_.push_back(std::move(replies));
      wake_.notify_one();
      return;
    }
  }
  replies();
}

void ReplyThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ReplyThread::run() {
  name_this_thread("replies");
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopped_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped, and everything posted before ran
    auto replies = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    replies();
    lock.lock();
  }
}

}  // namespace mgmt::store::server
