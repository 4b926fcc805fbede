#!/usr/bin/env bash
# bench-store.sh: our store beside Debian's etcd on this machine, in one run, a benchmark (not a
# test). Both run with the same topology: 1 member, or 3 members on loopback (ours joined with
# --seeds, etcd's from a static initial cluster). First it measures the disk's own ceiling for
# sequential durable writes (synced 256-byte appends per second, in the directory the stores
# use). Then test/bench/store_load against each: puts by 1 (sequential), 8 and 64 clients,
# linearizable and serializable gets, CAS txns (8 clients unless the workload says "@N", each on
# a connection of its own, all driven by one thread of the load generator so that it takes
# little of the CPU the stores share with it; each run lasts RUN_SECONDS, default 3, after every
# client connected and warmed up) and watch delivery latency (sequential puts for as long, each
# timed from its start to its event on a watcher of the same load generator thread), with 3
# members also one client's puts through a follower (follower-put@1), ROUNDS
# times each (default 5), alternating between the two stores. Beside put@1 on 1 member it also
# runs test/bench/rpc_floor, a server whose puts do nothing but one synced write, twice: on gRPC
# C++ (floor-grpc, the most any gRPC C++ store can do for one client here) and on the store's own
# server (floor-ours: ours minus Raft, state and apply, so ours/floor-ours is what they cost).
# Then the ratios ours/etcd of the medians (throughput: above 1 is better; p99: below 1 is
# better), each store's sequential puts as a share of the disk's ceiling
# (no store can acknowledge one client's synced puts faster), and last `etcdctl check perf
# --load=LOAD` (60 s) against each.
# Usage: [ROUNDS=N] [WORKLOADS="put@1 put@64 watch"] [RUN_SECONDS=N] [CHECK_PERF=0]
#        tools/bench-store.sh [s|m|l] [1|3]
set -euo pipefail
cd "$(dirname "$0")/.."
load="${1:-s}"
members="${2:-1}"
bash tools/build.sh -DMGMT_BUILD_BENCH=ON >/dev/null
cmake --build build --target store_load rpc_floor >/dev/null
mgmt="$PWD/build/mgmt"
loadgen="$PWD/build/test/bench/store_load"
rpc_floor="$PWD/build/test/bench/rpc_floor"
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

# The load generator talks to the first endpoint it is given: make that each store's leader, so
# that neither store pays for forwarding writes from a follower and the other does not.
leader_first() {
  local leader
  leader=$(etcdctl --endpoints="$1" endpoint status -w json 2>/dev/null |
    python3 -c 'import json,sys
for s in json.load(sys.stdin):
    if s["Status"]["header"]["member_id"] == s["Status"]["leader"]: print(s["Endpoint"])' |
    head -1)
  [ -n "$leader" ] || { echo "$1"; return; }
  echo "$leader$(echo ",$1" | sed "s#,$leader##")"
}
etcd_eps=$(leader_first "$etcd_eps")
ours_eps=$(leader_first "$ours_eps")
echo "== load goes to each store's leader first: etcd $etcd_eps, ours $ours_eps"

disk_line=$("$loadgen" --workload disk --dir "$work" --seconds 3)
disk_rate=$(echo "$disk_line" | awk '{print $6}')
echo "== the disk under $work: $disk_line"

# Each workload runs ROUNDS times (default 5), etcd and ours alternating, so that both see the
# same moments of a shared machine; the report takes the median round of each.
rounds="${ROUNDS:-5}"
declare -A ops p99s
workloads="${WORKLOADS:-put@1 put@8 put@64 get get-serializable txn watch}"
[ "$members" -gt 1 ] && [ -z "${WORKLOADS:-}" ] && workloads+=" follower-put@1"
# The RPC floors (one member, put@1): name, server, port offset.
floors=""
declare -A floor_eps
if [ "$members" = 1 ] && [[ " $workloads " == *" put@1 "* ]]; then
  for spec in floor-grpc:grpc:40 floor-ours:ours:41; do
    IFS=: read -r name server offset <<<"$spec"
    mkdir -p "$work/$name"
    "$rpc_floor" --listen "127.0.0.1:$(port "$offset")" --dir "$work/$name" --seconds 7200 \
      --server "$server" >"$work/$name.log" 2>&1 &
    for t in $(seq 1 200); do grep -q serving "$work/$name.log" && break; sleep 0.05; done
    if grep -q serving "$work/$name.log"; then
      floors+=" $name"
      floor_eps[$name]="$(url "$offset")"
    else
      echo "bench-store: $name did not start: $(cat "$work/$name.log")" >&2
    fi
  done
