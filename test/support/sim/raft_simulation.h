// raft_simulation.h: one seeded random run of a Raft cluster (TigerBeetle's VOPR in spirit).
// The seed alone derives everything: cluster size, options, fault rates (each seed picks its
// own: swarm testing), the schedule of client writes and reads, partitions (symmetric,
// one-way, isolation), crashes (also in the middle of a log write), storage failures, pauses,
// clock skew, membership changes, leadership transfers and compaction. A faulty phase is
// followed by a liveness phase that heals everything and requires a leader to commit a write
// within a bound. The checkers run after every step.
#pragma once

#include "test/support/sim/sim_cluster.h"

#include <cstdint>
#include <ostream>
#include <string>

namespace mgmt::test::sim {

struct SimulationOptions {
  uint64_t seed = 0;
  std::ostream* trace = nullptr;
  uint64_t fault_ticks = 0;        // 0: chosen by the seed (300..1500)
  uint64_t liveness_ticks = 3000;  // bound for the healed cluster to commit a write
};

struct SimulationResult {
  uint64_t seed = 0;
  bool ok = true;
  std::string violation;
  uint64_t ticks = 0;
  uint64_t messages = 0;
  uint64_t faults = 0;
  SimCluster::Stats stats;
  std::string config;  // what the seed chose, one line
};

SimulationResult run_simulation(const SimulationOptions& options);

// The command that replays one seed with a trace.
std::string replay_command(uint64_t seed, const std::string& program = "build/test/sim/raft_sim");

}  // namespace mgmt::test::sim
