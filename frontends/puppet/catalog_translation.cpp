// catalog_translation.cpp: see catalog_translation.h.
#include "frontends/puppet/catalog_translation.h"

#include "frontends/puppet/puppet_syntax.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace mgmt::frontends::puppet {
namespace {

using json = nlohmann::json;

const std::set<std::string> kRelationships = {"before", "require", "notify", "subscribe"};
// Metaparameters and attributes that change nothing mgmt does: dropped without a note.
const std::set<std::string> kDropped = {"alias", "tag", "loglevel", "audit", "schedule",
                                        "stage", "backup", "show_diff", "checksum",
                                        "logoutput", "withpath", "hasstatus", "hasrestart",
                                        "selinux_ignore_defaults", "noop"};

std::optional<std::string> text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
  return std::nullopt;
}

std::optional<int64_t> whole(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!(d > -9.2e18 && d < 9.2e18)) return std::nullopt;  // NaN, infinite or out of range
    return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 18 ||
        !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return std::nullopt;
    }
    return std::stoll(s);
  }
  return std::nullopt;
}

// Guard commands (onlyif, unless) as one sh command line: a single one as it is; several each
// in a subshell of its own, ended by a newline (so that a `#` comment or a `&` in one cannot
// reach the next), joined by `op`.
std::optional<std::string> guards(const json& v, const std::string& op) {
  if (auto t = text(v)) return t;
  if (!v.is_array()) return std::nullopt;
  if (v.size() == 1) return text(v[0]);
  std::string out;
  for (const auto& item : v) {
    auto t = text(item);
    if (!t) return std::nullopt;
    out += (out.empty() ? "(" : " " + op + " (") + *t + "\n)";
  }
  return out;
}

bool truthy(const json& v) { return v == true || v == "true"; }
bool falsy(const json& v) { return v == false || v == "false"; }

// A string or a list of strings, joined.
std::optional<std::string> joined(const json& v, const std::string& separator) {
  if (auto t = text(v)) return t;
  if (!v.is_array()) return std::nullopt;
  std::string out;
  for (const auto& item : v) {
    auto t = text(item);
    if (!t) return std::nullopt;
    out += (out.empty() ? "" : separator) + *t;
  }
  return out;
}

// One resource's attributes: the translator takes those it maps; what is left over (and not
// dropped) has no native form.
class Attributes {
 public:
  explicit Attributes(const json& params) {
    if (params.is_object()) {
      for (const auto& [key, value] : params.items()) {
        if (!kRelationships.count(key) && !kDropped.count(key)) left_[key] = value;
      }
    }
  }
  std::optional<json> take(const std::string& key) {
    auto it = left_.find(key);
    if (it == left_.end()) return std::nullopt;
    json v = std::move(it->second);
    left_.erase(it);
    return v;
  }
  bool has(const std::string& key) const { return left_.count(key) != 0; }
  // The first attribute nobody took, as puppet would write it.
  std::optional<std::string> leftover() const {
    if (left_.empty()) return std::nullopt;
    return left_.begin()->first + " => " + puppet_literal(left_.begin()->second);
  }

 private:
  std::map<std::string, json> left_;
};

// A native resource, or why there is none.
struct Attempt {
  std::optional<ResourceSpec> spec;
  std::string why;
};

Attempt no(std::string why) { return Attempt{std::nullopt, std::move(why)}; }
std::string said(const std::string& key, const json& v) {
  return key + " => " + puppet_literal(v);
}

