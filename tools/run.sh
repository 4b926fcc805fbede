#!/usr/bin/env bash
# run.sh: the README's run command. Sets up, builds, and starts one agent with its embedded
# store on 127.0.0.1 with a fresh temporary data dir. Arguments go to `mgmt run`, e.g.
#   tools/run.sh lang docs/examples/hello.mcl
#   tools/run.sh puppet docs/examples/hello.pp   (installs Debian's puppet first, if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
for arg in "$@"; do
  if [ "$arg" = puppet ] || [ "$arg" = langpuppet ]; then
    command -v puppet >/dev/null || bash tools/setup.sh --with-puppet
    break
  fi
done
exec build/mgmt run --tmp-prefix "$@"
