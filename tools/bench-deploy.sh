#!/usr/bin/env bash
# bench-deploy.sh: deploy latency, a benchmark (not a test). Three agents on loopback, each
# hosting a member of the replicated store (two join the first with --seeds), then N deploys of changed code; for each, the time from
# `mgmt deploy` starting to the last agent printing the new message, and the time of the
# deploy command alone. Prints the median and the worst. Usage: tools/bench-deploy.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20}"
mgmt="$PWD/build/mgmt"
[ -x "$mgmt" ] || { echo "bench-deploy: build first (bash tools/build.sh)" >&2; exit 1; }
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
seeds="http://127.0.0.1:$port"
url() { echo "http://127.0.0.1:$(( port + $1 ))"; }
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$mgmt" run --tmp-prefix --hostname b1 --client-urls "$seeds" --server-urls "$(url 1)" \
  --ideal-cluster-size 3 >"$work/a1.log" 2>&1 &
for i in $(seq 1 100); do grep -q "waiting for" "$work/a1.log" 2>/dev/null && break; sleep 0.05; done
for a in 2 3; do
  "$mgmt" run --tmp-prefix --hostname "b$a" --seeds "$seeds" --client-urls "$(url $((2 * a)))" \
    --server-urls "$(url $((2 * a + 1)))" --ideal-cluster-size 3 >"$work/a$a.log" 2>&1 &
  for i in $(seq 1 200); do grep -q "waiting for" "$work/a$a.log" 2>/dev/null && break; sleep 0.05; done
done
for i in $(seq 1 200); do [ "$(grep -c 'promoting learner' "$work/a1.log")" -ge 2 ] && break; sleep 0.05; done
now_ns() { date +%s%N; }
total=(); command_only=()
for i in $(seq 1 "$n"); do
  printf 'print "p" {\n\tmsg => "run-%s",\n}\n' "$i" >"$work/main.mcl"
  t0=$(now_ns)
  "$mgmt" deploy --seeds "$seeds" --no-git lang "$work/main.mcl" >/dev/null
  t1=$(now_ns)
  for log in a1 a2 a3; do
    timeout 10 bash -c "until grep -q 'Msg: run-$i\$' '$work/$log.log'; do sleep 0.001; done"
  done
  t2=$(now_ns)
  total+=($(( (t2 - t0) / 1000 ))); command_only+=($(( (t1 - t0) / 1000 )))
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, worst %.1f ms", a[int((NR+1)/2)]/1000, a[NR]/1000}'; }
echo "bench-deploy: $n deploys, 3 agents on loopback, each a voting member of the store"
echo "  mgmt deploy command alone:            $(stats "${command_only[@]}")"
echo "  deploy start -> last of 3 agents applied: $(stats "${total[@]}")"
