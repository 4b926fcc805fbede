// history_book.cpp: see history_book.h.
#include "frontends/lang/history_book.h"

namespace mgmt::frontends::lang {

Value HistoryBook::remember(const std::string& site, const Value& now_value,
                            std::chrono::milliseconds ago, Clock::time_point now,
                            std::optional<Clock::time_point>* due) {
  std::lock_guard lock(mutex_);
  auto& entries = sites_[site];
  if (entries.empty() || !(entries.back().value == now_value)) {
    entries.push_back(Entry{now, now_value});
  }
  const auto target = now - ago;
  // The answer: the latest entry at or before the target, else the oldest.
  std::size_t answer = 0;
  for (std::size_t i = entries.size(); i-- > 0;) {
    if (entries[i].at <= target) {
      answer = i;
      break;
    }
  }
  // Older entries can never be asked for again (the target only moves forward).
  entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(answer));
  if (entries.size() > 1 && due != nullptr) {
    const auto next = entries[1].at + ago;
    if (!*due || next < **due) *due = next;
  }
  return entries.front().value;
}

int64_t HistoryBook::next_count(const std::string& site) {
  std::lock_guard lock(mutex_);
  return counts_[site]++;
}

}  // namespace mgmt::frontends::lang
