// system_resources_test.cpp: pkg, svc and hostname on this machine, as far as a test may
// touch it: pkg checks real packages through dpkg (installing one only with MGMT_TEST_APT=1);
// svc talks to systemd when it runs as PID 1 (a refresh restarts a transient unit of the
// test's own) and otherwise must fail in one line naming why;
// hostname changes the kernel's name only inside a UTS namespace the test creates.
#include "test/agent/engine/resource_maker.h"
#include "test/support/process/child_process.h"
#include "test/support/process/real_etcd.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <iterator>
#include <cstdlib>
#include <fstream>

using mgmt::test::have_program;
using mgmt::test::make_resource;
using mgmt::test::resource;

namespace {

bool systemd_is_init() {
  std::ifstream comm("/proc/1/comm");
  std::string name;
  comm >> name;
  return name == "systemd";
}

}  // namespace

TEST_CASE("pkg: an installed package is in state, a missing one is out of state in noop",
          "[pkg]") {
  if (!have_program("dpkg-query")) {
    WARN("no dpkg-query: not a Debian system, pkg not tested");
    return;
  }
  auto coreutils = make_resource(resource("pkg", "coreutils", {}));
  auto have = coreutils->check_apply(false);
  REQUIRE(have);
  CHECK(*have);
  auto gone = make_resource(resource("pkg", "mgmt-no-such-package", {{"state", "uninstalled"}}));
  auto absent = gone->check_apply(true);
  REQUIRE(absent);
  CHECK(*absent);
  auto wanted = make_resource(resource("pkg", "mgmt-no-such-package", {}));
  auto missing = wanted->check_apply(false);
  REQUIRE(missing);
  CHECK_FALSE(*missing);
  auto wrong_version = make_resource(resource("pkg", "coreutils", {{"state", "0.0-none"}}));
  auto version = wrong_version->check_apply(false);
  REQUIRE(version);
  CHECK_FALSE(*version);
}

TEST_CASE("pkg: installing a package that apt does not know fails naming apt-get",
          "[pkg]") {
  if (std::getenv("MGMT_TEST_APT") == nullptr) {
    WARN("set MGMT_TEST_APT=1 to let this test run apt-get (it changes the system)");
    return;
  }
  auto wanted = make_resource(resource("pkg", "mgmt-no-such-package", {}));
  auto r = wanted->check_apply(true);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().rfind("pkg[mgmt-no-such-package]: `env DEBIAN_FRONTEND=", 0) == 0);
}

TEST_CASE("svc: without systemd the check fails in one line, and with it a unit's state is read",
          "[svc]") {
  auto svc = make_resource(resource("svc", "mgmt-no-such-unit", {{"state", "stopped"}}));
  auto r = svc->check_apply(false);
  if (!systemd_is_init()) {
    REQUIRE_FALSE(r);
    const std::string m = r.error().message();
    CHECK(m.rfind("svc[mgmt-no-such-unit]: ", 0) == 0);
    CHECK(m.find("svc needs systemd running as PID 1") != std::string::npos);
    CHECK(m.find('\n') == std::string::npos);
    return;
  }
  REQUIRE(r);
  CHECK(*r);  // a unit that does not exist is not running
}

// A refresh (its config changed, along a notify edge: puppet's `~> Service[...]`) reloads or
// restarts a running unit. Checked on a transient unit of the test's own when systemd runs.
TEST_CASE("svc: a refresh restarts a running unit that cannot reload", "[svc]") {
  const std::string unit = "mgmt-test-refresh-" + std::to_string(::getpid());
  auto svc = make_resource(resource("svc", unit, {{"state", "running"}}));
  svc->set_refresh(true);
  if (!systemd_is_init()) {
    auto r = svc->check_apply(true);
    REQUIRE_FALSE(r);  // one line, as every check without systemd
    CHECK(r.error().message().find("svc needs systemd running as PID 1") != std::string::npos);
    return;
  }
  auto sh = [](const std::string& command) {
    return mgmt::test::run_to_completion({"/bin/sh", "-c", command});
  };
  auto made = sh("systemd-run --unit=" + unit + " --quiet /bin/sleep 600 2>&1");
  if (made.exit_code != 0) {  // e.g. not root: the test cannot make its unit
    WARN("systemd-run could not start a unit (" + made.output + "): svc refresh not tested");
    return;
  }
  auto main_pid = [&] {
    return sh("systemctl show -p MainPID --value " + unit + ".service").output;
  };
  const std::string before = main_pid();
  auto noop = svc->check_apply(false);
  REQUIRE(noop);
  CHECK_FALSE(*noop);  // a pending refresh is work to do
  CHECK(main_pid() == before);
  auto applied = svc->check_apply(true);
  const std::string after = main_pid();
  sh("systemctl stop " + unit + ".service");
  REQUIRE(applied);
  CHECK_FALSE(*applied);
  CHECK(after != before);        // sleep cannot reload: it was restarted
  CHECK(after != "0\n");         // and runs
}