Attempt file_resource(const std::string& title, Attributes& a) {
  ResourceSpec r{"file", title, json::object(), json::object(), ""};
  std::string path = title;
  if (auto p = a.take("path")) {
    if (!p->is_string()) return no(said("path", *p));
    path = p->get<std::string>();
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  bool directory = false;
  auto ensure = a.take("ensure");
  auto content = a.take("content");
  auto source = a.take("source");
  auto target = a.take("target");
  std::string state = "exists";
  if (ensure) {
    auto e = text(*ensure);
    if (!e) return no(said("ensure", *ensure));
    if (*e == "absent") {
      state = "absent";
    } else if (*e == "directory") {
      directory = true;
    } else if (*e == "link") {
      if (!target || !target->is_string()) return no("ensure => 'link' without a target");
      r.params["symlink"] = true;
      source = *target;
      target.reset();
    } else if (*e != "file" && *e != "present") {
      if (e->empty() || (*e)[0] != '/') return no(said("ensure", *ensure));
      r.params["symlink"] = true;  // ensure => '/path' is a link to that path
      source = *ensure;
    }
  } else if (!content && !source) {
    return no("no ensure, content or source: puppet then manages only a file that exists");
  }
  if (target) return no(said("target", *target) + " without ensure => 'link'");
  r.name = directory ? path + "/" : path;
  r.params["state"] = state;
  if (state == "absent") {  // puppet ignores them then (ensure => $x ? {...} keeps them)
    content.reset();
    source.reset();
  }
  if (content) {
    auto c = text(*content);
    if (!c) return no(said("content", *content));
    if (!directory) r.params["content"] = *c;
  }
  // recurse (true or remote) with a source copies the source's tree into the directory, as the
  // file resource's recurse does (purge: and removes what the source does not have). Without a
  // source puppet applies owner, group and mode to the whole tree, which mgmt's file does not.
  auto recurse = a.take("recurse");
  auto purge = a.take("purge");
  const bool recursive = recurse && (truthy(*recurse) || *recurse == "remote");
  if (recurse && !recursive && !falsy(*recurse)) return no(said("recurse", *recurse));
  if (recursive && (!directory || !source || a.has("mode") || a.has("owner") ||
                    a.has("group") || a.has("recurselimit"))) {
    return no(said("recurse", *recurse) +
              " (natively only a directory copied from a source, without owner, group or mode)");
  }
  if (purge && !falsy(*purge) && !(recursive && truthy(*purge))) return no(said("purge", *purge));
  if (recursive) {
    r.params["recurse"] = true;
    if (purge && truthy(*purge)) r.params["purge"] = true;
  } else if (source && directory && !r.params.contains("symlink")) {
    source.reset();  // without recurse, puppet manages the directory itself, not its files
  }
  if (source) {
    auto s = text(*source);
    if (!s) return no(said("source", *source));
    std::string local = *s;
    if (local.rfind("file://", 0) == 0) local = local.substr(7);
    if (local.empty() || local[0] != '/') return no(said("source", *source));
    r.params["source"] = local;
  }
  if (auto m = a.take("mode")) {
    auto mode = text(*m);
    if (!mode || mode->empty() || mode->size() > 4 ||
        !std::all_of(mode->begin(), mode->end(), [](char c) { return c >= '0' && c <= '7'; })) {
      return no(said("mode", *m) + " (only octal modes have a native form)");
    }
    r.params["mode"] = std::string(4 - mode->size(), '0') + *mode;
  }
  for (const char* key : {"owner", "group"}) {
    if (auto v = a.take(key)) {
      auto t = text(*v);
      if (!t) return no(said(key, *v));
      r.params[key] = *t;
    }
  }
  if (auto f = a.take("force")) r.params["force"] = truthy(*f);
  if (auto v = a.take("replace"); v && !truthy(*v)) return no(said("replace", *v));
  return Attempt{std::move(r), ""};
}

Attempt exec_resource(const std::string& title, Attributes& a) {
  ResourceSpec r{"exec", title, json::object(), json::object(), ""};
  std::string cmd = title;
  if (auto c = a.take("command")) {
    auto t = text(*c);
    if (!t) return no(said("command", *c));
    cmd = *t;
  }
  r.params["cmd"] = cmd;
  r.params["shell"] = "/bin/sh";  // as ruby runs a command string: through sh
  json env = json::object();
  if (auto p = a.take("path")) {
    auto path = joined(*p, ":");
    if (!path) return no(said("path", *p));
    env["PATH"] = *path;
  }
  if (auto e = a.take("environment")) {
    std::vector<std::string> pairs;
    if (auto one = text(*e)) {
      pairs.push_back(*one);
    } else if (e->is_array()) {
      for (const auto& item : *e) {
        auto t = text(item);
        if (!t) return no(said("environment", *e));
        pairs.push_back(*t);
      }
    } else {
      return no(said("environment", *e));
    }
    for (const auto& pair : pairs) {
      auto eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) return no(said("environment", *e));
      env[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
  if (!env.empty()) r.params["env"] = env;
  for (const char* key : {"cwd", "user", "group", "creates"}) {
    if (auto v = a.take(key)) {
      auto t = text(*v);
      if (!t) return no(said(key, *v));
      r.params[key] = *t;
    }
  }
  if (auto t = a.take("timeout")) {
    auto seconds = whole(*t);
    if (!seconds) return no(said("timeout", *t));
    r.params["timeout"] = *seconds;
  }
  if (auto o = a.take("onlyif")) {
    auto all = guards(*o, "&&");  // every onlyif command must succeed
    if (!all) return no(said("onlyif", *o));
    r.params["ifcmd"] = *all;
    r.params["ifshell"] = "/bin/sh";
  }
  if (auto u = a.take("unless")) {
    auto all = guards(*u, "||");  // it runs only if every one fails: one success skips it
    if (!all) return no(said("unless", *u));
    r.params["nifcmd"] = *all;
    r.params["nifshell"] = "/bin/sh";
  }
  if (auto ro = a.take("refreshonly"); ro && truthy(*ro)) r.params["refresh_only"] = true;
  if (auto ret = a.take("returns"); ret && *ret != 0 && *ret != "0" && *ret != json::array({0})) {
    return no(said("returns", *ret));
  }
  if (auto tries = a.take("tries"); tries && whole(*tries) != 1) return no(said("tries", *tries));
  a.take("try_sleep");
  if (auto p = a.take("provider"); p && *p != "posix" && *p != "shell") {
    return no(said("provider", *p));
  }
  return Attempt{std::move(r), ""};
}

Attempt notify_resource(const std::string& title, Attributes& a) {
  ResourceSpec r{"msg", title, json::object(), json::object(), ""};
  std::string body = title;
  if (auto m = a.take("message")) {
    auto t = text(*m);
    if (!t) return no(said("message", *m));
    body = *t;
  }
  a.take("name");
  r.params["body"] = body;
  return Attempt{std::move(r), ""};
}

// The name a resource manages (its `name` attribute, else its title).
std::optional<std::string> managed_name(const std::string& title, Attributes& a) {
  auto n = a.take("name");
  if (!n) return title;
  return text(*n);
}

Attempt package_resource(const std::string& title, Attributes& a) {
  auto name = managed_name(title, a);
  if (!name) return no("a name that is not text");
  ResourceSpec r{"pkg", *name, json::object(), json::object(), ""};
  std::string state = "installed";
  if (auto e = a.take("ensure")) {
    auto t = text(*e);
    if (t == "present" || t == "installed") {
      state = "installed";
    } else if (t == "absent" || t == "purged") {
      state = "uninstalled";
    } else if (t == "latest") {
      state = "newest";
    } else {
      return no(said("ensure", *e) + " (a version)");
    }
  }
  r.params["state"] = state;
  if (auto p = a.take("provider"); p && *p != "apt" && *p != "dpkg") {
    return no(said("provider", *p));
  }
  return Attempt{std::move(r), ""};
}

Attempt service_resource(const std::string& title, Attributes& a) {
  auto name = managed_name(title, a);
  if (!name) return no("a name that is not text");
  ResourceSpec r{"svc", *name, json::object(), json::object(), ""};
  if (auto e = a.take("ensure")) {
    if (*e == "running" || truthy(*e)) {
      r.params["state"] = "running";
    } else if (*e == "stopped" || falsy(*e)) {
      r.params["state"] = "stopped";
    } else {
      return no(said("ensure", *e));
    }
  }
  if (auto e = a.take("enable")) {
    if (truthy(*e)) {
      r.params["startup"] = "enabled";
    } else if (falsy(*e)) {
      r.params["startup"] = "disabled";
    } else {
      return no(said("enable", *e));
    }
  }
  if (auto p = a.take("provider"); p && *p != "systemd") return no(said("provider", *p));
  return Attempt{std::move(r), ""};
}

Attempt account_resource(const std::string& kind, const std::string& title, Attributes& a) {
  auto name = managed_name(title, a);
  if (!name) return no("a name that is not text");
  ResourceSpec r{kind, *name, json::object(), json::object(), ""};
  auto e = a.take("ensure");
  if (!e) return no("no ensure: puppet then manages only an account that exists");
  if (*e == "present") {
    r.params["state"] = "exists";
  } else if (*e == "absent") {
    r.params["state"] = "absent";
  } else {
    return no(said("ensure", *e));
  }
  const std::string id_key = kind == "user" ? "uid" : "gid";
  if (auto id = a.take(id_key)) {
    auto n = whole(*id);
    if (!n) return no(said(id_key, *id));
    r.params[id_key] = *n;
  }
  if (kind == "user") {
    if (auto g = a.take("gid")) {
      if (auto n = whole(*g)) {
        r.params["gid"] = *n;
      } else if (auto t = text(*g)) {
        r.params["group"] = *t;
      } else {
        return no(said("gid", *g));
      }
    }
    for (const auto& [from, to] : {std::pair{"home", "homedir"}, std::pair{"shell", "shell"}}) {
      if (auto v = a.take(from)) {
        auto t = text(*v);
        if (!t) return no(said(from, *v));
        r.params[to] = *t;
      }
    }
    if (auto m = a.take("managehome"); m && !falsy(*m)) return no(said("managehome", *m));
  }
  if (auto s = a.take("system"); s && !falsy(*s)) return no(said("system", *s));
  return Attempt{std::move(r), ""};
}

Attempt mount_resource(const std::string& title, Attributes& a) {
  auto name = managed_name(title, a);
  if (!name) return no("a name that is not text");
  ResourceSpec r{"mount", *name, json::object(), json::object(), ""};
  auto e = a.take("ensure");
  if (!e) return no("no ensure: puppet then manages only an entry that exists");
  if (*e == "mounted") {
    r.params["state"] = "exists";
  } else if (*e == "absent") {
    r.params["state"] = "absent";
  } else {
    return no(said("ensure", *e) + " (only mounted and absent have a native form)");
  }
  for (const auto& [from, to] : {std::pair{"device", "device"}, std::pair{"fstype", "type"}}) {
    if (auto v = a.take(from)) {
      auto t = text(*v);
      if (!t) return no(said(from, *v));
      r.params[to] = *t;
    }
  }
  if (auto o = a.take("options")) {
    auto t = text(*o);
    if (!t) return no(said("options", *o));
    json options = json::object();
    std::size_t start = 0;
    while (start <= t->size()) {
      const std::size_t comma = std::min(t->find(',', start), t->size());
      const std::string option = t->substr(start, comma - start);
      start = comma + 1;
      if (option.empty() || option == "defaults") continue;
      const std::size_t eq = option.find('=');
      options[option.substr(0, eq)] = eq == std::string::npos ? "" : option.substr(eq + 1);
    }
    if (!options.empty()) r.params["options"] = options;
  }
  for (const auto& [from, to] : {std::pair{"dump", "freq"}, std::pair{"pass", "passno"}}) {
    if (auto v = a.take(from)) {
      auto n = whole(*v);
      if (!n) return no(said(from, *v));
      r.params[to] = *n;
    }
  }
  if (auto t = a.take("target"); t && *t != "/etc/fstab") return no(said("target", *t));
  if (auto b = a.take("atboot"); b && !truthy(*b)) return no(said("atboot", *b));
  a.take("remounts");
  return Attempt{std::move(r), ""};
}

Attempt native(const std::string& type, const std::string& title, const json& params) {
  Attributes a(params);
  Attempt attempt;
  if (type == "File") {
    attempt = file_resource(title, a);
  } else if (type == "Exec") {
    attempt = exec_resource(title, a);
  } else if (type == "Notify") {
    attempt = notify_resource(title, a);
  } else if (type == "Package") {
    attempt = package_resource(title, a);
  } else if (type == "Service") {
    attempt = service_resource(title, a);
  } else if (type == "User") {
    attempt = account_resource("user", title, a);
  } else if (type == "Group") {
    attempt = account_resource("group", title, a);
  } else if (type == "Mount") {
    attempt = mount_resource(title, a);
  } else {
    return no("mgmt has no " + type + " resource");
  }
  if (!attempt.spec) return attempt;
  if (auto left = a.leftover()) return no(*left + " has no native form");
  return attempt;
}

// The resource applied by puppet itself (see the header).
ResourceSpec fallback(const std::string& key, const json& resource,
                      const TranslateOptions& options) {
  std::string apply = "puppet apply --detailed-exitcodes --color=false";
  if (!options.puppet_conf.empty()) apply += " --config " + sh_quote(options.puppet_conf);
  if (!options.modulepath.empty()) apply += " --basemodulepath " + sh_quote(options.modulepath);
  apply += " -e " + sh_quote(puppet_resource(resource));
  ResourceSpec r{"exec", key, json::object(), json::object(), ""};
  // --detailed-exitcodes: 0 nothing changed, 2 changed, 4 or 6 something failed.
  r.params["cmd"] = apply + "; rc=$?; [ $rc -eq 0 ] || [ $rc -eq 2 ]";
  r.params["shell"] = "/bin/sh";
  // Under --noop puppet exits 0 even when something would change: its summary's count of
  // resources out of sync says. grep reads to the end, so puppet never writes to a closed pipe.
  // A check that fails (rc 1, 4, 6) lets the apply run, which fails and says why in the log.
  r.params["ifcmd"] = "out=$(" + apply + " --noop --summarize 2>&1); rc=$?; " +
                      "if [ $rc -ne 0 ] && [ $rc -ne 2 ]; then exit 0; fi; " +
                      "printf '%s\\n' \"$out\" | grep -q '^ *Out of sync: *[1-9]'";
  r.params["ifshell"] = "/bin/sh";
  return r;
}

struct Parsed {
  std::string type;
  std::string title;
};

std::optional<Parsed> parse_reference(const std::string& ref) {
  auto open = ref.find('[');
  if (open == std::string::npos || open == 0 || ref.back() != ']') return std::nullopt;
  return Parsed{ref.substr(0, open), ref.substr(open + 1, ref.size() - open - 2)};
}

// Class titles are capitalised in the catalog ("Mgmt_handover"); classes are named in lower
// case in code and in `classes`.
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A field of a catalog object as text ("" when missing or not text): the catalog may come from
// another puppet, so no field's type is taken on trust.
std::string text_at(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool exported(const json& resource) {
  auto it = resource.find("exported");
  return it != resource.end() && *it == true;
}

json parameters_of(const json& resource) {
  auto it = resource.find("parameters");
  return it != resource.end() && it->is_object() ? *it : json::object();
}

bool is_container(const json& resource) {
  const std::string type = text_at(resource, "type");
  if (type == "Stage" || type == "Class" || type == "Node" || type == "Whit" ||
      type == "Anchor") {
    return true;
  }
  const std::string kind = text_at(resource, "kind");
  return !kind.empty() && kind != "compilable_type";
}

}  // namespace

Result<Translated> translate_catalog(const json& catalog, const TranslateOptions& options) {
  const std::string& manifest = options.manifest_name;
  if (!catalog.is_object() || !catalog.contains("resources") ||
      !catalog["resources"].is_array()) {
    return fail(Code::invalid_argument, manifest + ": puppet's catalog has no resource list");
  }
  Translated out;
  const json& resources = catalog["resources"];
  std::map<std::string, std::size_t> index;   // "Type[title]" (and aliases) -> resource
  std::map<std::size_t, std::vector<std::size_t>> children;
  std::map<std::size_t, std::size_t> vertex;  // native or fallback resource -> its vertex
  std::set<std::pair<std::string, std::string>> names;
  for (std::size_t i = 0; i < resources.size(); ++i) {
    const json& r = resources[i];
    if (!r.is_object() || !r.contains("type") || !r.contains("title") ||
        !r["type"].is_string() || !r["title"].is_string()) {
      return fail(Code::invalid_argument, manifest + ": puppet's catalog has a resource without "
                                                     "a type or title");
    }
    const std::string type = r["type"];
    const std::string title = r["title"];
    if (!index.emplace(type + "[" + title + "]", i).second) {
      // Puppet refuses two resources with one title, or a title another one has as its name.
      return fail(Code::invalid_argument, manifest + ": puppet's catalog names " + type + "[" +
                                              title + "] twice; check the puppet package");
    }
    const json params = parameters_of(r);
    for (const char* namevar : {"name", "path", "command"}) {
      if (auto n = params.find(namevar); n != params.end() && n->is_string()) {
        index.emplace(type + "[" + n->get<std::string>() + "]", i);
      }
    }
    if (is_container(r) || exported(r)) continue;
    Attempt attempt = native(type, title, params);
    const std::string key = type + "[" + title + "]";
    ResourceSpec spec = attempt.spec ? std::move(*attempt.spec) : fallback(key, r, options);
    if (!attempt.spec) {
      out.notes.push_back(key + " is applied by puppet itself (`puppet apply` of that resource): " +
                          attempt.why);
    }
    if (r.contains("line") && r["line"].is_number_integer()) {
      // A module's resources name their own file; the manifest's have none ("").
      const std::string file = text_at(r, "file");
      spec.origin = (file.empty() ? manifest : file) + " line " +
                    std::to_string(r["line"].get<int64_t>());
    }
    if (auto noop = params.find("noop"); noop != params.end() && truthy(*noop)) {
      spec.meta["noop"] = true;
    }
    if (!names.emplace(spec.kind, spec.name).second) {
      return fail(Code::invalid_argument,
                  manifest + ": " + key + " and another resource both manage " + spec.kind +
                      "[" + spec.name + "]; keep one of them");
    }
    vertex[i] = out.graph.resources.size();
    out.graph.resources.push_back(std::move(spec));
  }
  if (auto edges = catalog.find("edges"); edges != catalog.end() && edges->is_array()) {
    for (const auto& e : *edges) {
      auto from = index.find(text_at(e, "source"));
      auto to = index.find(text_at(e, "target"));
      if (from != index.end() && to != index.end()) children[from->second].push_back(to->second);
    }
  }
  // The vertices a resource stands for: itself, or what a container holds (recursively), or a
  // noop of its own for an empty container.
  std::map<std::size_t, std::set<std::size_t>> memo;
  std::set<std::size_t> visiting;
  std::function<std::set<std::size_t>(std::size_t)> leaves = [&](std::size_t i) {
    if (auto v = vertex.find(i); v != vertex.end()) return std::set<std::size_t>{v->second};
    if (exported(resources[i])) return std::set<std::size_t>{};  // not here
    if (auto m = memo.find(i); m != memo.end()) return m->second;
    std::set<std::size_t> found;
    if (!visiting.insert(i).second) return found;  // a containment loop: puppet forbids it
    for (std::size_t child : children[i]) {
      auto sub = leaves(child);
      found.insert(sub.begin(), sub.end());
    }
    visiting.erase(i);
    if (found.empty()) {
      const json& r = resources[i];
      const std::string type = r["type"];
      const std::string title = r["title"];
      ResourceSpec noop{"noop", type == "Class" ? lower(title) : type + "[" + title + "]",
                        json::object(), json::object(), manifest};
      vertex[i] = out.graph.resources.size();
      found.insert(vertex[i]);
      out.graph.resources.push_back(std::move(noop));
    }
    memo[i] = found;
    return found;
  };
  std::map<std::pair<std::size_t, std::size_t>, bool> edges;  // (from, to) -> notify
  for (std::size_t i = 0; i < resources.size(); ++i) {
    const json& r = resources[i];
    if (exported(r)) continue;
    const json params = parameters_of(r);
    const std::string self = r["type"].get<std::string>() + "[" +
                             r["title"].get<std::string>() + "]";
    for (const std::string& relation : kRelationships) {
      auto p = params.find(relation);
      if (p == params.end()) continue;
      std::vector<std::string> refs;
      if (p->is_string()) refs.push_back(*p);
      if (p->is_array()) {
        for (const auto& ref : *p) {
          if (ref.is_string()) refs.push_back(ref);
        }
      }
      for (const std::string& ref : refs) {
        auto other = index.find(ref);
        if (other == index.end()) {
          auto parsed = parse_reference(ref);
          return fail(Code::invalid_argument,
                      manifest + ": " + self + " has " + relation + " => " +
                          (parsed ? parsed->type + "['" + parsed->title + "']" : ref) +
                          ", which this catalog does not have; declare it or drop the "
                          "relationship");
        }
        const bool forward = relation == "before" || relation == "notify";
        const bool notify = relation == "notify" || relation == "subscribe";
        const auto from = leaves(forward ? i : other->second);
        const auto to = leaves(forward ? other->second : i);
        for (std::size_t f : from) {
          for (std::size_t t : to) {
            if (f == t) continue;
            edges[{f, t}] = edges[{f, t}] || notify;
          }
        }
      }
    }
  }
  const auto& rs = out.graph.resources;
  for (const auto& [pair, notify] : edges) {
    EdgeSpec e;
    e.from_kind = rs[pair.first].kind;
    e.from_name = rs[pair.first].name;
    e.to_kind = rs[pair.second].kind;
    e.to_name = rs[pair.second].name;
    e.notify = notify;
    out.graph.edges.push_back(std::move(e));
  }
  return out;
}

}  // namespace mgmt::frontends::puppet
