#!/usr/bin/env bash
# Install the Debian packages sandboxd needs to build, test and run, when
# missing. Idempotent: does nothing (and needs no network) when all are present.
#
# Languages: the default set is the fast one (below); LANGUAGES=all, or a
# list such as LANGUAGES=java,go, adds the other languages' packages
# (`make deps LANGUAGES=all`). CI=true (CI sets it) installs all of them.
#
# scripts/deps.sh --print-language-packages: print the Debian packages of
# that language selection on one line and install nothing (what
# scripts/runtime-image.sh puts into the docker backend's image).
set -euo pipefail

print_only=0
if [ "${1:-}" = "--print-language-packages" ]; then
  print_only=1
elif [ $# -gt 0 ]; then
  echo "usage: [LANGUAGES=…] scripts/deps.sh [--print-language-packages]" >&2
  exit 2
fi

# git: OpenSandbox's documented /run example runs `git --version`.
# chromium: tests/admin drives the admin page in it, headless.
# e2fsprogs: mke2fs makes the disk volumes (daemon/volume/).
# clang, libclang-rt-14-dev: the fuzz build (libFuzzer), part of `make test`.
# libzip-dev: the gateway reads Judge0's additional_files (a zip) in memory.
packages=(
  build-essential cmake pkg-config
  protobuf-c-compiler libprotobuf-c-dev
  libnng-dev libmicrohttpd-dev libjansson-dev libseccomp-dev
  uuid-dev libcurl4-openssl-dev libsqlite3-dev libzip-dev
  libnftables-dev nftables  # NETWORK_MODE=bridge's firewall; nft for the tests' checks
  iproute2  # ip: test-integration-network-bridge's fake hosts (the daemon uses rtnetlink)
  curl python3 bubblewrap wrk git
  e2fsprogs
  clang libclang-rt-14-dev
  chromium
  runsc  # gVisor: SANDBOX_BACKEND=gvisor and test-integration-backend-gvisor
  prometheus  # promtool + a real prometheus: test-integration-http-metrics scrapes /metrics
)
# The languages sandboxes run: the runtimes table's name (a row of
# daemon/exec/runtimes.c) and the Debian package its `.package` names.
# test-exec-runtimes checks that this list and the table agree, so this is
# the one place a language's package is written twice. bun (and typescript
# on it) come from npm, below.
languages=(
  "python python3" "node nodejs" "shell bash" "multifile bash" "rust rustc" "c gcc" "cpp g++"
  "java default-jdk-headless" "go golang-go" "ruby ruby" "php php-cli"
  "perl perl" "lua lua5.4" "csharp mono-mcs" "kotlin kotlin" "scala scala"
  "haskell ghc" "ocaml ocaml-nox" "fortran gfortran" "pascal fp-compiler"
  "cobol gnucobol3" "ada gnat" "d gdc" "r r-base-core" "elixir elixir"
  "erlang erlang-nox" "clojure clojure" "lisp sbcl" "prolog swi-prolog-nox"
  "tcl tcl" "asm nasm" "sql sqlite3"
)
default_languages=",python,node,shell,multifile,rust,c,cpp,"
want="${LANGUAGES:-}"
if [ "${CI:-}" = "true" ]; then
  want=all
fi
known=","
for l in "${languages[@]}"; do
  known+="${l%% *},"
done
for w in ${want//,/ }; do
  if [ "$w" != all ] && [[ "$known" != *",$w,"* ]]; then
    echo "deps: unknown language '$w' in LANGUAGES (all, or some of: ${known:1:-1})" >&2
    exit 2
  fi
done
lang_packages=()
for l in "${languages[@]}"; do
  name="${l%% *}" pkg="${l#* }"
  if [ "$want" != all ] && [[ "$default_languages" != *",$name,"* ]] &&
    [[ ",$want," != *",$name,"* ]]; then
    continue
  fi
  lang_packages+=("$pkg")
  # node may come from elsewhere (NodeSource); npm installs bun.
  if [ "$name" = node ]; then
    command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
    continue
  fi
  packages+=("$pkg")
done

if [ $print_only = 1 ]; then
  echo "${lang_packages[*]}"
  exit 0
fi

# One dpkg-query for all: a package it does not print installed is missing.
installed=" $(dpkg-query -W -f='${Package}:${Status}\n' "${packages[@]}" 2>/dev/null |
  sed -n 's/:install ok installed$//p' | tr '\n' ' ') "
missing=()
for p in "${packages[@]}"; do
  if [[ "$installed" != *" $p "* ]]; then
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
