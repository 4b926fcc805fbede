// grpc_log.cpp: gRPC's log lines into the "grpc" logger; see grpc_log.h.
#include "store/client/grpc_log.h"

#include "common/log.h"

#include <grpc/support/log.h>

namespace mgmt::store::client {
namespace {

void to_logger(gpr_log_func_args* args) {
  auto logger = log::get("grpc");
  if (args->severity == GPR_LOG_SEVERITY_ERROR) {
    logger->debug("{}:{}: {}", args->file, args->line, args->message);
  } else {
    logger->trace("{}:{}: {}", args->file, args->line, args->message);
  }
}

}  // namespace

void route_grpc_logs() {
  gpr_set_log_function(to_logger);
}

}  // namespace mgmt::store::client
