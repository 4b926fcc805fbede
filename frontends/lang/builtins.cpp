// builtins.cpp: the builtin function table; see builtins.h.
#include "frontends/lang/builtins.h"

#include "frontends/lang/builtins_json.h"
#include "frontends/lang/builtins_system.h"
#include "frontends/lang/go_template.h"
#include "common/host.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace mgmt::frontends::lang {
namespace {

tl::unexpected<Error> type_error(const std::string& fn, const std::string& what) {
  return fail(Code::invalid_argument, "errUnify: " + fn + ": " + what);
}

Result<void> arity(const std::string& fn, const std::vector<Value>& a, std::size_t n) {
  if (a.size() != n) {
    return type_error(fn, "takes " + std::to_string(n) + " argument(s), got " +
                              std::to_string(a.size()));
  }
  return ok();
}

#define MGMT_ARITY(n) \
  if (auto checked = arity(name, a, n); !checked) return fail(checked.error())

Result<Value> printf_impl(const std::vector<Value>& a) {
  const std::string name = "fmt.printf";
  if (a.empty() || !a[0].is_str()) return type_error(name, "the format must be a str");
  const std::string& f = a[0].as_str();
  std::string out;
  std::size_t next = 1;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (++i >= f.size()) return type_error(name, "the format ends with a lone %");
    if (f[i] == '%') {
      out += '%';
      continue;
    }
    std::string spec = "%";
    while (i < f.size() && (std::isdigit(static_cast<unsigned char>(f[i])) || f[i] == '.' ||
                            f[i] == '-')) {
      spec += f[i++];
    }
    if (i >= f.size()) return type_error(name, "the format ends inside a verb");
    char verb = f[i];
    if (next >= a.size()) return type_error(name, "the format needs more arguments");
    const Value& v = a[next++];
    char buffer[256];
    switch (verb) {
      case 'd':
        if (!v.is_int()) return type_error(name, "%d needs an int, got " + v.type_name());
        std::snprintf(buffer, sizeof(buffer), (spec + "lld").c_str(),
                      static_cast<long long>(v.as_int()));
        out += buffer;
        break;
      case 'f':
        if (!v.is_float()) return type_error(name, "%f needs a float, got " + v.type_name());
        std::snprintf(buffer, sizeof(buffer), (spec + "f").c_str(), v.as_float());
        out += buffer;
        break;
      case 's':
        if (!v.is_str()) return type_error(name, "%s needs a str, got " + v.type_name());
        out += v.as_str();
        break;
      case 't':
        if (!v.is_bool()) return type_error(name, "%t needs a bool, got " + v.type_name());
        out += v.as_bool() ? "true" : "false";
        break;
      case 'q':
        if (!v.is_str()) return type_error(name, "%q needs a str, got " + v.type_name());
        out += "\"" + v.as_str() + "\"";
        break;
      case 'v':
        out += v.str();
        break;
      case 'T':
        out += v.type_name();
        break;
      default:
        return type_error(name, std::string("unknown verb %") + verb);
    }
  }
  if (next != a.size()) return type_error(name, "too many arguments for the format");
  return Value::of(out);
}

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(const std::string& in) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kBase64[(n >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Standard base64 with padding; nullopt on anything else.
std::optional<std::string> base64_decode(const std::string& in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  uint32_t n = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '=') {
      if (i + 2 < in.size()) return std::nullopt;  // only at the end
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;
    const char* at = std::strchr(kBase64, c);
    if (c == 0 || at == nullptr) return std::nullopt;
    n = (n << 6) | static_cast<uint32_t>(at - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((n >> bits) & 0xff);
    }
  }
  return out;
}

std::map<std::string, Func> build() {
  std::map<std::string, Func> t;
  t["fmt.printf"] = printf_impl;
  t["len"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "len";
    MGMT_ARITY(1);
    if (a[0].is_str()) return Value::of(static_cast<int64_t>(a[0].as_str().size()));
    if (a[0].is_list()) return Value::of(static_cast<int64_t>(a[0].as_list().size()));
    if (a[0].is_map()) return Value::of(static_cast<int64_t>(a[0].as_map().size()));
    return type_error(name, "needs a str, list or map, got " + a[0].type_name());
  };
  t["contains"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "contains";
    MGMT_ARITY(2);
    if (!a[1].is_list()) return type_error(name, "needs a list second, got " + a[1].type_name());
    const auto& l = a[1].as_list();
    return Value::of(std::find(l.begin(), l.end(), a[0]) != l.end());
  };
  auto str_fn = [&t](const std::string& name, std::function<std::string(const std::string&)> f) {
    t[name] = [name, f](const std::vector<Value>& a) -> Result<Value> {
      MGMT_ARITY(1);
      if (!a[0].is_str()) return type_error(name, "needs a str, got " + a[0].type_name());
      return Value::of(f(a[0].as_str()));
    };
  };
  str_fn("strings.to_lower", [](const std::string& s) {
    std::string r = s;
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::tolower(c); });
    return r;
  });
  str_fn("strings.to_upper", [](const std::string& s) {
    std::string r = s;
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return std::toupper(c); });
    return r;
  });
  str_fn("encoding.base64_encode", base64);
  auto str2_bool = [&t](const std::string& name,
                        std::function<bool(const std::string&, const std::string&)> f) {
    t[name] = [name, f](const std::vector<Value>& a) -> Result<Value> {
      MGMT_ARITY(2);
      if (!a[0].is_str() || !a[1].is_str()) return type_error(name, "needs two str");
      return Value::of(f(a[0].as_str(), a[1].as_str()));
    };
  };
  str2_bool("strings.has_prefix", [](const std::string& s, const std::string& p) {
    return s.rfind(p, 0) == 0;
  });
  str2_bool("strings.has_suffix", [](const std::string& s, const std::string& p) {
    return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
  });
  str2_bool("strings.contains", [](const std::string& s, const std::string& p) {
    return s.find(p) != std::string::npos;
  });
  t["strings.split"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "strings.split";
    MGMT_ARITY(2);
    if (!a[0].is_str() || !a[1].is_str()) return type_error(name, "needs two str");
    List out;
    const std::string& s = a[0].as_str();
    const std::string& sep = a[1].as_str();
    if (sep.empty()) {
      for (char c : s) out.push_back(Value::of(std::string(1, c)));
      return Value::list(out);
    }
    std::size_t start = 0;
    for (std::size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size()) {
      out.push_back(Value::of(s.substr(start, at - start)));
    }
    out.push_back(Value::of(s.substr(start)));
    return Value::list(out);
  };
  t["strings.join"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "strings.join";
    MGMT_ARITY(2);
    if (!a[0].is_list() || !a[1].is_str()) return type_error(name, "needs a []str and a str");
    std::string out;
    for (std::size_t i = 0; i < a[0].as_list().size(); ++i) {
      const auto& v = a[0].as_list()[i];
      if (!v.is_str()) return type_error(name, "needs a []str");
      out += (i ? a[1].as_str() : "") + v.as_str();
    }
    return Value::of(out);
  };
  t["convert.int_to_str"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "convert.int_to_str";
    MGMT_ARITY(1);
    if (!a[0].is_int()) return type_error(name, "needs an int, got " + a[0].type_name());
    return Value::of(std::to_string(a[0].as_int()));
  };
  t["convert.format_bool"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "convert.format_bool";
    MGMT_ARITY(1);
    if (!a[0].is_bool()) return type_error(name, "needs a bool, got " + a[0].type_name());
    return Value::of(std::string(a[0].as_bool() ? "true" : "false"));
  };
  t["convert.int_to_float"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "convert.int_to_float";
    MGMT_ARITY(1);
    if (!a[0].is_int()) return type_error(name, "needs an int, got " + a[0].type_name());
    return Value::of(static_cast<double>(a[0].as_int()));
  };
  t["math.sqrt"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "math.sqrt";
    MGMT_ARITY(1);
    if (!a[0].is_float()) return type_error(name, "needs a float, got " + a[0].type_name());
    if (a[0].as_float() < 0) {
      return fail(Code::invalid_argument, "errStream: math.sqrt: the argument is negative");
    }
    return Value::of(std::sqrt(a[0].as_float()));
  };
  t["sys.getenv"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "sys.getenv";
    MGMT_ARITY(1);
    if (!a[0].is_str()) return type_error(name, "needs a str, got " + a[0].type_name());
    const char* v = std::getenv(a[0].as_str().c_str());
    return Value::of(std::string(v ? v : ""));
  };
  t["sys.hostname"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "sys.hostname";
    MGMT_ARITY(0);
    return Value::of(machine_hostname());
  };
  t["os.readfile"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "os.readfile";
    MGMT_ARITY(1);
    if (!a[0].is_str()) return type_error(name, "needs a str, got " + a[0].type_name());
    std::ifstream in(a[0].as_str(), std::ios::binary);
    if (!in) return fail(Code::not_found, "errStream: os.readfile: cannot read " + a[0].as_str());
    std::ostringstream out;
    out << in.rdbuf();
    return Value::of(out.str());
  };
  t["iter.map"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "iter.map";
    MGMT_ARITY(2);
    if (!a[0].is_list() || !a[1].is_func()) return type_error(name, "needs a list and a func");
    List out;
    for (const auto& v : a[0].as_list()) {
      auto r = a[1].as_func()({v});
      if (!r) return fail(r.error());
      out.push_back(*r);
    }
    return Value::list(out);
  };
  t["iter.filter"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "iter.filter";
    MGMT_ARITY(2);
    if (!a[0].is_list() || !a[1].is_func()) return type_error(name, "needs a list and a func");
    List out;
    for (const auto& v : a[0].as_list()) {
      auto r = a[1].as_func()({v});
      if (!r) return fail(r.error());
      if (!r->is_bool()) return type_error(name, "the func must return a bool");
      if (r->as_bool()) out.push_back(v);
    }
    return Value::list(out);
  };
  t["math.fortytwo"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "math.fortytwo";
    MGMT_ARITY(0);
    return Value::of(int64_t{42});
  };
  t["math.mod"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "math.mod";
    MGMT_ARITY(2);
    if (a[0].is_int() && a[1].is_int()) {
      if (a[1].as_int() == 0) {
        return fail(Code::invalid_argument, "errStream: math.mod: division by zero");
      }
      return Value::of(a[0].as_int() % a[1].as_int());
    }
    if (a[0].is_float() && a[1].is_float()) {
      return Value::of(std::fmod(a[0].as_float(), a[1].as_float()));
    }
    return type_error(name, "needs two ints or two floats");
  };
  t["math.pow"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "math.pow";
    MGMT_ARITY(2);
    if (!a[0].is_float() || !a[1].is_float()) return type_error(name, "needs two floats");
    return Value::of(std::pow(a[0].as_float(), a[1].as_float()));
  };
  t["iter.range"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "iter.range";
    if (a.empty() || a.size() > 3) return type_error(name, "takes 1 to 3 ints");
    for (const auto& v : a) {
      if (!v.is_int()) return type_error(name, "takes ints, got " + v.type_name());
    }
    int64_t start = a.size() == 1 ? 0 : a[0].as_int();
    int64_t stop = a.size() == 1 ? a[0].as_int() : a[1].as_int();
    int64_t step = a.size() == 3 ? a[2].as_int() : 1;
    if (step == 0) return fail(Code::invalid_argument, "errStream: iter.range: step is zero");
    List out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (out.size() > 1000000) {
        return fail(Code::resource_exhausted, "errStream: iter.range: over a million values");
      }
      out.push_back(Value::of(i));
    }
    return Value::list(out);
  };
  t["iter.reduce"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "iter.reduce";
    if (a.size() != 2 && a.size() != 3) return type_error(name, "takes 2 or 3 arguments");
    bool with_init = a.size() == 3;
    const Value& list = with_init ? a[1] : a[0];
    const Value& fn = with_init ? a[2] : a[1];
    if (!list.is_list() || !fn.is_func()) return type_error(name, "needs a list and a func");
    const auto& items = list.as_list();
    if (!with_init && items.empty()) {
      return fail(Code::invalid_argument, "errStream: iter.reduce: an empty list has no value");
    }
    Value acc = with_init ? a[0] : items.front();
    for (std::size_t i = with_init ? 0 : 1; i < items.size(); ++i) {
      auto r = fn.as_func()({acc, items[i]});
      if (!r) return r;
      acc = *r;
    }
    return acc;
  };
  t["iter.zip"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "iter.zip";
    MGMT_ARITY(3);
    if (!a[0].is_list() || !a[1].is_list() || !a[2].is_func()) {
      return type_error(name, "needs two lists and a func");
    }
    List out;
    std::size_t n = std::min(a[0].as_list().size(), a[1].as_list().size());
    for (std::size_t i = 0; i < n; ++i) {
      auto r = a[2].as_func()({a[0].as_list()[i], a[1].as_list()[i]});
      if (!r) return r;
      out.push_back(*r);
    }
    return Value::list(out);
  };
  t["iter.flatten"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "iter.flatten";
    MGMT_ARITY(1);
    if (!a[0].is_list()) return type_error(name, "needs a list of lists");
    List out;
    for (const auto& inner : a[0].as_list()) {
      if (!inner.is_list()) return type_error(name, "needs a list of lists");
      out.insert(out.end(), inner.as_list().begin(), inner.as_list().end());
    }
    return Value::list(out);
  };
  t["list.lookup"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "list.lookup";
    MGMT_ARITY(2);
    if (!a[0].is_list() || !a[1].is_int()) return type_error(name, "needs a list and an int");
    auto i = a[1].as_int();
    if (i < 0 || i >= static_cast<int64_t>(a[0].as_list().size())) {
      return fail(Code::out_of_range, "errStream: list.lookup: index " + std::to_string(i) +
                                          " is out of range");
    }
    return a[0].as_list()[static_cast<std::size_t>(i)];
  };
  t["list.concat"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "list.concat";
    List out;
    for (const auto& l : a) {
      if (!l.is_list()) return type_error(name, "needs lists");
      out.insert(out.end(), l.as_list().begin(), l.as_list().end());
    }
    return Value::list(out);
  };
  t["map.lookup"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "map.lookup";
    MGMT_ARITY(2);
    if (!a[0].is_map()) return type_error(name, "needs a map");
    for (const auto& [k, v] : a[0].as_map()) {
      if (k == a[1]) return v;
    }
    return fail(Code::not_found, "errStream: map.lookup: key " + a[1].str() + " is not in the map");
  };
  t["map.keys"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "map.keys";
    MGMT_ARITY(1);
    if (!a[0].is_map()) return type_error(name, "needs a map");
    List out;
    for (const auto& [k, v] : a[0].as_map()) out.push_back(k);
    return Value::list(out);
  };
  t["map.values"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "map.values";
    MGMT_ARITY(1);
    if (!a[0].is_map()) return type_error(name, "needs a map");
    List out;
    for (const auto& [k, v] : a[0].as_map()) out.push_back(v);
    return Value::list(out);
  };
  str_fn("strings.trim_space", [](const std::string& s) {
    auto b = s.find_first_not_of(" \t\n\r\v\f");
    auto e = s.find_last_not_of(" \t\n\r\v\f");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  });
  t["convert.str_to_int"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "convert.str_to_int";
    MGMT_ARITY(1);
    if (!a[0].is_str()) return type_error(name, "needs a str, got " + a[0].type_name());
    try {
      std::size_t used = 0;
      long long v = std::stoll(a[0].as_str(), &used, 10);
      if (used == a[0].as_str().size()) return Value::of(static_cast<int64_t>(v));
    } catch (const std::exception&) {
    }
    return fail(Code::invalid_argument,
                "errStream: convert.str_to_int: \"" + a[0].as_str() + "\" is not an int");
  };
  // golang.template: go_template.h.
  t["golang.template"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "golang.template";
    if (a.size() != 1 && a.size() != 2) {
      return type_error(name, "takes a template and maybe a value, got " +
                                  std::to_string(a.size()) + " argument(s)");
    }
    if (!a[0].is_str()) return type_error(name, "the template must be a str");
    return run_go_template(a[0].as_str(), a.size() == 2 ? a[1] : Value::structure({}));
  };
  t["encoding.base64_decode"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "encoding.base64_decode";
    MGMT_ARITY(1);
    if (!a[0].is_str()) return type_error(name, "needs a str, got " + a[0].type_name());
    auto decoded = base64_decode(a[0].as_str());
    if (!decoded) {
      return fail(Code::invalid_argument, "errStream: " + name + ": \"" + a[0].as_str() +
                                              "\" is not base64");
    }
    return Value::of(*decoded);
  };
  // More of Go's strings package, under both names: "strings" (ours) and "golang/strings"
  // (the reference's generated wrappers of Go's package).
  auto str2_str = [&t](const std::string& name,
                       std::function<std::string(const std::string&, const std::string&)> f) {
    t[name] = [name, f](const std::vector<Value>& a) -> Result<Value> {
      MGMT_ARITY(2);
      if (!a[0].is_str() || !a[1].is_str()) return type_error(name, "needs two str");
      return Value::of(f(a[0].as_str(), a[1].as_str()));
    };
  };
  str2_str("strings.trim_prefix", [](const std::string& s, const std::string& p) {
    return s.rfind(p, 0) == 0 ? s.substr(p.size()) : s;
  });
  str2_str("strings.trim_suffix", [](const std::string& s, const std::string& p) {
    const bool has = s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
    return has ? s.substr(0, s.size() - p.size()) : s;
  });
  str2_str("strings.trim", [](const std::string& s, const std::string& cut) {
    const auto b = s.find_first_not_of(cut);
    if (b == std::string::npos) return std::string();
    return s.substr(b, s.find_last_not_of(cut) - b + 1);
  });
  t["strings.replace_all"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "strings.replace_all";
    MGMT_ARITY(3);
    if (!a[0].is_str() || !a[1].is_str() || !a[2].is_str()) {
      return type_error(name, "needs three str");
    }
    std::string s = a[0].as_str();
    const std::string& from = a[1].as_str();
    const std::string& to = a[2].as_str();
    if (from.empty()) return Value::of(s);
    std::string out;
    std::size_t start = 0;
    for (std::size_t at; (at = s.find(from, start)) != std::string::npos;
         start = at + from.size()) {
      out += s.substr(start, at - start) + to;
    }
    return Value::of(out + s.substr(start));
  };
  t["strings.repeat"] = [](const std::vector<Value>& a) -> Result<Value> {
    const std::string name = "strings.repeat";
    MGMT_ARITY(2);
    if (!a[0].is_str() || !a[1].is_int()) return type_error(name, "needs a str and an int");
    if (a[1].as_int() < 0 || a[1].as_int() > 1000000) {
      return fail(Code::invalid_argument, "errStream: " + name + ": count " +
                                              std::to_string(a[1].as_int()) + " is out of range");
    }
    std::string out;
    for (int64_t i = 0; i < a[1].as_int(); ++i) out += a[0].as_str();
    return Value::of(out);
  };
  add_system_builtins(t);
  add_json_builtins(t);
  std::vector<std::pair<std::string, Func>> golang;
  for (const auto& [key, fn] : t) {
    if (key.rfind("strings.", 0) == 0) golang.emplace_back("golang/" + key, fn);
  }
  for (auto& [key, fn] : golang) t[key] = std::move(fn);
  return t;
}

}  // namespace

const Func* find_builtin(const std::string& name) {
  static const std::map<std::string, Func> table = build();
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

}  // namespace mgmt::frontends::lang
