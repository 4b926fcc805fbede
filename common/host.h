// host.h: this machine's name, as the kernel has it (gethostname), or "localhost" when it
// cannot be read. The agent's own name is --hostname, defaulting to this.
// Thread-safety: safe from any thread.
#pragma once

#include <string>

namespace mgmt {

std::string machine_hostname();

}  // namespace mgmt
