// sim_network.cpp: see sim_network.h.
#include "test/support/sim/sim_network.h"

namespace mgmt::test::sim {

void SimNetwork::enqueue(uint64_t at, const Message& m) {
  queue_.emplace(std::pair{at, seq_++}, m);
}

void SimNetwork::send(uint64_t now, const Message& m) {
  ++sent;
  if (blocked(m.from, m.to) || rng_.chance(faults_.loss_per_million)) {
    ++lost;
    return;
  }
  const uint64_t span = faults_.max_delay - faults_.min_delay + 1;
  enqueue(now + faults_.min_delay + rng_.below(span), m);
  if (rng_.chance(faults_.duplicate_per_million)) {
    ++duplicated;
    enqueue(now + faults_.min_delay + rng_.below(span * 3), m);
  }
}

std::vector<Message> SimNetwork::due(uint64_t now) {
  std::vector<Message> out;
  while (!queue_.empty() && queue_.begin()->first.first <= now) {
    Message m = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    if (blocked(m.from, m.to)) {
      ++lost;
      continue;
    }
    ++delivered;
    out.push_back(std::move(m));
  }
  return out;
}

void SimNetwork::defer(uint64_t now, const Message& m) { enqueue(now + 1, m); }

void SimNetwork::split(const std::set<NodeId>& a, const std::set<NodeId>& b) {
  for (NodeId x : a) {
    for (NodeId y : b) {
      blocked_.insert({x, y});
      blocked_.insert({y, x});
    }
  }
}

}  // namespace mgmt::test::sim
