// free_port.h: a loopback TCP port that was free a moment ago, for a test to listen on.
// Picked below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
// default), so that no outgoing connection of a test running in parallel (etcdctl, gRPC
// clients) takes it before the test binds it, which a port the kernel picked could suffer; a
// process never gets the same port twice. Other processes picking at the same moment are the
// small race left (random starting points make it unlikely).
// Thread-safety: thread-safe.
#pragma once

namespace mgmt::test {
int free_port();
}  // namespace mgmt::test
