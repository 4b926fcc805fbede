// duration.h: durations as etcd's flags take them (Go's time.ParseDuration, without signs or
// the micro- and nanosecond units): "500ms", "90s", "30m", "1h30m", "2.5h". The one place the
// agent's flags read a duration, so that every such flag takes the same forms.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace mgmt {

// The duration `text` names, in whole milliseconds; nullopt if it is not one (a bare number,
// an unknown unit, an empty string).
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

}  // namespace mgmt
