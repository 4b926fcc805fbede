#!/usr/bin/env bash
# test.sh: the README's test command. Sets everything up (packages, configure, build) and runs
# the whole ctest suite, tier by tier: unit, golden and sim in parallel; cluster and compat
# (real processes on loopback) one at a time. Soaks and benchmarks have their own commands.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
MGMT_SETUP_ARGS=--for-tests bash tools/build.sh -DMGMT_BUILD_TESTS=ON
jobs="$(nproc)"
echo "test: unit, golden and sim tiers"
ctest --test-dir build -L 'unit|golden|sim' -j "$jobs" --output-on-failure --no-tests=ignore
echo "test: cluster and compat tiers"
ctest --test-dir build -L 'cluster|compat' -j 1 --output-on-failure --no-tests=ignore
echo "test: all tiers passed in $(( $(date +%s) - start ))s"
