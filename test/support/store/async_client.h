// async_client.h: helpers for tests that drive many of the store's gRPC streams at once from one
// completion queue (so that the test itself adds no thread per stream), and count the threads
// of the test's process (the member runs in it).
#pragma once

#include <grpcpp/grpcpp.h>

#include <dirent.h>

#include <chrono>
#include <memory>

namespace mgmt::test {

// One bidi stream on a shared completion queue, with room for an answer and the final status.
template <typename Request, typename Response>
struct AsyncStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<Request, Response>> call;
  Response response;
  grpc::Status status;
};

// Waits for the next event of `queue`; false after 10 s or when it is shut down.
inline bool next_event(grpc::CompletionQueue& queue, void** tag, bool* ok) {
  return queue.AsyncNext(tag, ok, std::chrono::system_clock::now() + std::chrono::seconds(10)) ==
         grpc::CompletionQueue::NextStatus::GOT_EVENT;
}

inline int threads_of_this_process() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

}  // namespace mgmt::test
