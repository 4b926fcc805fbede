// read_only.cpp: see read_only.h.
#include "store/raft/read_only.h"

namespace mgmt::store::raft {

void ReadOnly::add_request(uint64_t index, const Message& m) {
  if (pending_.count(m.context)) return;  // the same request id twice: one answer
  pending_.emplace(m.context, ReadIndexStatus{m, index, {}});
  queue_.push_back(m.context);
}

size_t ReadOnly::recv_ack(NodeId from, const std::string& context,
                          const std::set<NodeId>& voters) {
  auto it = pending_.find(context);
  if (it == pending_.end()) return 0;
  it->second.acks.insert(from);
  size_t n = 0;
  for (NodeId id : it->second.acks) n += voters.count(id);
  return n;
}

std::vector<ReadIndexStatus> ReadOnly::advance(const std::string& context) {
  std::vector<ReadIndexStatus> out;
  if (!pending_.count(context)) return out;
  while (!queue_.empty()) {
    std::string ctx = queue_.front();
    queue_.pop_front();
    auto it = pending_.find(ctx);
    out.push_back(std::move(it->second));
    pending_.erase(it);
    if (ctx == context) break;
  }
  return out;
}

}  // namespace mgmt::store::raft
