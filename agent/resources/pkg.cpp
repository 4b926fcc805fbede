// pkg.cpp: the pkg resource: a Debian package installed (any version), at the newest
// version apt knows, at an exact version, or uninstalled. Checked with dpkg-query, changed with
// apt-get (non-interactive; a version that would go down needs `allowdowngrade`, packages apt
// cannot authenticate need `allowuntrusted`). Watched through /var/lib/dpkg/status, which dpkg
// rewrites after every change. Needs root and a working apt to change anything. Under Meta
// autogroup (on by default) the pkg resources of a graph act as one: one dpkg-query, one
// apt-get.
#include "agent/resources/command.h"
#include "agent/resources/files_watch.h"
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <map>
#include <sstream>
#include <utility>
#include <vector>

namespace mgmt::agent::resources {
namespace {

struct Installed {
  bool installed = false;
  std::string version;
};

// What dpkg knows of these packages, by name (unknown ones are absent: not installed).
Result<std::map<std::string, Installed>> query(const std::string& self,
                                               const std::vector<std::string>& packages) {
  std::vector<std::string> argv = {"dpkg-query", "-W", "-f=${Package}|${db:Status-Abbrev}|"
                                                       "${Version}\\n"};
  argv.insert(argv.end(), packages.begin(), packages.end());
  const Outcome o = run_program(argv);
  if (o.exit_code < 0) {
    return fail(Code::unavailable, self + ": dpkg-query could not start; pkg manages Debian "
                                          "packages and needs dpkg");
  }
  std::map<std::string, Installed> out;
  std::istringstream in(o.output);
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find('|');
    const auto b = line.find('|', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;  // dpkg's own complaints
    const std::string status = line.substr(a + 1, b - a - 1);
    Installed i;
    i.installed = status.size() >= 2 && status[1] == 'i';
    i.version = line.substr(b + 1);
    out[line.substr(0, a)] = i;
  }
  return out;
}

// The version apt would install ("Candidate:" of apt-cache policy), empty when none.
std::string candidate(const std::string& package) {
  const Outcome o = run_program({"apt-cache", "policy", package});
  std::istringstream in(o.output);
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find("Candidate:");
    if (at == std::string::npos) continue;
    std::string v = line.substr(at + 10);
    v.erase(0, v.find_first_not_of(' '));
    return v == "(none)" ? std::string() : v;
  }
  return {};
}

class Pkg final : public Resource {
 public:
  Result<void> configure(const frontends::ResourceSpec& spec) override {
    Item item;
    item.package = spec.name;
    if (item.package.empty() || item.package.find_first_of(" /=") != std::string::npos) {
      return fail(Code::invalid_argument,
                  "pkg[" + item.package + "]: the name must be a Debian package name");
    }
    item.state = spec.params.value("state", std::string("installed"));
    if (item.state.empty()) item.state = "installed";
    item.downgrade = spec.params.value("allowdowngrade", false);
    item.untrusted = spec.params.value("allowuntrusted", false);
    items_ = {item};
    return ok();
  }

  // Grouped (Meta autogroup), many packages are checked with one dpkg-query and installed
  // with one apt-get (one per combination of allow flags).
  bool groups() const override { return true; }
  bool absorb(std::unique_ptr<Resource>& other) override {
    auto* pkg = dynamic_cast<Pkg*>(other.get());
    if (pkg == nullptr) return false;
    items_.insert(items_.end(), pkg->items_.begin(), pkg->items_.end());
    return true;
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    return std::make_unique<FilesWatch>(std::vector<std::string>{"/var/lib/dpkg/status"},
                                        on_event);
  }

  Result<bool> check_apply(bool apply) override {
    std::vector<std::string> names;
    for (const auto& item : items_) names.push_back(item.package);
    auto have = query(id(), names);
    if (!have) return fail(have.error());
    // (downgrade, untrusted) -> what to give apt-get install
    std::map<std::pair<bool, bool>, std::vector<std::string>> install;
    std::vector<std::string> remove;
    for (const auto& item : items_) {
      const Installed now = have->count(item.package) ? have->at(item.package) : Installed{};
      const auto flags = std::pair{item.downgrade, item.untrusted};
      if (item.state == "uninstalled") {
        if (now.installed) remove.push_back(item.package);
      } else if (item.state == "installed") {
        if (!now.installed) install[flags].push_back(item.package);
      } else if (item.state == "newest") {
        const std::string newest = candidate(item.package);
        if (newest.empty()) {
          return fail(Code::not_found, "pkg[" + item.package + "]: apt knows no version of " +
                                           item.package + "; check the name or run apt-get "
                                           "update");
        }
        if (!now.installed || now.version != newest) {
          install[flags].push_back(item.package + "=" + newest);
        }
      } else if (!now.installed || now.version != item.state) {  // an exact version
        install[flags].push_back(item.package + "=" + item.state);
      }
    }
    if (install.empty() && remove.empty()) return true;
    if (!apply) return false;
    if (!remove.empty()) {
      log::get("engine")->info("{}: resource: removing {}", id(), join(remove));
      remove.insert(remove.begin(), "remove");
      if (auto r = apt(remove, false, false); !r) return fail(r.error());
    }
    for (auto& [flags, packages] : install) {
      log::get("engine")->info("{}: resource: installing {}", id(), join(packages));
      packages.insert(packages.begin(), {"install", "--no-install-recommends"});
      if (auto r = apt(packages, flags.first, flags.second); !r) return fail(r.error());
    }
    return false;
  }

 private:
  struct Item {
    std::string package;
    std::string state;
    bool downgrade = false;
    bool untrusted = false;
  };

  static std::string join(const std::vector<std::string>& list) {
    std::string out;
    for (const auto& s : list) out += (out.empty() ? "" : " ") + s;
    return out;
  }

  Result<void> apt(const std::vector<std::string>& args, bool downgrade, bool untrusted) {
    std::vector<std::string> argv = {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y",
                                     "-q"};
    if (downgrade) argv.push_back("--allow-downgrades");
    if (untrusted) argv.push_back("--allow-unauthenticated");
    argv.insert(argv.end(), args.begin(), args.end());
    return run_tool(id(), argv);
  }

  std::vector<Item> items_;
};

}  // namespace

std::unique_ptr<Resource> make_pkg() { return std::make_unique<Pkg>(); }

}  // namespace mgmt::agent::resources
