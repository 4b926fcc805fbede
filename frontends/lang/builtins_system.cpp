// builtins_system.cpp: see builtins_system.h.
#include "frontends/lang/builtins_system.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

namespace mgmt::frontends::lang {
namespace {

auto wrong(const std::string& fn, const std::string& what) {
  return fail(Code::invalid_argument, "errUnify: " + fn + ": " + what);
}

auto failed(const std::string& fn, const std::string& what) {
  return fail(Code::invalid_argument, "errStream: " + fn + ": " + what);
}

std::tm local(int64_t seconds) {
  std::tm tm{};
  const std::time_t t = static_cast<std::time_t>(seconds);
  ::localtime_r(&t, &tm);
  return tm;
}

std::string strftime_of(const std::tm& tm, const char* format) {
  char out[256];
  const std::size_t n = std::strftime(out, sizeof(out), format, &tm);
  return std::string(out, n);
}

// Go's reference-time layout ("2006-01-02 15:04:05") as strftime; unknown text is kept.
std::string go_layout(const std::string& layout) {
  static const std::pair<const char*, const char*> kTokens[] = {
      {"2006", "%Y"}, {"January", "%B"}, {"Jan", "%b"}, {"Monday", "%A"}, {"Mon", "%a"},
      {"MST", "%Z"},  {"-0700", "%z"},   {"01", "%m"},  {"02", "%d"},     {"15", "%H"},
      {"03", "%I"},   {"04", "%M"},      {"05", "%S"},  {"PM", "%p"},     {"06", "%y"}};
  std::string out;
  for (std::size_t i = 0; i < layout.size();) {
    bool matched = false;
    for (const auto& [go, c] : kTokens) {
      const std::string token = go;
      if (layout.compare(i, token.size(), token) == 0) {
        out += c;
        i += token.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (layout[i] == '%') out += '%';
    out += layout[i++];
  }
  return out;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void add_system_builtins(std::map<std::string, Func>& t) {
  t["datetime.now"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (!a.empty()) return wrong("datetime.now", "takes no arguments");
    return Value::of(now_seconds());
  };
  t["datetime.str_now"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (!a.empty()) return wrong("datetime.str_now", "takes no arguments");
    return Value::of(std::to_string(now_seconds()));
  };
  // time.Unix(x).String() in Go: "2006-01-02 15:04:05 -0700 MST".
  t["datetime.print"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1 || !a[0].is_int()) return wrong("datetime.print", "takes one int");
    return Value::of(strftime_of(local(a[0].as_int()), "%Y-%m-%d %H:%M:%S %z %Z"));
  };
  t["datetime.format"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 2 || !a[0].is_int() || !a[1].is_str()) {
      return wrong("datetime.format", "takes an int and a str (a Go layout)");
    }
    return Value::of(strftime_of(local(a[0].as_int()), go_layout(a[1].as_str()).c_str()));
  };
  t["datetime.weekday"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1 || !a[0].is_int()) return wrong("datetime.weekday", "takes one int");
    static const char* kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                  "thursday", "friday", "saturday"};
    return Value::of(std::string(kDays[local(a[0].as_int()).tm_wday]));
  };
  t["datetime.hour"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1 || !a[0].is_int()) return wrong("datetime.hour", "takes one int");
    return Value::of(static_cast<int64_t>(local(a[0].as_int()).tm_hour));
  };
  t["net.url_parser"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "net.url_parser";
    if (a.size() != 1 || !a[0].is_str()) return wrong(name, "takes one str");
    std::string rest = a[0].as_str();
    const auto colon = rest.find(':');
    if (colon == std::string::npos || colon == 0) {
      return failed(name, "\"" + rest + "\" has no scheme (like https://)");
    }
    const std::string scheme = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
    if (auto hash = rest.find('#'); hash != std::string::npos) rest = rest.substr(0, hash);
    std::string query;
    if (auto q = rest.find('?'); q != std::string::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    std::string host;
    if (rest.rfind("//", 0) == 0) {
      const auto slash = rest.find('/', 2);
      host = rest.substr(2, slash == std::string::npos ? std::string::npos : slash - 2);
      if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
      rest = slash == std::string::npos ? "" : rest.substr(slash);
    }
    return Value::structure({{"scheme", Value::of(scheme)},
                             {"host", Value::of(host)},
                             {"path", Value::of(rest)},
                             {"raw_query", Value::of(query)}});
  };
  t["sys.load"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (!a.empty()) return wrong("sys.load", "takes no arguments");
    std::ifstream in("/proc/loadavg");
    double x1 = 0, x5 = 0, x15 = 0;
    if (!(in >> x1 >> x5 >> x15)) return failed("sys.load", "cannot read /proc/loadavg");
    return Value::structure(
        {{"x1", Value::of(x1)}, {"x5", Value::of(x5)}, {"x15", Value::of(x15)}});
  };
}

}  // namespace mgmt::frontends::lang
