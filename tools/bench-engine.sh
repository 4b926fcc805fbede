#!/usr/bin/env bash
# bench-engine.sh: the engine on N files (fixed content, mode 0644), a benchmark, not a test:
# first run (create them all), a run where all are in state, and the repair of one drifted file
# (time from the change to the repair, event-driven). Usage: tools/bench-engine.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
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
port=$((20000 + RANDOM % 20000))
run_once() {  # the time from start to converged, minus the 1 s quiet period converged needs
  local start end
  start=$(date +%s%N)
  "$mgmt" run --tmp-prefix --client-urls "http://127.0.0.1:$port" --converged-timeout 1 \
    yaml "$work/graph.yaml" >"$work/run.log" 2>&1
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 - 1000 ))"
}
echo "bench-engine: $n files"
echo "  first run (create all), start to converged: $(run_once) ms"
echo "  all in state, start to converged:           $(run_once) ms"
"$mgmt" run --tmp-prefix --client-urls "http://127.0.0.1:$port" yaml "$work/graph.yaml" \
  >"$work/live.log" 2>&1 &
until grep -q "converged" "$work/live.log"; do sleep 0.05; done
pid=$(pgrep -f "client-urls http://127.0.0.1:$port" | head -1)
rss=$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status)
cpu0=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
sleep 5
cpu1=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
echo "  agent memory (RSS) watching $n files:      $(( rss / 1024 )) MiB"
echo "  idle CPU over 5 s:                          $(( (cpu1 - cpu0) * 10 / 5 )) ms/s"
samples=()
for i in 1 2 3 4 5 6 7 8 9 10; do
  f="$work/files/f$i"
  t0=$(date +%s%N)
  echo drift >"$f"
  until [ "$(cat "$f")" = "file $i" ]; do :; done
  t1=$(date +%s%N)
  samples+=($(( (t1 - t0) / 1000 )))
done
printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {printf "  drift repaired (10 files), median %.2f ms, worst %.2f ms\n", a[int((NR+1)/2)]/1000, a[NR]/1000}'
