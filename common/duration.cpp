// duration.cpp: see duration.h.
#include "common/duration.h"

#include <cctype>
#include <cstdint>
#include <cstdlib>

namespace mgmt {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t start = at;
    while (at < text.size() && (std::isdigit(static_cast<unsigned char>(text[at])) ||
                                text[at] == '.')) {
      ++at;
    }
    const std::string digits = text.substr(start, at - start);
    if (digits.empty() || digits == "." || digits.find('.') != digits.rfind('.')) {
      return std::nullopt;
    }
    const double number = std::strtod(digits.c_str(), nullptr);
    std::string unit;
    while (at < text.size() && std::isalpha(static_cast<unsigned char>(text[at]))) {
      unit += text[at++];
    }
    if (unit == "ms") {
      total_ms += number;
    } else if (unit == "s") {
      total_ms += number * 1000;
    } else if (unit == "m") {
      total_ms += number * 60'000;
    } else if (unit == "h") {
      total_ms += number * 3'600'000;
    } else {
      return std::nullopt;
    }
  }
  // Go's limit (about 290 years) keeps the sum a valid count of milliseconds.
  if (total_ms > 9.2e15) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

}  // namespace mgmt
