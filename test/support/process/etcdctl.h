// etcdctl.h: Debian's etcdctl (API 3) run against a store on loopback, as tests use it: the
// URL of a loopback port, and one etcdctl command with its exit code and its output (stdout
// and stderr together), with short dial and command timeouts so that a dead store fails fast.
#pragma once

#include "test/support/process/child_process.h"

#include <string>

namespace mgmt::test {

std::string loopback_url(int port);
Completed etcdctl(const std::string& endpoints, const std::string& args);

}  // namespace mgmt::test