fi
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for w in $workloads; do
  # follower-W: workload W through a follower, which hands each write to the leader and
  # answers once it applied it itself (as every agent on a follower's host writes).
  base="${w#follower-}"
  clients=8
  [[ "$base" == *@* ]] && clients="${base#*@}"
  # Each client on a connection of its own, as each agent of a cluster has its own.
  args=(--workload "${base%@*}" --clients "$clients" --conns "$clients" --ops 100000000
        --seconds "${RUN_SECONDS:-3}")
  # Watch delivery: one writer's sequential puts, each timed to its event on one watcher.
  [ "$w" = watch ] && args=(--workload watch --clients 1 --conns 1 --ops 100000000
                            --seconds "${RUN_SECONDS:-3}")
  names="etcd mgmt"
  [ "$w" = put@1 ] && names="etcd mgmt$floors"
  for r in $(seq 1 "$rounds"); do
    for name in $names; do
      eps=$([ "$name" = etcd ] && echo "$etcd_eps" || echo "$ours_eps")
      [[ "$name" == floor-* ]] && eps="${floor_eps[$name]}"
      [[ "$w" == follower-* ]] && eps="${eps#*,}"  # the leader was first
      line=$("$loadgen" --endpoints "$eps" "${args[@]}")
      ops[$name/$w]+="$(echo "$line" | awk '{print $6}') "
      p99s[$name/$w]+="$(echo "$line" | awk '{print $12}') "
    done
  done
  for name in $names; do
    printf "%-10s %-17s ops/s %s| p99 ms %s\n" "$name" "$w" "${ops[$name/$w]}" "${p99s[$name/$w]}"
  done
done
echo "== ratios ours/etcd, medians of $rounds rounds (throughput: above 1 is better; p99: below 1 is better)"
echo "   paired: the median of each round's own ratio (etcd and ours ran back to back), with the"
echo "   lowest and highest; it cancels the machine's drift over a run better than the ratio of"
echo "   the medians"
paired() {  # paired "etcd values" "our values": median, min and max of ours/etcd per round
  paste <(echo "$1" | tr ' ' '\n' | grep .) <(echo "$2" | tr ' ' '\n' | grep .) |
    awk '$1 > 0 { print $2 / $1 }' | sort -g |
    awk '{a[NR]=$1} END {printf "%.2fx [%.2f-%.2f]", a[int((NR+1)/2)], a[1], a[NR]}'
}
for w in $workloads; do
  et=$(echo "${ops[etcd/$w]}" | median); mt=$(echo "${ops[mgmt/$w]}" | median)
  ep=$(echo "${p99s[etcd/$w]}" | median); mp=$(echo "${p99s[mgmt/$w]}" | median)
  awk -v w="$w" -v et="$et" -v mt="$mt" -v ep="$ep" -v mp="$mp" 'BEGIN {
    printf "%-17s throughput %.2fx (%.0f vs %.0f ops/s)  p99 %.2fx (%.2f vs %.2f ms)\n",
           w, mt / et, mt, et, mp / ep, mp, ep }'
  printf "%-17s   paired: throughput %s  p99 %s\n" "" \
    "$(paired "${ops[etcd/$w]}" "${ops[mgmt/$w]}")" "$(paired "${p99s[etcd/$w]}" "${p99s[mgmt/$w]}")"
done
if [[ " $workloads " == *" put@1 "* ]]; then
  echo "== sequential puts (put@1) as a share of the disk's synced appends ($disk_rate/s), medians"
  for name in etcd mgmt$floors; do
    awk -v n="$name" -v p="$(echo "${ops[$name/put@1]}" | median)" -v d="$disk_rate" \
      'BEGIN { printf "%-10s %.0f puts/s = %.0f%%\n", n, p, 100 * p / d }'
  done
  if [ -n "$floors" ]; then
    echo "== put@1 against the RPC floors (rpc_floor: a server plus one synced write per put,"
    echo "   nothing else): floor-grpc/etcd is the highest ratio any gRPC C++ store reaches in this"
    echo "   run, floor-ours/etcd the highest our server allows; ours/floor-ours is what Raft, the"
    echo "   state and the apply leave of it"
    for name in $floors; do
      printf "%s/etcd %s   ours/%s %s\n" "$name" \
        "$(paired "${ops[etcd/put@1]}" "${ops[$name/put@1]}")" "$name" \
        "$(paired "${ops[$name/put@1]}" "${ops[mgmt/put@1]}")"
    done
  fi
fi
# Last, on stores the load generator already used: its 60 s of writes left etcd's reads about
# half as fast as on a fresh store, which doubled the read ratios when it ran first.
for name in etcd mgmt; do
  [ "${CHECK_PERF:-1}" = 1 ] || break
  eps=$([ "$name" = etcd ] && echo "$etcd_eps" || echo "$ours_eps")
  echo "== $name ($members member(s): $eps): etcdctl check perf --load=$load"
  etcdctl --endpoints="$eps" check perf --load="$load" 2>&1 | tr "\r" "\n" |
    grep -E "PASS|FAIL" || true
done
