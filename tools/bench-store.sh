#!/usr/bin/env bash
# bench-store.sh: our store beside Debian's etcd on this machine, in one run, a benchmark (not a
# test). Both run with the same topology: 1 member, or 3 members on loopback (ours joined with
# --seeds, etcd's from a static initial cluster). For each: `etcdctl check perf --load=LOAD`
# (60 s), then test/bench/store_load: concurrent puts, linearizable and serializable gets, CAS
# txns (8 clients, 4000 ops each workload) and watch delivery latency (1000 puts). Ends with the
# ratios ours/etcd (throughput: above 1 is better; p99: below 1 is better).
# Usage: tools/bench-store.sh [s|m|l] [1|3]
set -euo pipefail
cd "$(dirname "$0")/.."
load="${1:-s}"
members="${2:-1}"
bash tools/build.sh -DMGMT_BUILD_BENCH=ON >/dev/null
cmake --build build --target store_load >/dev/null
mgmt="$PWD/build/mgmt"
loadgen="$PWD/build/test/bench/store_load"
export ETCDCTL_API=3
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
base=$((20000 + RANDOM % 10000))
port() { echo $((base + $1)); }
url() { echo "http://127.0.0.1:$(port "$1")"; }

# etcd: members e1..eN, client ports base+0.., peer ports base+10..
cluster=""
for i in $(seq 1 "$members"); do cluster+="${cluster:+,}e$i=$(url $((10 + i)))"; done
etcd_eps=""
for i in $(seq 1 "$members"); do
  etcd --name "e$i" --data-dir "$work/e$i" --listen-client-urls "$(url "$i")" \
    --advertise-client-urls "$(url "$i")" --listen-peer-urls "$(url $((10 + i)))" \
    --initial-advertise-peer-urls "$(url $((10 + i)))" --initial-cluster "$cluster" \
    --initial-cluster-state new >"$work/e$i.log" 2>&1 &
  etcd_eps+="${etcd_eps:+,}$(url "$i")"
done
# ours: members m1..mN, client ports base+20.., peer ports base+30..
ours_eps=""
for i in $(seq 1 "$members"); do
  seeds=()
  [ "$i" -gt 1 ] && seeds=(--seeds "$(url 21)")
  "$mgmt" run --tmp-prefix --hostname "m$i" --client-urls "$(url $((20 + i)))" \
    --server-urls "$(url $((30 + i)))" --ideal-cluster-size "$members" --no-deploy-watch \
    "${seeds[@]}" >"$work/m$i.log" 2>&1 &
  for t in $(seq 1 200); do grep -q "waiting for" "$work/m$i.log" 2>/dev/null && break; sleep 0.05; done
  ours_eps+="${ours_eps:+,}$(url $((20 + i)))"
done
for t in $(seq 1 200); do
  etcdctl --endpoints="$etcd_eps" endpoint health >/dev/null 2>&1 &&
    [ "$(etcdctl --endpoints="$ours_eps" member list 2>/dev/null | grep -c ', false$')" -eq "$members" ] && break
  sleep 0.1
done

declare -A result
run_store() {
  local name=$1 eps=$2
  echo "== $name ($members member(s): $eps)"
  etcdctl --endpoints="$eps" check perf --load="$load" 2>&1 | tr "\r" "\n" | grep -E "PASS|FAIL" || true
  for w in put get get-serializable txn; do
    line=$("$loadgen" --endpoints "$eps" --workload "$w" --clients 8 --ops 4000)
    echo "$line"
    result[$name/$w]="$line"
  done
  line=$("$loadgen" --endpoints "$eps" --workload watch --ops 1000)
  echo "$line"
  result[$name/watch]="$line"
}
run_store etcd "$etcd_eps"
run_store mgmt "$ours_eps"
echo "== ratios ours/etcd"
for w in put get get-serializable txn watch; do
  e=${result[etcd/$w]}; m=${result[mgmt/$w]}
  et=$(echo "$e" | awk '{print $6}'); mt=$(echo "$m" | awk '{print $6}')
  ep=$(echo "$e" | awk '{print $12}'); mp=$(echo "$m" | awk '{print $12}')
  awk -v w="$w" -v et="$et" -v mt="$mt" -v ep="$ep" -v mp="$mp" 'BEGIN {
    printf "%-17s throughput %.2fx  p99 %.2fx\n", w, mt / et, mp / ep }'
done
