// misuse.h: the words for a user's mistakes. Each message is one line naming the cause and the
// remedy; the caller prints it to stderr and exits with kExitUsage.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mgmt::agent::cli {

inline constexpr int kExitUsage = 2;        // the command line was wrong
inline constexpr int kExitUnavailable = 3;  // the command is not built yet

// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates);

// Why `value` is not a URL mgmt can use (scheme http or https, a host, an optional port
// 1-65535, nothing after the port but an optional '/'), or nothing when it is fine.
std::optional<std::string> url_problem(const std::string& value);

// Why `value` is not a whole number >= min, or nothing when it is.
std::optional<std::string> whole_number_problem(const std::string& value, long long min);
// Why `value` is not a positive duration like "500ms", "30s" or "10m" (nullopt if it is one).
std::optional<std::string> positive_duration_problem(const std::string& value);

// Why `value` cannot name a host in the cluster (the store's member name, the keys
// /_mgmt/status/HOST and /_mgmt/exported/HOST/, $hostname in mcl): it must be 1 to 253 bytes
// of UTF-8 text without spaces, control characters or '/'. Nothing when it can.
std::optional<std::string> host_name_problem(const std::string& value);

// `"; did you mean "deploy"?"` or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mgmt::agent::cli
