#!/usr/bin/env bash
# compat-npm.sh: the npm `etcd3` client (the one Node.js programs use) runs tools/compat-npm/
# check.js against Debian's etcd 3.4 and against an agent's store (`mgmt run`), both on
# loopback, and the outputs are compared: they must be identical. Needs node and npm, and the
# npm registry (etcd3 is installed into a temporary directory), so it is its own command and
# not part of tools/test.sh. Usage: tools/compat-npm.sh [build/mgmt]
set -euo pipefail
cd "$(dirname "$0")/.."
mgmt="${1:-build/mgmt}"
command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "compat-npm: needs node and npm (apt-get install nodejs npm)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "compat-npm: needs Debian's etcd (apt-get install etcd-server)" >&2; exit 1; }
[ -x "$mgmt" ] || { echo "compat-npm: no $mgmt; build first (tools/build.sh)" >&2; exit 1; }
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
echo "compat-npm: installing etcd3 from the npm registry"
(cd "$work" && npm install --silent --no-audit --no-fund etcd3@1 >/dev/null)
cp tools/compat-npm/check.js "$work/"
ec=$(free_port); ep=$(free_port); oc=$(free_port); op=$(free_port)
etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$ec" \
  --advertise-client-urls "http://127.0.0.1:$ec" --listen-peer-urls "http://127.0.0.1:$ep" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ep" \
  --initial-cluster "default=http://127.0.0.1:$ep" >"$work/etcd.log" 2>&1 &
pids+=($!)
"$mgmt" run --tmp-prefix --client-urls "http://127.0.0.1:$oc" --server-urls "http://127.0.0.1:$op" \
  >"$work/mgmt.log" 2>&1 &
pids+=($!)
ready() { timeout 30 bash -c "until grep -q \"$2\" \"$1\"; do sleep 0.1; done"; }
ready "$work/etcd.log" "ready to serve client requests" || { echo "compat-npm: etcd did not start" >&2; exit 1; }
ready "$work/mgmt.log" "serving etcd v3 clients" || { echo "compat-npm: mgmt did not start" >&2; exit 1; }
(cd "$work" && timeout 120 node check.js "127.0.0.1:$ec") >"$work/etcd.out" 2>&1 || true
(cd "$work" && timeout 120 node check.js "127.0.0.1:$oc") >"$work/ours.out" 2>&1 || true
lines=$(wc -l <"$work/etcd.out")
if diff -u "$work/etcd.out" "$work/ours.out"; then
  echo "compat-npm: the same $lines lines from etcd 3.4 and from our store"
else
  echo "compat-npm: the outputs differ (above: - etcd 3.4, + ours)" >&2
  exit 1
fi
