// builtins_system.cpp: see builtins_system.h.
#include "frontends/lang/builtins_system.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pwd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <vector>
#include <ctime>
#include <fstream>
#include <sstream>

extern char** environ;

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

std::string trim_copy(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

bool exists(const std::string& path) {
  std::ifstream in(path);
  return static_cast<bool>(in);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

void add_system_builtins(std::map<std::string, Func>& t) {
  auto no_args = [&t](const std::string& name, std::function<Value()> f) {
    t[name] = [name, f](const std::vector<Value>& a) -> Result<Value> {
      if (!a.empty()) return wrong(name, "takes no arguments");
      return f();
    };
  };
  // The distribution family, from the files each family's base system has.
  no_args("os.is_family_debian", [] { return Value::of(exists("/etc/debian_version")); });
  no_args("os.is_family_redhat", [] { return Value::of(exists("/etc/redhat-release")); });
  no_args("os.is_family_archlinux", [] { return Value::of(exists("/etc/arch-release")); });
  no_args("os.family", [] {
    if (exists("/etc/debian_version")) return Value::of(std::string("debian"));
    if (exists("/etc/redhat-release")) return Value::of(std::string("redhat"));
    if (exists("/etc/arch-release")) return Value::of(std::string("archlinux"));
    return Value::of(std::string());
  });
  // A virtual machine names its maker in the DMI tables.
  no_args("os.is_virtual", [] {
    static const char* kFiles[] = {"/sys/class/dmi/id/product_name",
                                   "/sys/class/dmi/id/sys_vendor",
                                   "/sys/class/dmi/id/board_vendor",
                                   "/sys/class/dmi/id/bios_vendor"};
    static const char* kVendors[] = {"Amazon EC2", "BHYVE",     "Bochs",  "Google",
                                     "Hyper-V",    "innotek",   "KVM",    "OpenStack",
                                     "Parallels",  "QEMU",      "VMware", "Xen",
                                     "VirtualBox", "Microsoft Corporation Virtual"};
    for (const char* f : kFiles) {
      const std::string text = read_all(f);
      for (const char* v : kVendors) {
        if (text.find(v) != std::string::npos) return Value::of(true);
      }
    }
    return Value::of(read_all("/proc/cpuinfo").find(" hypervisor") != std::string::npos);
  });
  // The agent's own command line.
  no_args("os.args", [] {
    const std::string raw = read_all("/proc/self/cmdline");
    List out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\0') {
        out.push_back(Value::of(raw.substr(start, i - start)));
        start = i + 1;
      }
    }
    return Value::list(out);
  });
  no_args("deploy.binary_path", [] {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return Value::of(ec ? std::string() : p.string());
  });
  no_args("sys.uptime", [] {
    double up = 0;
    std::ifstream("/proc/uptime") >> up;
    return Value::of(static_cast<int64_t>(up));
  });
  no_args("sys.env", [] {
    Map out;
    for (char** e = environ; e && *e; ++e) {
      const std::string kv = *e;
      const auto eq = kv.find('=');
      if (eq == std::string::npos) continue;
      out.emplace_back(Value::of(kv.substr(0, eq)), Value::of(kv.substr(eq + 1)));
    }
    return Value::map(std::move(out));
  });
  t["sys.hasenv"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1 || !a[0].is_str()) return wrong("sys.hasenv", "takes one str");
    return Value::of(std::getenv(a[0].as_str().c_str()) != nullptr);
  };
  t["os.file_exists"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1 || !a[0].is_str()) return wrong("os.file_exists", "takes one str");
    std::error_code ec;
    return Value::of(std::filesystem::exists(a[0].as_str(), ec));
  };
  t["os.user_exists"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1 || !a[0].is_str()) return wrong("os.user_exists", "takes one str");
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buffer(16384);
    ::getpwnam_r(a[0].as_str().c_str(), &pw, buffer.data(), buffer.size(), &found);
    return Value::of(found != nullptr);
  };
  t["strings.substr"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "strings.substr";
    if (a.size() != 3 || !a[0].is_str() || !a[1].is_int() || !a[2].is_int()) {
      return wrong(name, "takes a str and two ints");
    }
    const auto& s = a[0].as_str();
    const int64_t low = a[1].as_int();
    const int64_t high = a[2].as_int();
    const auto size = static_cast<int64_t>(s.size());
    if (low < 0 || low > size || high < 0 || high > size || low > high) {
      return failed(name, "low/high out of range");
    }
    return Value::of(s.substr(static_cast<std::size_t>(low), static_cast<std::size_t>(high - low)));
  };
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
  // Today's weekday (the program runs again each second while it reads the clock).
  no_args("datetime.weekday_fast", [] {
    static const char* kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                  "thursday", "friday", "saturday"};
    return Value::of(std::string(kDays[local(std::time(nullptr)).tm_wday]));
  });
  // Whether a kernel module is loaded (/proc/modules).
  t["os.modinfo_loaded"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1 || !a[0].is_str()) {
      return wrong("os.modinfo_loaded", "takes one str, the module");
    }
    std::istringstream modules(read_all("/proc/modules"));
    for (std::string line; std::getline(modules, line);) {
      if (line.substr(0, line.find(' ')) == a[0].as_str()) return Value::of(true);
    }
    return Value::of(false);
  };
  // The first wired interface (not loopback, has a hardware address, not wireless), one that
  // is up before one that is down.
  t["net.wired_interface"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (!a.empty()) return wrong("net.wired_interface", "takes no arguments");
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/class/net", ec)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    std::string down;
    for (const auto& n : names) {
      const std::string dir = "/sys/class/net/" + n;
      const std::string mac = trim_copy(read_all(dir + "/address"));
      if (n == "lo" || mac.empty() || mac == "00:00:00:00:00:00" || exists(dir + "/wireless")) {
        continue;
      }
      if (trim_copy(read_all(dir + "/operstate")) == "up") return Value::of(n);
      if (down.empty()) down = n;
    }
    if (!down.empty()) return Value::of(down);
    return fail(Code::not_found, "errStream: net.wired_interface: no wired network interface "
                                 "found");
  };
  // The interface's first global IPv4 address with its prefix ("192.0.2.7/24").
  t["net.interface_cidr"] = [](const std::vector<Value>& a) -> Result<Value> {
    if (a.size() != 1 || !a[0].is_str()) {
      return wrong("net.interface_cidr", "takes one str, the interface");
    }
    ifaddrs* all = nullptr;
    if (::getifaddrs(&all) != 0) {
      return fail(Code::unavailable, "errStream: net.interface_cidr: cannot list addresses");
    }
    std::string found;
    bool seen = false;
    for (ifaddrs* i = all; i != nullptr && found.empty(); i = i->ifa_next) {
      if (i->ifa_name == nullptr || a[0].as_str() != i->ifa_name) continue;
      seen = true;
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask) {
        continue;
      }
      in_addr addr{};
      in_addr mask{};
      std::memcpy(&addr, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, sizeof addr);
      std::memcpy(&mask, &reinterpret_cast<sockaddr_in*>(i->ifa_netmask)->sin_addr, sizeof mask);
      const uint32_t host = ntohl(addr.s_addr);
      const bool global = (host >> 24) != 127 && (host >> 16) != 0xA9FE && (host >> 28) != 0xE &&
                          host != 0;
      if (!global) continue;
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &addr, text, sizeof text);
      found = std::string(text) + "/" + std::to_string(__builtin_popcount(mask.s_addr));
    }
    ::freeifaddrs(all);
    if (!found.empty()) return Value::of(found);
    return fail(Code::not_found, "errStream: net.interface_cidr: " +
                                     (seen ? "interface `" + a[0].as_str() +
                                                 "` has no global-unicast IPv4 address"
                                           : "could not find interface `" + a[0].as_str() + "`"));
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
