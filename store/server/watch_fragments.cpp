// watch_fragments.cpp: see watch_fragments.h. Sizes are summed as each event is added (its
// field's tag, length and bytes), not measured again for each: a replay part may hold
// thousands of events.
#include "store/server/watch_fragments.h"

#include <google/protobuf/io/coded_stream.h>

namespace mgmt::store::server {

std::vector<etcdserverpb::WatchResponse> watch_fragments(etcdserverpb::WatchResponse whole,
                                                         std::size_t limit) {
  std::vector<etcdserverpb::WatchResponse> parts;
  if (whole.ByteSizeLong() < limit || whole.events_size() < 2) {
    parts.push_back(std::move(whole));
    return parts;
  }
  etcdserverpb::WatchResponse shell = whole;
  shell.clear_events();
  shell.set_fragment(true);
  const std::size_t shell_bytes = shell.ByteSizeLong();
  auto field_bytes = [](const mvccpb::Event& e) {
    const std::size_t n = e.ByteSizeLong();
    return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(n) + n;
  };
  const int n = whole.events_size();
  int next = 0;
  while (next < n) {
    etcdserverpb::WatchResponse part = shell;
    std::size_t bytes = shell_bytes;
    // As etcd: add events while the part stays under the limit; one alone may pass it.
    while (next < n) {
      const std::size_t more = field_bytes(whole.events(next));
      if (part.events_size() > 0 && bytes + more >= limit) break;
      bytes += more;
      part.add_events()->Swap(whole.mutable_events(next));
      ++next;
    }
    if (next == n) part.set_fragment(false);
    parts.push_back(std::move(part));
  }
  return parts;
}

}  // namespace mgmt::store::server
