// metaparams.cpp: see metaparams.h.
#include "agent/engine/metaparams.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace mgmt::agent::engine {

Result<std::pair<std::string, int64_t>> parse_sema(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::pair{text, int64_t{1}};
  const std::string digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::pair{text, int64_t{1}};  // "not:smart" is a plain id
  }
  const int64_t size = std::stoll(digits);
  if (size < 1) {
    return fail(Code::invalid_argument, "semaphore \"" + text +
                                            "\" has size 0; use a size of at least 1");
  }
  return std::pair{text.substr(0, colon), size};
}

Result<Meta> parse_meta(const frontends::ResourceSpec& spec) {
  Meta m;
  const std::string id = spec.kind + "[" + spec.name + "]";
  auto wrong = [&](const std::string& name, const std::string& want) {
    return fail(Code::invalid_argument,
                id + ": metaparameter \"" + name + "\" must be " + want);
  };
  bool limit_set = false;
  for (const auto& [name, value] : spec.meta.items()) {
    if (name == "noop" || name == "realize" || name == "hidden" || name == "autoedge" ||
        name == "autogroup" || name == "rewatch" || name == "reverse" || name == "dollar") {
      if (!value.is_boolean()) return wrong(name, "a bool");
      const bool b = value.get<bool>();
      if (name == "noop") m.noop = b;
      if (name == "realize") m.realize = b;
      if (name == "hidden") m.hidden = b;
      if (name == "autoedge") m.autoedge = b;
      if (name == "autogroup") m.autogroup = b;
      if (name == "reverse") m.reverse = b;
    } else if (name == "retry" || name == "delay" || name == "poll" || name == "burst") {
      if (!value.is_number_integer()) return wrong(name, "an int");
      const int64_t v = value.get<int64_t>();
      if (name == "retry") {
        if (v < -1) return wrong(name, "-1 (forever) or more");
        m.retry = v;
      } else if (v < 0) {
        return wrong(name, "0 or more");
      } else {
        (name == "delay" ? m.delay_ms : name == "poll" ? m.poll_s : m.burst) = v;
      }
    } else if (name == "limit") {
      if (!value.is_number()) return wrong(name, "a float (runs per second)");
      m.limit = value.get<double>();
      if (!(m.limit > 0)) return wrong(name, "above 0 (runs per second)");
      limit_set = true;
    } else if (name == "sema") {
      if (!value.is_array()) return wrong(name, "a list of strings");
      std::set<std::string> seen;
      for (const auto& s : value) {
        if (!s.is_string()) return wrong(name, "a list of strings");
        auto parsed = parse_sema(s.get<std::string>());
        if (!parsed) return fail(Code::invalid_argument, id + ": " + parsed.error().message());
        if (!seen.insert(parsed->first).second) continue;
        m.sema.push_back(*parsed);
      }
      std::sort(m.sema.begin(), m.sema.end());
    } else if (name == "export") {
      if (!value.is_array()) return wrong(name, "a list of hostnames");
    } else {
      return fail(Code::invalid_argument,
                  id + ": unknown metaparameter \"" + name + "\" (known: autoedge, autogroup, "
                       "burst, delay, export, hidden, limit, noop, poll, realize, retry, "
                       "reverse, rewatch, sema)");
    }
  }
  if (limit_set && std::isfinite(m.limit) && m.burst < 1) {
    return fail(Code::invalid_argument,
                id + ": metaparameter \"limit\" needs a \"burst\" of at least 1 (runs allowed "
                     "at once)");
  }
  return m;
}

}  // namespace mgmt::agent::engine
