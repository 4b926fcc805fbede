#!/usr/bin/env bash
# bench-engine.sh: the engine on N files (fixed content, mode 0644) beside CFEngine's cf-agent
# (Debian package cfengine3) on the same files in the same run; a benchmark, not a test.
# For each: a first run creating all files and a run where all are in state, each timed from
# process start to exit (ours: `mgmt run --converged-timeout 0`, store and deploy included;
# cf-agent: `cf-agent -K -f policy.cf`). Then ours alone: memory and idle CPU while watching the
# N files, and the time from someone changing a managed file to our repair (event-driven; cf-agent
# repairs only on its next run, every 5 minutes by default). Ends with ratios cf-agent/ours
# (above 1: we are faster). Usage: tools/bench-engine.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench-lib.sh
n="${1:-1000}"
mgmt="$PWD/build/mgmt"
[ -x "$mgmt" ] || { echo "bench-engine: build first (bash tools/build.sh)" >&2; exit 1; }
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/files"
{
  echo "graph: bench"; echo "resources:"; echo "  file:"
  for i in $(seq 1 "$n"); do
    printf '  - name: %s/files/f%s\n    content: "file %s\\n"\n    mode: "0644"\n' "$work" "$i" "$i"
  done
} >"$work/graph.yaml"
cat >"$work/policy.cf" <<POLICY
body common control { bundlesequence => { "bench" }; }
bundle agent bench {
  vars:
    "i" slist => expandrange("[1-$n]", 1);
  files:
    "$work/cf/f\$(i)"
      create => "true",
      content => "file \$(i)\$(const.n)",
      perms => m644;
}
body perms m644 { mode => "0644"; rxdirs => "false"; }
POLICY
chmod 600 "$work/policy.cf"
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
port=$((20000 + RANDOM % 20000))
run_once() {  # process start to exit once converged
  local start
  start=$(date +%s%N)
  "$mgmt" run --tmp-prefix --client-urls "http://127.0.0.1:$port" --converged-timeout 0 \
    yaml "$work/graph.yaml" >"$work/run.log" 2>&1
  ms_since "$start"
}
cf_once() {
  local start
  start=$(date +%s%N)
  cf-agent -K -f "$work/policy.cf" >"$work/cf.log" 2>&1
  ms_since "$start"
}
echo "bench-engine: $n files"
ours_first=$(run_once)
ours_again=$(run_once)
[ "$(cat "$work/files/f$n")" = "file $n" ] || { echo "bench-engine: our run did not converge" >&2; exit 1; }
checked=$(grep -o 'in state [0-9]* ms after it came' "$work/run.log" | grep -o '[0-9]*' || true)
echo "  mgmt      first run (create all): $ours_first ms   all in state: $ours_again ms"
echo "            of which the engine (validate, build, check all $n): ${checked:-?} ms"
if command -v cf-agent >/dev/null; then
  mkdir -p "$work/cf"
  cf_first=$(cf_once)
  cf_again=$(cf_once)
  [ "$(cat "$work/cf/f$n")" = "file $n" ] || { echo "bench-engine: cf-agent did not converge" >&2; exit 1; }
  echo "  cf-agent  first run (create all): $cf_first ms   all in state: $cf_again ms"
  awk -v a="$cf_first" -v b="$ours_first" -v c="$cf_again" -v d="$ours_again" 'BEGIN {
    printf "  ratios cf-agent/mgmt: first run %.2fx, in state %.2fx (above 1: mgmt faster)\n",
      a / b, c / d }'
else
  echo "  cf-agent not installed (apt-get install cfengine3): no comparison"
fi
"$mgmt" run --tmp-prefix --client-urls "http://127.0.0.1:$port" yaml "$work/graph.yaml" \
  >"$work/live.log" 2>&1 &
wait_for_line "$work/live.log" "converged: everything" 120
sleep 1  # let the agent settle (it gives back freed memory once converged)
pid=$(pgrep -f "client-urls http://127.0.0.1:$port" | head -1)
rss=$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status)
cpu0=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
sleep 5
cpu1=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
echo "  agent memory (RSS) watching $n files:      $(( rss / 1024 )) MiB"
echo "  idle CPU over 5 s:                          $(( (cpu1 - cpu0) * 10 / 5 )) ms/s"
echo "  drift repaired (10 files), $(drift_repair "$work/files")"
