// misuse.cpp: typo suggestions, URL, number and host name checks; see misuse.h.
#include "agent/cli/misuse.h"

#include "common/duration.h"
#include "common/utf8.h"

#include <algorithm>
#include <charconv>

namespace mgmt::agent::cli {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring letters ("lnag" is one edit from "lang") each cost one.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    // A prefix of a candidate ("dep" for "deploy") is as good as a near miss.
    if (word.size() >= 2 && candidate.rfind(word, 0) == 0) d = 1;
    if (!best || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  // Close enough: at most a third of the longer word differs (and at least one edit allowed).
  if (best) {
    std::size_t limit = std::max<std::size_t>(1, std::max(word.size(), best->size()) / 3);
    if (best_distance <= limit) return best;
  }
  return std::nullopt;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  auto match = closest_match(word, candidates);
  return match ? "; did you mean \"" + *match + "\"?" : "";
}

std::optional<std::string> url_problem(const std::string& value) {
  const std::string example = "use a URL like http://127.0.0.1:2379";
  auto bad = [&](const std::string& why) {
    return "\"" + value + "\" is not a URL (" + why + "); " + example;
  };
  auto scheme_end = value.find("://");
  if (scheme_end == std::string::npos) return bad("no scheme");
  std::string scheme = value.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return bad("scheme must be http or https");
  std::string rest = value.substr(scheme_end + 3);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/') != std::string::npos) return bad("no path is allowed");
  std::string host = rest;
  std::string port;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:2379
    auto close = rest.find(']');
    if (close == std::string::npos) return bad("unclosed '[' in the host");
    host = rest.substr(0, close + 1);
    std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the host");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return bad("empty port");
  }
  if (host.empty() || host == "[]") return bad("no host");
  for (char c : host) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '-' || c == '_' || c == '[' || c == ']' || c == ':';
    if (!allowed) return bad("bad character in the host");
  }
  if (!port.empty()) {
    int number = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (error != std::errc() || end != port.data() + port.size() || number < 1 ||
        number > 65535) {
      return bad("port must be a number from 1 to 65535");
    }
  }
  return std::nullopt;
}

std::optional<std::string> whole_number_problem(const std::string& value, long long min) {
  long long number = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc() || end != value.data() + value.size() || number < min) {
    return "\"" + value + "\" is not a whole number of at least " + std::to_string(min) +
           "; give one like " + std::to_string(min + 1);
  }
  return std::nullopt;
}

std::optional<std::string> positive_duration_problem(const std::string& value) {
  auto duration = parse_duration(value);
  if (duration && duration->count() > 0) return std::nullopt;
  return "\"" + escape_bytes(value) + "\" is not a positive duration; give one like 500ms, 30s " +
         "or 10m";
}

std::optional<std::string> host_name_problem(const std::string& value) {
  bool fine = !value.empty() && value.size() <= 253 && is_utf8(value);
  for (unsigned char c : value) {
    if (c <= 0x20 || c == 0x7f || c == '/') fine = false;
  }
  if (fine) return std::nullopt;
  return "\"" + escape_bytes(value) + "\" cannot name a host in the cluster; use 1 to 253 " +
         "bytes of UTF-8 text without spaces, control characters or '/'";
}

}  // namespace mgmt::agent::cli
