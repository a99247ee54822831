#!/usr/bin/env bash
# Install the Debian packages sandboxd needs to build, test and run, when
# missing. Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  protobuf-c-compiler libprotobuf-c-dev
  libnng-dev libmicrohttpd-dev libjansson-dev libseccomp-dev
  uuid-dev libcurl4-openssl-dev
  curl python3 bubblewrap wrk
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
