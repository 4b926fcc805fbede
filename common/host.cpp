// host.cpp: see host.h.
#include "common/host.h"

#include <unistd.h>

namespace mgmt {

std::string machine_hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace mgmt
