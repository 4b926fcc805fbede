#!/usr/bin/env bash
# fuzz.sh: runs the libFuzzer targets (the mcl and yaml frontends, the puppet catalog
# translation, the store's WAL tail check, the snapshot file and state dump that mgmt restore
# reads, the KV and Lease requests a client sends, through the path a member serves them, the
# Raft codec that reads peer messages, the Raft
# core stepping messages from peers that lie, the gRPC framing of the client port and its server
# on nghttp2 taking a connection's bytes, and our gRPC client taking a server's bytes) for a
# bounded time each, with AddressSanitizer and UBSan, seeded with our own test programs. A soak,
# not a test: it builds its own tree (build-fuzz/, clang) and stops by itself. A crash leaves its
# input in build-fuzz/crashes/ and makes the script fail, naming it.
# Usage: tools/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
bash tools/setup.sh >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang >/dev/null
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DMGMT_BUILD_TESTS=OFF \
  -DMGMT_BUILD_FUZZERS=ON -DMGMT_SANITIZE="address;undefined" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target lang_fuzzer yaml_fuzzer puppet_catalog_fuzzer wal_tail_fuzzer \
  snapshot_fuzzer request_fuzzer raft_codec_fuzzer raft_node_fuzzer grpc_wire_fuzzer \
  rpc_connection_fuzzer rpc_client_fuzzer
targets="lang yaml puppet_catalog wal_tail snapshot request raft_codec raft_node grpc_wire
  rpc_connection rpc_client"
mkdir -p build-fuzz/crashes
for target in $targets; do mkdir -p "build-fuzz/corpus/$target"; done
# Seeds: the main.mcl of every txtar case we keep, and the yaml examples.
for f in test/frontends/lang/testdata/*.txtar; do
  awk '/^-- main.mcl --$/{on=1; next} /^-- .* --$/{on=0} on' "$f" \
    >"build-fuzz/corpus/lang/$(basename "$f" .txtar).mcl"
done
cp docs/examples/*.yaml build-fuzz/corpus/yaml/ 2>/dev/null || true
# The puppet examples' catalogs, as our compiler writes them (when puppet is installed).
for f in docs/examples/*.pp; do
  ruby -e "$(cat frontends/puppet/compile_catalog.rb)" -- "$f" 2>/dev/null |
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["catalog"]))' \
      >"build-fuzz/corpus/puppet_catalog/$(basename "$f" .pp).json" 2>/dev/null || true
done
# gRPC: two framed messages (limit 256 bytes), and a Put's and a Watch's request as DATA frames
# on the calls rpc_connection_fuzzer opens (its first byte: 1 the unary call, 2 the bidi one).
printf '\x01\x00\x12\x34\x56\x78\x00\x00\x00\x00\x03\x0a\x01\x6b\x00\x00\x00\x00\x00' \
  >build-fuzz/corpus/grpc_wire/two_messages
printf '\x01\x00\x00\x08\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x03\x0a\x01\x6b' \
  >build-fuzz/corpus/rpc_connection/unary_put
{ printf '\x02\x00\x00\x05\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00'
  printf '\x00\x00\x00\x00\x01\x00\x00\x00\x03'; } >build-fuzz/corpus/rpc_connection/bidi_watch
# What a server answers rpc_client_fuzzer's calls (its first byte: 1 the unary call on stream 1,
# 2 the bidi one, on stream 3 when both; 8 a SETTINGS ACK; 4 our end stays open): the response
# HEADERS (:status 200, content-type application/grpc, HPACK literals without indexing), a DATA
# frame with a message, and the trailers (grpc-status 0, END_STREAM); on both calls, the bidi
# one gets two messages in one DATA frame and no trailers.
h2_status='\x00\x07:status\x03200\x00\x0ccontent-type\x10application/grpc'
h2_trailers='\x00\x0bgrpc-status\x010'
{ printf '\x09\x00\x00\x2c\x01\x04\x00\x00\x00\x01'"$h2_status"
  printf '\x00\x00\x08\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x03\x0a\x01\x6b'
  printf '\x00\x00\x0f\x01\x05\x00\x00\x00\x01'"$h2_trailers"
} >build-fuzz/corpus/rpc_client/unary_ok
{ printf '\x0f\x00\x00\x2c\x01\x04\x00\x00\x00\x01'"$h2_status"
  printf '\x00\x00\x0f\x01\x05\x00\x00\x00\x01'"$h2_trailers"
  printf '\x00\x00\x2c\x01\x04\x00\x00\x00\x03'"$h2_status"
  printf '\x00\x00\x10\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x03\x0a\x01\x6b'
  printf '\x00\x00\x00\x00\x03\x0a\x01\x6c'; } >build-fuzz/corpus/rpc_client/both_calls
status=0
for target in $targets; do
  echo "fuzz: $target for ${seconds}s"
  if ! "build-fuzz/test/fuzz/${target}_fuzzer" "build-fuzz/corpus/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix=build-fuzz/crashes/ -print_final_stats=1 2>"build-fuzz/$target.log"; then
    echo "fuzz: $target FAILED; see build-fuzz/$target.log and build-fuzz/crashes/" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build-fuzz/$target.log" || true
done
exit "$status"
