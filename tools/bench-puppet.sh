#!/usr/bin/env bash
# bench-puppet.sh: one Puppet manifest of N files (fixed content, mode 0644) applied by
# `puppet apply` and by mgmt's puppet frontend (`mgmt run puppet`) in the same run; a benchmark,
# not a test. For each: a first run creating all files and a run where all are in state, each
# timed from process start to exit (ours: `mgmt run --converged-timeout 0`, with the store,
# the deploy and the catalog compile included). Then ours alone: the time from someone changing
# a managed file to our repair (event-driven; puppet repairs it only on its next run, every
# runinterval: 30 minutes by default). Puppet's state (vardir) stays in a scratch directory for
# both. Ends with ratios puppet/mgmt (above 1: mgmt faster). Needs `apt-get install puppet`.
# Usage: tools/bench-puppet.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench-lib.sh
n="${1:-300}"
mgmt="$PWD/build/mgmt"
[ -x "$mgmt" ] || { echo "bench-puppet: build first (bash tools/build.sh)" >&2; exit 1; }
command -v puppet >/dev/null ||
  { echo "bench-puppet: needs puppet (apt-get install puppet)" >&2; exit 1; }
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
printf '[main]\nvardir = %s/var\nlogdir = %s/var/log\nrundir = %s/var/run\n' \
  "$work" "$work" "$work" >"$work/puppet.conf"
manifest() {  # the same files under $1
  echo "File { backup => false }"
  echo "file { '$1': ensure => directory }"
  for i in $(seq 1 "$n"); do
    printf "file { '%s/f%s': ensure => file, content => \"file %s\\\\n\", mode => '0644' }\n" \
      "$1" "$i" "$i"
  done
}
manifest "$work/pp" >"$work/puppet.pp"
manifest "$work/mg" >"$work/mgmt.pp"
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
port=$((20000 + RANDOM % 20000))
run_once() {  # process start to exit once converged
  local start
  start=$(date +%s%N)
  "$mgmt" run --tmp-prefix --client-urls "http://127.0.0.1:$port" --converged-timeout 0 \
    puppet "$work/mgmt.pp" --puppet-conf "$work/puppet.conf" >"$work/run.log" 2>&1
  ms_since "$start"
}
puppet_once() {
  local start
  start=$(date +%s%N)
  puppet apply --config "$work/puppet.conf" "$work/puppet.pp" >"$work/puppet.log" 2>&1
  ms_since "$start"
}
echo "bench-puppet: $n files"
ours_first=$(run_once)
ours_again=$(run_once)
[ "$(cat "$work/mg/f$n")" = "file $n" ] ||
  { echo "bench-puppet: our run did not converge" >&2; exit 1; }
echo "  mgmt    first run (create all): $ours_first ms   all in state: $ours_again ms"
puppet_first=$(puppet_once)
puppet_again=$(puppet_once)
[ "$(cat "$work/pp/f$n")" = "file $n" ] ||
  { echo "bench-puppet: puppet did not converge" >&2; exit 1; }
echo "  puppet  first run (create all): $puppet_first ms   all in state: $puppet_again ms"
awk -v a="$puppet_first" -v b="$ours_first" -v c="$puppet_again" -v d="$ours_again" 'BEGIN {
  printf "  ratios puppet/mgmt: first run %.2fx, in state %.2fx (above 1: mgmt faster)\n",
    a / b, c / d }'
"$mgmt" run --tmp-prefix --client-urls "http://127.0.0.1:$port" puppet "$work/mgmt.pp" \
  --puppet-conf "$work/puppet.conf" >"$work/live.log" 2>&1 &
wait_for_line "$work/live.log" "converged: everything" 120
echo "  mgmt: drift repaired (10 files), $(drift_repair "$work/mg"); puppet: at its next run"
