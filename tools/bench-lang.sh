#!/usr/bin/env bash
# bench-lang.sh: how long `mgmt graph lang` takes to compile an mcl program of N resources
# (default 1,000), written two ways: N resource statements with interpolated names and fields,
# and one for loop over a list of N names built by iter.range. A benchmark, not a test: it prints
# the median of 5 runs of each. Usage: tools/bench-lang.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
mgmt="$PWD/build/mgmt"
[ -x "$mgmt" ] || { echo "bench-lang: build first (bash tools/build.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/flat" "$work/loop"
{
  echo 'import "fmt"'
  for i in $(seq 1 "$n"); do
    printf 'file "/tmp/bench/f%s" {\n\tcontent => fmt.printf("file %%d\\n", %s),\n\tmode => "0644",\n}\n' "$i" "$i"
  done
} >"$work/flat/main.mcl"
cat >"$work/loop/main.mcl" <<MCL
import "fmt"
import "iter"
\$names = iter.range($n)
for \$i, \$v in \$names {
	file fmt.printf("/tmp/bench/f%d", \$v) {
		content => fmt.printf("file %d\n", \$v),
		mode => "0644",
	}
}
MCL
median_ms() {  # runs the command 5 times, prints the median wall time in ms
  local samples=()
  for _ in 1 2 3 4 5; do
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    samples+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p
}
lines=$("$mgmt" graph lang "$work/flat" | grep -c '^Vertex:')
[ "$lines" = "$n" ] || { echo "bench-lang: expected $n resources, got $lines" >&2; exit 1; }
echo "bench-lang: $n resources"
echo "  $n resource statements:      $(median_ms "$mgmt" graph lang "$work/flat") ms (median of 5, process start to exit)"
echo "  one for loop over $n names:  $(median_ms "$mgmt" graph lang "$work/loop") ms"
