// etcdctl.cpp: see etcdctl.h.
#include "test/support/process/etcdctl.h"

namespace mgmt::test {

std::string loopback_url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

Completed etcdctl(const std::string& endpoints, const std::string& args) {
  return run_to_completion({"/bin/sh", "-c",
                            "ETCDCTL_API=3 etcdctl --dial-timeout=2s --command-timeout=5s "
                            "--endpoints=" + endpoints + " " + args + " 2>&1"});
}

}  // namespace mgmt::test
