// commit_notices.cpp: see commit_notices.h.
#include "store/server/commit_notices.h"

#include "store/raft/node.h"

namespace mgmt::store::server {
namespace {

bool is_notice(const raft::Message& m) {
  return m.type == raft::MessageType::append && m.entries.empty() &&
         m.context == raft::kCommitOnlyContext;
}

// Whether `m`, sent after `notice` to the same peer, tells it at least as much of the commit.
bool carries(const raft::Message& m, const raft::Message& notice) {
  return (m.type == raft::MessageType::append || m.type == raft::MessageType::heartbeat) &&
         m.term == notice.term && m.commit >= notice.commit;
}

}  // namespace

void CommitNotices::send(raft::Message m) {
  const raft::NodeId to = m.to;
  auto it = held_.find(to);
  if (is_notice(m)) {
    if (it == held_.end()) {
      held_.emplace(to, Held{m, Clock::now() + delay_});
    } else if (carries(m, it->second.notice)) {
      it->second.notice = m;  // the newer notice replaces the older; the first one's time holds
    } else {
      next_.send(it->second.notice);
      it->second = Held{m, Clock::now() + delay_};
    }
    return;
  }
  if (it != held_.end()) {
    if (!carries(m, it->second.notice)) next_.send(it->second.notice);
    held_.erase(it);
  }
  next_.send(std::move(m));
}

std::optional<CommitNotices::Clock::time_point> CommitNotices::flush(Clock::time_point now) {
  std::optional<Clock::time_point> next;
  bool sent = false;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.due <= now) {
      next_.send(it->second.notice);
      sent = true;
      it = held_.erase(it);
      continue;
    }
    if (!next || it->second.due < *next) next = it->second.due;
    ++it;
  }
  if (sent) next_.dispatch();
  return next;
}

}  // namespace mgmt::store::server
