#!/usr/bin/env bash
# `make bench`: run every benchmark of a release build and print what they
# measure. Each benchmark starts its own servers on temporary sockets and
# compares against a peer measured in the same run.
#
# usage: scripts/bench.sh BUILD_DIR
# Exit status: non-zero only when a benchmark could not measure (a harness
# failure); a missed target is printed, not fatal.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -d "$1/bin" ]; then
  echo "usage: scripts/bench.sh BUILD_DIR (a build with BUILD_DIR/bin)" >&2
  exit 2
fi
bin=$(cd "$1/bin" && pwd)

failed=()
run() {
  local name=$1
  shift
  printf '\n=== %s ===\n' "$name"
  if [ ! -x "$bin/$name" ]; then
    echo "$name: not built"
    failed+=("$name")
    return
  fi
  "$bin/$name" "$@"
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "$name: harness failure (exit status $rc)"
    failed+=("$name")
  fi
}

run bench-rpc
run bench-http
run bench-proxy
# Optional benchmarks, run when built.
optional=(bench-exec bench-run bench-logs bench-disk bench-cluster)
for name in "${optional[@]}"; do
  if [ -x "$bin/$name" ]; then
    run "$name"
  fi
done

echo
if [ ${#failed[@]} -ne 0 ]; then
  echo "bench: FAILED: ${failed[*]}"
  exit 1
fi
echo "bench: done"
