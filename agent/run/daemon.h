// daemon.h: the life of `mgmt run`. It opens the data dir, starts the embedded store (or uses
// the cluster at --seeds with --no-server), starts the engine and the deploy watcher, tells
// systemd it is ready, and waits for a reason to stop: SIGINT/SIGTERM, --converged-timeout,
// or --max-runtime.
// Shutdown order (reverse of start-up): deploy watcher, engine, store, data dir. Each stop()
// is idempotent; nothing is detached.
// Thread-safety: run() is called once from main; stop reasons arrive through StopSignal.
#pragma once

#include "agent/cli/options.h"
#include "common/result.h"

#include <memory>

namespace mgmt::agent::run {

// Exit codes of `mgmt run`, one per reason, so scripts and systemd can tell them apart.
inline constexpr int kExitOk = 0;
inline constexpr int kExitDataDir = 10;  // data dir missing, unwritable, locked or damaged
inline constexpr int kExitStore = 11;    // the store could not start or be reached
inline constexpr int kExitCode = 12;     // the code given to `mgmt run FRONTEND CODE` failed

// Runs the agent until it is asked to stop; returns the process exit code. Errors are printed
// to stderr as one line each.
int run_daemon(const cli::RunOptions& options);

}  // namespace mgmt::agent::run
