#!/usr/bin/env bash
# run.sh: the README's run command. Sets up, builds, and starts one agent with its embedded
# store on 127.0.0.1 with a fresh temporary data dir. Arguments go to `mgmt run`, e.g.
#   tools/run.sh lang examples/hello.mcl
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
exec build/mgmt run --tmp-prefix "$@"
