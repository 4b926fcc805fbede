// driver.cpp: see driver.h.
#include "store/raft/driver.h"

#include <algorithm>

namespace mgmt::store::raft {

Result<std::unique_ptr<Driver>> Driver::open(const Config& config, DurableLog& log,
                                             Transport& transport, StateMachine& state,
                                             DriverOptions options) {
  Config restarted = config;
  restarted.applied = state.applied_index();
  auto node = Node::create(restarted, log);
  if (!node) return fail(node.error());
  return std::unique_ptr<Driver>(
      new Driver(std::move(*node), log, transport, state, std::move(options)));
}

Driver::Driver(std::unique_ptr<Node> node, DurableLog& log, Transport& transport,
               StateMachine& state, DriverOptions options)
    : node_(std::move(node)), log_(log), transport_(transport), state_(state),
      options_(std::move(options)), saved_(log.initial_state().hard_state) {}

Result<void> Driver::stop(Error e) {
  failure_ = e;
  return fail(std::move(e));
}

Result<void> Driver::process_ready() {
  if (failure_) return fail(*failure_);
  while (node_->has_ready()) {
    Ready rd = node_->ready();
    // A leader sends before its own disk write (Raft thesis §10.2.1: the leader persists in
    // parallel with its followers): its own ack counts only once persisted (Node::advance), and
    // what it sends reveals no vote or term it has not saved, unless this Ready changes them.
    const bool send_first =
        node_->role() == Role::leader && !rd.snapshot &&
        (!rd.hard_state ||
         (rd.hard_state->term == saved_.term && rd.hard_state->vote == saved_.vote));
    if (send_first) {
      for (Message& m : rd.messages) transport_.send(std::move(m));
      transport_.dispatch();
    }
    // The commit index is Raft's volatile state (the paper's figure 2): the hard state is
    // written when its term or vote moved, which must be durable before anything acts on
    // them, and a commit index that moved alone is not (a restart starts from the applied
    // index at least, and the leader says the rest again). Written with every put, the hard
    // state's key landed between the log's entries in RocksDB's memtable, where each insert
    // then searched the skiplist from the top: about 10% of a lone member's sequential puts.
    std::optional<HardState> hard_state;
    if (rd.hard_state &&
        (rd.hard_state->term != saved_.term || rd.hard_state->vote != saved_.vote)) {
      hard_state = rd.hard_state;
    }
    if (rd.snapshot || !rd.entries.empty() || hard_state) {
      if (auto r = log_.save(rd.snapshot, rd.entries, hard_state); !r) {
        return stop(r.error().with_context("raft: persisting the log failed; stopped"));
      }
      if (hard_state) saved_ = *hard_state;
    }
    if (rd.snapshot && rd.snapshot->meta.index > state_.applied_index()) {
      if (auto r = state_.restore(*rd.snapshot); !r) {
        return stop(r.error().with_context("raft: installing a snapshot failed; stopped"));
      }
    }
    if (!send_first) {
      for (Message& m : rd.messages) transport_.send(std::move(m));
      transport_.dispatch();
    }
    for (const Entry& e : rd.committed_entries) {
      if (e.type == EntryType::conf_change) {
        last_conf_change_ = std::max(last_conf_change_, e.index);
      }
    }
    {
      // Entries at or below the applied index were applied before a restart: skip them.
      std::span<const Entry> todo(rd.committed_entries);
      const uint64_t applied = state_.applied_index();
      while (!todo.empty() && todo.front().index <= applied) todo = todo.subspan(1);
      if (!todo.empty()) {
        if (auto r = state_.apply_all(todo); !r) {
          return stop(r.error().with_context("raft: applying entries " +
                                             std::to_string(todo.front().index) + ".." +
                                             std::to_string(todo.back().index) +
                                             " failed; stopped"));
        }
      }
    }
    if (options_.on_read) {
      for (const ReadState& rs : rd.read_states) options_.on_read(rs);
    }
    if (rd.soft_state && options_.on_soft_state) options_.on_soft_state(*rd.soft_state);
    node_->advance(rd);
    if (auto r = maybe_compact(); !r) return r;
  }
  return ok();
}

Result<void> Driver::maybe_compact() {
  if (options_.compact_after == 0) return ok();
  const uint64_t applied = node_->log().applied();
  const uint64_t keep = options_.keep_after_compaction;
  if (applied <= keep) return ok();
  // Compact through `to`, keeping `keep` applied entries; with today's membership, so not below
  // a membership change (it waits until the change is `keep` entries old).
  const uint64_t to = applied - keep;
  if (to < log_.first_index() || to - log_.first_index() + 1 < options_.compact_after) {
    return ok();
  }
  if (keep > 0 && last_conf_change_ > to) return ok();
  if (applied != state_.applied_index()) return ok();
  auto data = state_.snapshot_data();
  if (!data) return stop(data.error().with_context("raft: taking a snapshot failed; stopped"));
  const uint64_t at = data->empty() ? to : applied;  // a state handed over describes `applied`
  if (auto r = log_.compact(at, node_->tracker().conf_state(), std::move(*data)); !r) {
    return stop(r.error().with_context("raft: compacting the log failed; stopped"));
  }
  return ok();
}

}  // namespace mgmt::store::raft
