// sim_disk.cpp: see sim_disk.h.
#include "test/support/sim/sim_disk.h"

#include <cstring>

namespace mgmt::test::sim {

Result<void> SimDisk::save(const std::optional<Snapshot>& snapshot,
                           const std::vector<Entry>& entries,
                           const std::optional<HardState>& hard_state) {
  ++saves;
  if (fault_ == Fault::io_error) {
    fault_ = Fault::none;
    return fail(Code::data_loss, "simulated disk: fsync failed");
  }
  if (fault_ == Fault::crash) {
    fault_ = Fault::none;
    crashed_ = true;  // the batch never became durable
    return fail(Code::unavailable, "simulated disk: crashed during the write");
  }
  if (snapshot) log_.apply_snapshot(*snapshot);
  log_.append(entries);
  if (hard_state) {
    HardState hs = *hard_state;
    hs.commit = std::max(hs.commit, log_.hard_state().commit);
    log_.set_hard_state(hs);
  }
  if (on_saved) on_saved(entries);
  return ok();
}

Result<void> SimDisk::compact(uint64_t index, const ConfState& cs, std::string data) {
  if (index < log_.first_index() || index > log_.last_index()) return ok();
  log_.create_snapshot_and_compact(index, cs, std::move(data));
  return ok();
}

uint64_t hash_entry(uint64_t chain, const Entry& e) {
  uint64_t h = chain ^ 0xcbf29ce484222325ULL;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ULL;
    h ^= h >> 29;
  };
  mix(e.index);
  mix(e.term);
  mix(static_cast<uint64_t>(e.type));
  for (char c : e.data) mix(static_cast<unsigned char>(c));
  return h;
}

Result<void> SimStateMachine::apply(const Entry& e) {
  if (e.index != applied_ + 1) {
    return fail(Code::internal, "state machine: entry " + std::to_string(e.index) +
                                    " applied after " + std::to_string(applied_));
  }
  if (on_apply) {
    if (auto r = on_apply(e); !r) return r;
  }
  hash_ = hash_entry(hash_, e);
  applied_ = e.index;
  return ok();
}

Result<void> SimStateMachine::restore(const Snapshot& s) {
  if (s.data.size() != 16) return fail(Code::data_loss, "state machine: bad snapshot data");
  uint64_t index = 0, hash = 0;
  std::memcpy(&index, s.data.data(), 8);
  std::memcpy(&hash, s.data.data() + 8, 8);
  if (index != s.meta.index) return fail(Code::data_loss, "state machine: snapshot index mismatch");
  applied_ = index;
  hash_ = hash;
  return ok();
}

Result<std::string> SimStateMachine::snapshot_data() const {
  std::string out(16, '\0');
  std::memcpy(out.data(), &applied_, 8);
  std::memcpy(out.data() + 8, &hash_, 8);
  return out;
}

}  // namespace mgmt::test::sim
