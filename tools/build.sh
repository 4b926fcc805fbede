#!/usr/bin/env bash
# build.sh: set up dependencies, configure and build into ./build (the binary lands in
# build/mgmt). Extra arguments are passed to cmake's configure step, e.g. -DMGMT_BUILD_BENCH=ON.
# MGMT_SETUP_ARGS is passed to tools/setup.sh (tools/test.sh sets --for-tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh ${MGMT_SETUP_ARGS:-}
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
cmake -S . -B build -G Ninja -DMGMT_WERROR=ON "$@" >/dev/null
cmake --build build -j "$(nproc)"
echo "build: build/mgmt ($(build/mgmt version | head -n1))"
