#!/usr/bin/env bash
# soak-raft.sh: the Raft simulator over many seeds, in parallel (not part of the test command).
#   bash tools/soak-raft.sh [SEEDS] [FIRST]      default 20000 seeds from 1, one job per core
#   MGMT_SOAK_BROKEN=1 bash tools/soak-raft.sh   the same over the deliberately broken core
# Prints seeds run, ticks, messages, faults injected and violations, and for every failing seed
# the command that replays it with a trace. Exit status 1 when any seed failed.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds="${1:-20000}"
first="${2:-1}"
bash tools/build.sh -DMGMT_BUILD_TESTS=ON >/dev/null
cmake --build build --target raft_sim raft_sim_broken >/dev/null
bin=build/test/sim/raft_sim
[[ "${MGMT_SOAK_BROKEN:-}" == 1 ]] && bin=build/test/sim/raft_sim_broken
start=$(date +%s)
"$bin" --seeds "$seeds" --first "$first" --jobs "$(nproc)"
echo "soak: $(( $(date +%s) - start ))s"
