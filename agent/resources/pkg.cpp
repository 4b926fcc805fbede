// pkg.cpp: the pkg resource: a Debian package installed (any version), at the newest
// version apt knows, at an exact version, or uninstalled. Checked with dpkg-query, changed with
// apt-get (non-interactive; a version that would go down needs `allowdowngrade`, packages apt
// cannot authenticate need `allowuntrusted`). Watched through /var/lib/dpkg/status, which dpkg
// rewrites after every change. Needs root and a working apt to change anything.
#include "agent/resources/command.h"
#include "agent/resources/files_watch.h"
#include "agent/resources/kinds.h"
#include "common/log.h"

#include <sstream>

namespace mgmt::agent::resources {
namespace {

struct Installed {
  bool installed = false;
  std::string version;
};

Result<Installed> query(const std::string& self, const std::string& package) {
  const Outcome o =
      run_program({"dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", package});
  if (o.exit_code < 0) {
    return fail(Code::unavailable, self + ": dpkg-query could not start; pkg manages Debian "
                                          "packages and needs dpkg");
  }
  Installed out;
  if (o.exit_code != 0) return out;  // unknown to dpkg: not installed
  const auto bar = o.output.find('|');
  const std::string status = o.output.substr(0, bar);
  out.installed = status.size() >= 2 && status[1] == 'i';
  if (bar != std::string::npos) out.version = o.output.substr(bar + 1);
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
    package_ = spec.name;
    if (package_.empty() || package_.find_first_of(" /=") != std::string::npos) {
      return fail(Code::invalid_argument,
                  "pkg[" + package_ + "]: the name must be a Debian package name");
    }
    state_ = spec.params.value("state", std::string("installed"));
    if (state_.empty()) state_ = "installed";
    downgrade_ = spec.params.value("allowdowngrade", false);
    untrusted_ = spec.params.value("allowuntrusted", false);
    return ok();
  }

  std::unique_ptr<Watch> watch(std::function<void()> on_event) override {
    return std::make_unique<FilesWatch>(std::vector<std::string>{"/var/lib/dpkg/status"},
                                        on_event);
  }

  Result<bool> check_apply(bool apply) override {
    auto have = query(id(), package_);
    if (!have) return fail(have.error());
    std::string install;  // what to give apt-get install, empty: nothing
    if (state_ == "uninstalled") {
      if (!have->installed) return true;
      if (!apply) return false;
      log::get("engine")->info("{}: resource: removing {}", id(), have->version);
      if (auto r = apt({"remove", package_}); !r) return fail(r.error());
      return false;
    }
    if (state_ == "installed") {
      if (have->installed) return true;
      install = package_;
    } else if (state_ == "newest") {
      const std::string newest = candidate(package_);
      if (newest.empty()) {
        return fail(Code::not_found, id() + ": apt knows no version of " + package_ +
                                         "; check the name or run apt-get update");
      }
      if (have->installed && have->version == newest) return true;
      install = package_ + "=" + newest;
    } else {  // an exact version
      if (have->installed && have->version == state_) return true;
      install = package_ + "=" + state_;
    }
    if (!apply) return false;
    log::get("engine")->info("{}: resource: installing {}", id(), install);
    if (auto r = apt({"install", "--no-install-recommends", install}); !r) {
      return fail(r.error());
    }
    return false;
  }

 private:
  Result<void> apt(std::vector<std::string> args) {
    std::vector<std::string> argv = {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y",
                                     "-q"};
    if (downgrade_) argv.push_back("--allow-downgrades");
    if (untrusted_) argv.push_back("--allow-unauthenticated");
    argv.insert(argv.end(), args.begin(), args.end());
    return run_tool(id(), argv);
  }

  std::string package_;
  std::string state_;
  bool downgrade_ = false;
  bool untrusted_ = false;
};

}  // namespace

std::unique_ptr<Resource> make_pkg() { return std::make_unique<Pkg>(); }

}  // namespace mgmt::agent::resources
