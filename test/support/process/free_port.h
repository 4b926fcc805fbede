// free_port.h: a loopback TCP port that was free a moment ago (the kernel picks it). The small
// race with other processes is accepted for tests.
#pragma once

namespace mgmt::test {
int free_port();
}  // namespace mgmt::test
