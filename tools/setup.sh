#!/usr/bin/env bash
# setup.sh: install the build dependencies from Debian 12's packages, and with --for-tests also
# what the tests run against (Debian's etcd and etcdctl, systemd-analyze, puppet for the puppet
# frontends), and with --with-puppet puppet alone. Idempotent and quick
# when everything is present (it asks dpkg first and only calls apt-get for what is missing).
# Needs root or sudo for the install step.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libboost-system-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev nlohmann-json3-dev catch2 libcli11-dev libspdlog-dev libfmt-dev
  libyaml-cpp-dev libgit2-dev libsystemd-dev libexpected-dev libjemalloc-dev libssl-dev procps
  libnghttp2-dev
)
for_tests=0
if [ "${1:-}" = "--for-tests" ]; then
  for_tests=1
  packages+=(etcd-client etcd-server systemd iproute2 golang-go golang-etcd-server-dev
             puppet-agent)
fi
# --with-puppet: what an agent needs for the puppet frontends (tools/run.sh puppet ...).
if [ "${1:-}" = "--with-puppet" ]; then
  packages+=(puppet-agent)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install packages; run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts an etcd service when etcd-server is installed on a machine run by systemd; it
# would hold 127.0.0.1:2379, where `mgmt run` serves by default. The tests start their own etcd.
if [ "$for_tests" = 1 ] && printf '%s\n' "${missing[@]}" | grep -qx etcd-server &&
   command -v systemctl >/dev/null && systemctl is-active --quiet etcd 2>/dev/null; then
  "${sudo_cmd[@]}" systemctl disable --now etcd >/dev/null 2>&1 || true
  echo "setup: stopped and disabled the etcd service Debian started (tests run their own; it held port 2379)"
fi
# Likewise Debian starts puppet's own agent, which would ask a puppet server named `puppet` for
# catalogs every 30 minutes (and apply them); mgmt only uses puppet to compile manifests.
if printf '%s\n' "${missing[@]}" | grep -qx puppet-agent &&
   command -v systemctl >/dev/null && systemctl is-enabled --quiet puppet 2>/dev/null; then
  "${sudo_cmd[@]}" systemctl disable --now puppet >/dev/null 2>&1 || true
  echo "setup: stopped and disabled the puppet agent service Debian started"
fi
echo "setup: done"
