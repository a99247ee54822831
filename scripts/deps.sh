#!/usr/bin/env bash
# Install the Debian packages sandboxd needs to build, test and run, when
# missing. Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail

# git: OpenSandbox's documented /run example runs `git --version`.
# chromium: tests/admin drives the admin page in it, headless.
# e2fsprogs: mke2fs makes the disk volumes (daemon/volume/).
# clang, libclang-rt-14-dev: the fuzz build (libFuzzer), part of `make test`.
packages=(
  build-essential cmake pkg-config
  protobuf-c-compiler libprotobuf-c-dev
  libnng-dev libmicrohttpd-dev libjansson-dev libseccomp-dev
  uuid-dev libcurl4-openssl-dev libsqlite3-dev
  curl python3 bubblewrap wrk git
  e2fsprogs
  rustc
  clang libclang-rt-14-dev
  chromium
  prometheus  # promtool + a real prometheus: test-integration-http-metrics scrapes /metrics
)
# Runtimes the sandboxes run; node may come from elsewhere (NodeSource).
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# bun (the bun and typescript runtimes) comes from the npm registry; its
# package ships the binary, so no install script is needed. It must land
# under /usr, which sandboxes see read-only.
if [ ! -x /usr/bin/bun ] && [ ! -x /usr/local/bin/bun ]; then
  echo "deps: installing bun from npm"
  $sudo npm install -g --prefix /usr bun@1 >/dev/null
fi
