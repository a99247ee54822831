#!/usr/bin/env bash
# bench-disk: what a disk limit costs. Two sandboxd in the same run, one
# with disk limits (SANDBOX_DISK_LIMIT_MB, default 512: every session gets
# a loop-mounted ext4 volume) and its peer without (0: plain directories
# on the host's file system, as before disk limits):
#  - CreateSession latency (sandboxctl call, so both include the same
#    process start-up), median of N alternating creates;
#  - write throughput inside a session's sandbox:
#      dd if=/dev/zero of=/workspace/f bs=1M count=200 conv=fsync
#    median of R rounds each, in the volume vs the plain directory.
#
# usage: bench-disk [--creates N] [--rounds R] [--limit-mb MB]
#   (default 30 creates, 5 rounds, 512 MB). Binaries come from the
#   directory of this script ($SBX_BIN_DIR overrides it). Needs root and
#   loop devices.
# Exit status: 0; 1 when the harness could not measure; 2 on bad arguments.
set -uo pipefail

creates=30
rounds=5
limit=512

usage() {
  sed -n 's/^# \{0,1\}//; /^usage:/,/^Exit/p' "$0" | sed '$d'
}

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --creates) creates=$2 ;;
    --rounds) rounds=$2 ;;
    --limit-mb) limit=$2 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift 2 || { usage >&2; exit 2; }
done

bin=${SBX_BIN_DIR:-$(cd "$(dirname "$0")" && pwd)}
if [ "$(id -u)" -ne 0 ] || [ ! -w /dev/loop-control ]; then
  echo "bench-disk: needs root and /dev/loop-control: skipped"
  exit 0
fi
tmp=$(mktemp -d /tmp/bench-disk.XXXXXX)
chmod 711 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

start() { # name limit
  SANDBOX_DISK_LIMIT_MB=$2 MIN_FREE_DISK_MB=0 "$bin/sandboxd" --rpc "ipc://$tmp/$1.sock" \
    --events "ipc://$tmp/$1.ev" --state-dir "$tmp/$1" --max-sessions 100000 \
    --log-level warn >"$tmp/$1.log" 2>&1 &
  pids+=($!)
}
ctl() { # name args...
  local n=$1
  shift
  "$bin/sandboxctl" --rpc "ipc://$tmp/$n.sock" --wait 10000 "$@"
}
now_us() { echo $(($(date +%s%N) / 1000)); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

start limited "$limit"
start plain 0
for n in limited plain; do
  if ! ctl "$n" health >/dev/null; then
    echo "bench-disk: sandboxd ($n) did not start:"
    cat "$tmp/$n.log"
    exit 1
  fi
done

# CreateSession, alternating so that both see the same load.
: >"$tmp/create.limited"
: >"$tmp/create.plain"
for _ in $(seq "$creates"); do
  for n in limited plain; do
    t0=$(now_us)
    ctl "$n" call CreateSession '{}' >/dev/null || { echo "bench-disk: CreateSession failed ($n)"; exit 1; }
    echo $(($(now_us) - t0)) >>"$tmp/create.$n"
  done
done
cl=$(median <"$tmp/create.limited")
cp=$(median <"$tmp/create.plain")

# dd in one session of each, fsync'd so that the figure is the disk's.
sid() { ctl "$1" call CreateSession '{}' | sed -n 's/.*"session_id": "\([^"]*\)".*/\1/p'; }
sl=$(sid limited)
sp=$(sid plain)
dd_rate() { # name session -> MB/s
  ctl "$1" call SessionRun "{\"session_id\": \"$2\", \"limits\": {\"fsize_kb\": 1048576, \"wall_time_ms\": 120000}, \"command\": [\"/bin/sh\", \"-c\", \"dd if=/dev/zero of=/workspace/f bs=1M count=200 conv=fsync 2>&1 | tail -1; rm -f /workspace/f\"]}" |
    sed -n 's/.*"stdout": ".*copied, \([0-9.]*\) s.*/\1/p' | awk '{ if ($1 > 0) printf "%.0f\n", 209.7152 / $1 }'
}
: >"$tmp/dd.limited"
: >"$tmp/dd.plain"
for _ in $(seq "$rounds"); do
  for n in limited plain; do
    s=$sl
    [ "$n" = plain ] && s=$sp
    r=$(dd_rate "$n" "$s")
    [ -n "$r" ] || { echo "bench-disk: dd failed ($n)"; exit 1; }
    echo "$r" >>"$tmp/dd.$n"
  done
done
dl=$(median <"$tmp/dd.limited")
dp=$(median <"$tmp/dd.plain")

printf 'CreateSession (sandboxctl call), median of %d: with a %d MB volume %.1f ms, plain directory %.1f ms (+%.1f ms)\n' \
  "$creates" "$limit" "$(echo "$cl / 1000" | bc -l)" "$(echo "$cp / 1000" | bc -l)" "$(echo "($cl - $cp) / 1000" | bc -l)"
printf 'dd 200 MB, conv=fsync, in a session, median of %d: volume %s MB/s, plain directory %s MB/s (ratio %.2f)\n' \
  "$rounds" "$dl" "$dp" "$(echo "$dl / $dp" | bc -l)"
