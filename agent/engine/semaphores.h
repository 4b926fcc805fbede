// semaphores.h: the engine's named counting semaphores (Meta sema), one namespace per engine.
// A resource holds all of its semaphores while its check_apply runs and none otherwise;
// acquiring is all-or-nothing and never blocks (a resource that cannot get them waits, without
// holding a worker, until a release). Thread-safety: none (the engine's mutex guards it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mgmt::agent::engine {

class Semaphores {
 public:
  using Wanted = std::vector<std::pair<std::string, int64_t>>;  // (id, size)

  // Takes one count of every semaphore in `wanted`, or none when any is full.
  bool try_acquire(const Wanted& wanted);
  void release(const Wanted& wanted);
  // Counts held now (for tests and logs).
  int64_t held(const std::string& id) const;

 private:
  std::map<std::string, int64_t> held_;
};

}  // namespace mgmt::agent::engine