TEST_CASE("svc: a wrong state or startup is refused naming the field", "[svc]") {
  auto r = mgmt::agent::resources::find_kind("svc")->make();
  auto bad = r->configure(resource("svc", "nginx", {{"state", "up"}}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() ==
        "svc[nginx]: field \"state\" must be \"running\" or \"stopped\", not \"up\"");
}

TEST_CASE("hostname: sets the kernel's hostname (in a UTS namespace of its own), noop "
          "does not", "[hostname]") {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Exit codes: 0 all good, 77 no namespace allowed, others: which step failed.
    if (::unshare(CLONE_NEWUTS) != 0) ::_exit(77);
    auto spec = resource("hostname", "h", {{"transient_hostname", "mgmt-test-host"}});
    auto r = mgmt::agent::resources::find_kind("hostname")->make();
    r->set_id("hostname[h]");
    if (!r->configure(spec)) ::_exit(2);
    auto noop = r->check_apply(false);
    char name[HOST_NAME_MAX + 1] = {};
    ::gethostname(name, sizeof(name) - 1);
    if (!noop || *noop || std::string(name) == "mgmt-test-host") ::_exit(3);
    auto applied = r->check_apply(true);
    ::gethostname(name, sizeof(name) - 1);
    if (!applied || *applied || std::string(name) != "mgmt-test-host") ::_exit(4);
    auto again = r->check_apply(true);
    if (!again || !*again) ::_exit(5);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    WARN("no UTS namespace allowed here (needs root): hostname changes not tested");
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("msg: sends once and again on a refresh, and names a journal it cannot reach", "[msg]") {
  auto msg = make_resource(resource("msg", "hello", {{"body", "hi there"}}));
  auto first = msg->check_apply(true);
  REQUIRE(first);
  CHECK_FALSE(*first);
  auto second = msg->check_apply(true);
  REQUIRE(second);
  CHECK(*second);
  msg->set_refresh(true);
  auto refreshed = msg->check_apply(true);
  REQUIRE(refreshed);
  CHECK_FALSE(*refreshed);
  auto journal = make_resource(resource("msg", "j", {{"body", "to the journal"},
                                                     {"journal", true}, {"priority", "notice"},
                                                     {"fields", {{"mgmt_test", "1"}}}}));
  auto sent = journal->check_apply(true);
  if (::access("/run/systemd/journal/socket", F_OK) == 0) {
    CHECK(sent);
  } else {
    REQUIRE_FALSE(sent);
    CHECK(sent.error().message().rfind("msg[j]: cannot write to the journal (", 0) == 0);
  }
  auto bad = mgmt::agent::resources::find_kind("msg")->make();
  CHECK_FALSE(bad->configure(resource("msg", "m", {{"priority", "loud"}})));
}

TEST_CASE("mount: mounts a tmpfs with its fstab line, then unmounts and removes the line (in a "
          "mount namespace with a private /etc)", "[mount]") {
  mgmt::test::TempDir dir;
  const std::string etc = dir.path() + "/etc";
  const std::string point = dir.path() + "/mnt";
  std::filesystem::create_directories(etc);
  { std::ofstream(etc + "/fstab") << "# static file system information\n"; }
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Exit codes: 0 all good, 77 no namespace allowed, others: which step failed.
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(77);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(77);
    if (::mount(etc.c_str(), "/etc", nullptr, MS_BIND, nullptr) != 0) ::_exit(77);
    auto make = [](nlohmann::json params, const std::string& name) {
      auto r = mgmt::agent::resources::find_kind("mount")->make();
      r->set_id("mount[" + name + "]");
      if (!r->configure(resource("mount", name, std::move(params)))) ::_exit(2);
      return r;
    };
    auto m = make({{"device", "tmpfs"}, {"type", "tmpfs"}, {"options", {{"size", "1m"}}}},
                  point);
    auto noop = m->check_apply(false);
    if (!noop || *noop) ::_exit(3);
    auto applied = m->check_apply(true);
    if (!applied || *applied) ::_exit(4);
    auto again = m->check_apply(true);
    if (!again || !*again) ::_exit(5);
    std::ifstream mounts("/proc/self/mounts");
    std::string all((std::istreambuf_iterator<char>(mounts)), {});
    if (all.find("tmpfs " + point + " tmpfs") == std::string::npos) ::_exit(6);
    std::ifstream fstab("/etc/fstab");
    std::string table((std::istreambuf_iterator<char>(fstab)), {});
    if (table != "# static file system information\ntmpfs\t" + point + "\ttmpfs\tsize=1m\t0\t0\n") {
      ::_exit(7);
    }
    auto gone = make({{"state", "absent"}}, point);
    if (!gone->check_apply(true)) ::_exit(8);
    auto settled = gone->check_apply(true);
    if (!settled || !*settled) ::_exit(9);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    WARN("no mount namespace allowed here (needs root): mount not tested");
    return;
  }
  CHECK(WEXITSTATUS(status) == 0);
  // The private fstab ends as it began: the line was added, then removed.
  CHECK(mgmt::test::slurp(etc + "/fstab") == "# static file system information\n");
}
