#!/usr/bin/env bash
# bench-store.sh: our store beside Debian's etcd on this machine, one member each, one after the
# other in one run: `etcdctl check perf` (60 s each, load s by default) and a bounded put loop
# with etcdctl. A benchmark, not a test. Usage: tools/bench-store.sh [s|m|l]
set -euo pipefail
cd "$(dirname "$0")/.."
load="${1:-s}"
mgmt="$PWD/build/mgmt"
[ -x "$mgmt" ] || { echo "bench-store: build first (bash tools/build.sh)" >&2; exit 1; }
export ETCDCTL_API=3
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
p1=$((20000 + RANDOM % 10000)); p2=$((p1 + 1)); p3=$((p1 + 2)); p4=$((p1 + 3))
etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$p1" \
  --advertise-client-urls "http://127.0.0.1:$p1" --listen-peer-urls "http://127.0.0.1:$p2" \
  --initial-advertise-peer-urls "http://127.0.0.1:$p2" \
  --initial-cluster "default=http://127.0.0.1:$p2" >"$work/etcd.log" 2>&1 &
"$mgmt" run --tmp-prefix --client-urls "http://127.0.0.1:$p3" --server-urls "http://127.0.0.1:$p4" \
  >"$work/mgmt.log" 2>&1 &
for i in $(seq 1 200); do
  etcdctl --endpoints="http://127.0.0.1:$p1" endpoint health >/dev/null 2>&1 &&
    etcdctl --endpoints="http://127.0.0.1:$p3" endpoint health >/dev/null 2>&1 && break
  sleep 0.1
done
puts() {  # 500 sequential puts through one etcdctl process reading stdin (a txn each)
  local ep=$1 start end
  start=$(date +%s%N)
  for i in $(seq 1 500); do etcdctl --endpoints="$ep" put "bench-$i" "v$i" >/dev/null; done
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 ))"
}
for name in etcd mgmt; do
  port=$p1; [ "$name" = mgmt ] && port=$p3
  echo "== $name (http://127.0.0.1:$port)"
  etcdctl --endpoints="http://127.0.0.1:$port" check perf --load="$load" 2>&1 | tr "\r" "\n" | tail -5
  echo "500 sequential etcdctl puts: $(puts "http://127.0.0.1:$port") ms"
done
