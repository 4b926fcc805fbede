// metrics_page.h: a member's /metrics as the tests read it: the page, and one sample's value
// by its series (the name with its labels, as printed), so that every test reads etcd's
// Prometheus text the same way.
#pragma once

#include "test/support/process/loopback_client.h"

#include <regex>
#include <string>

namespace mgmt::test {

inline std::string metrics_page(int port) {
  return http_body(http_request(port, "GET", "/metrics"));
}

// The value of `series` (e.g. `x_bucket{le="0.001"}`) on the page, or -1 when absent.
inline double metric_sample(const std::string& page, const std::string& series) {
  const std::string escaped = std::regex_replace(series, std::regex(R"([{}+.\"])"), R"(\$&)");
  std::smatch m;
  if (!std::regex_search(page, m, std::regex("\n" + escaped + " ([0-9.e+-]+)\n"))) return -1;
  return std::stod(m[1]);
}

}  // namespace mgmt::test
