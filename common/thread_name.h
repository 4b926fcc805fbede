// thread_name.h: names the calling thread as `top -H`, perf and gdb show it (Linux keeps the
// first 15 bytes), so that a person looking at a busy agent can tell its threads apart.
#pragma once

#include <pthread.h>

#include <string>

namespace mgmt {

inline void name_this_thread(const std::string& name) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace mgmt
