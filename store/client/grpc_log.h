// grpc_log.h: gRPC's own log lines go through our loggers (component "grpc") instead of its raw
// `E1201 21:46:12.609 chttp2_server.cc:1045] UNKNOWN:...` lines on stderr. They are for
// debugging: every failure they describe (an address in use, a peer that does not answer) is
// reported by our code in words with its remedy, so gRPC's errors show with --verbose, and what
// GRPC_VERBOSITY=info|debug adds shows with --debug.
// Thread-safety: call once, from main, before gRPC starts any thread.
#pragma once

namespace mgmt::store::client {

void route_grpc_logs();

}  // namespace mgmt::store::client
