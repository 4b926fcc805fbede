// read_batcher.cpp: see read_batcher.h.
#include "store/server/read_batcher.h"

namespace mgmt::store::server {

std::optional<std::string> ReadBatcher::next_round() {
  if (round_ || waiting_.empty()) return std::nullopt;
  Round r;
  r.context = prefix_ + "/r" + std::to_string(next_++);
  r.reads.assign(std::make_move_iterator(waiting_.begin()),
                 std::make_move_iterator(waiting_.end()));
  waiting_.clear();
  round_ = std::move(r);
  return round_->context;
}

std::vector<std::string> ReadBatcher::answered(const std::string& round) {
  if (!round_ || round_->context != round) return {};
  std::vector<std::string> reads = std::move(round_->reads);
  round_.reset();
  return reads;
}

void ReadBatcher::tick() {
  if (round_ && ++round_->age >= patience_) retry();
}

void ReadBatcher::retry() {
  if (!round_) return;
  // First in, first served: the reads of the round given up go before those that came since.
  waiting_.insert(waiting_.begin(), std::make_move_iterator(round_->reads.begin()),
                  std::make_move_iterator(round_->reads.end()));
  round_.reset();
}

}  // namespace mgmt::store::server
