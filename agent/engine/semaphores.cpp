// semaphores.cpp: see semaphores.h.
#include "agent/engine/semaphores.h"

namespace mgmt::agent::engine {

bool Semaphores::try_acquire(const Wanted& wanted) {
  for (const auto& [id, size] : wanted) {
    auto it = held_.find(id);
    // The size is each resource's own view; the smallest asked for bounds the count.
    if (it != held_.end() && it->second >= size) return false;
  }
  for (const auto& [id, size] : wanted) ++held_[id];
  return true;
}

void Semaphores::release(const Wanted& wanted) {
  for (const auto& [id, size] : wanted) {
    auto it = held_.find(id);
    if (it == held_.end()) continue;
    if (--it->second <= 0) held_.erase(it);
  }
}

int64_t Semaphores::held(const std::string& id) const {
  auto it = held_.find(id);
  return it == held_.end() ? 0 : it->second;
}

}  // namespace mgmt::agent::engine
