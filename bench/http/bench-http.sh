#!/usr/bin/env bash
# bench-http: requests/s and latency of the gateway's GET /health (which
# calls sandboxd's Health RPC) against bench-http-ref, a bare libmicrohttpd
# responder in the same threading mode answering the same JSON with no RPC
# behind it. Both are loaded with wrk in the same run, in alternating
# rounds; the figures are medians of rounds and the ratio is
# gateway/reference.
#
# Starts sandboxd, sandbox-gateway and bench-http-ref on free loopback ports
# and temporary ipc:// paths, and stops them at the end.
#
# usage: bench-http [--rounds N] [--duration D] [--threads T] [--connections C]
#   each round is `wrk -tT -cC -dD` against one server (default -t2 -c32
#   -d3s, 5 rounds per server). Binaries come from the directory of this
#   script ($SBX_BIN_DIR overrides it; $SANDBOXD_BIN and
#   $SANDBOX_GATEWAY_BIN override one each).
# Exit status: 0, also when the gateway is not built (skipped) or a target
# is missed; 1 when the harness could not measure; 2 on bad arguments.
set -uo pipefail

target_ratio=0.50
rounds=5
duration=3s
threads=2
connections=32
mhd_threads=4

usage() {
  sed -n 's/^# \{0,1\}//; /^usage:/,/^Exit/p' "$0" | sed '$d'
}

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
  esac
  if [ $# -lt 2 ]; then
    usage >&2
    exit 2
  fi
  case "$1" in
    --rounds) rounds=${2:-}; shift 2 ;;
    --duration) duration=${2:-}; shift 2 ;;
    --threads) threads=${2:-}; shift 2 ;;
    --connections) connections=${2:-}; shift 2 ;;
    *) usage >&2; exit 2 ;;
  esac
done
if ! [[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 && $rounds -le 51 && $duration =~ ^[0-9]+[sm]?$ &&
        $threads =~ ^[0-9]+$ && $connections =~ ^[0-9]+$ && $threads -ge 1 &&
        $connections -ge $threads ]]; then
  usage >&2
  exit 2
fi

bin=${SBX_BIN_DIR:-$(cd "$(dirname "$0")" && pwd)}
sandboxd=${SANDBOXD_BIN:-$bin/sandboxd}
gateway=${SANDBOX_GATEWAY_BIN:-$bin/sandbox-gateway}
ref=$bin/bench-http-ref

say() { printf 'bench-http: %s\n' "$*"; }
fail() { say "$*" >&2; exit 1; }

if [ ! -x "$gateway" ]; then
  say "gateway not built, skipped"
  exit 0
fi
[ -x "$sandboxd" ] || fail "no sandboxd at $sandboxd"
[ -x "$ref" ] || fail "no bench-http-ref at $ref"
command -v wrk >/dev/null || fail "wrk is not installed (apt-get install wrk)"
command -v curl >/dev/null || fail "curl is not installed (apt-get install curl)"

tmp=$(mktemp -d /tmp/bench-http.XXXXXX) || fail "cannot create a temporary directory"
# shellcheck source=bench/http/wrklib.sh
. "$(dirname "$0")/wrklib.sh"

rpc=ipc://$tmp/rpc.sock
events=ipc://$tmp/events.sock
ref_port=$(free_port) || fail "no free port"
gw_port=$(free_port) || fail "no free port"

# Both HTTP servers get the same pool of MHD threads; logs at warn keep
# per-request lines out of the measurement.
"$sandboxd" --rpc "$rpc" --events "$events" --state-dir "$tmp/state" --log-level warn &
daemon_pid=$!
pids+=("$daemon_pid")
"$gateway" --listen "127.0.0.1:$gw_port" --rpc "$rpc" --events "$events" --threads "$mhd_threads" \
  --log-level warn &
gw_pid=$!
pids+=("$gw_pid")
"$ref" --listen "127.0.0.1:$ref_port" --threads "$mhd_threads" &
ref_pid=$!
pids+=("$ref_pid")

wait_ready reference "$ref_port" "$ref_pid"
ref_body=$(cat "$tmp/body")
wait_ready gateway "$gw_port" "$gw_pid"
gw_body=$(cat "$tmp/body")
kill -0 "$daemon_pid" 2>/dev/null || fail "sandboxd exited during start-up"
case "$gw_body" in
  *'"status":"ok"'*) ;;
  *) fail "the gateway's /health body is not a healthy answer: $gw_body" ;;
esac

names=(reference gateway)
ports=("$ref_port" "$gw_port")
say "wrk -t$threads -c$connections -d$duration --latency; $rounds rounds per server, alternating"
say "reference answers: $ref_body"
say "gateway answers:   $gw_body"
for i in 0 1; do
  measure "${ports[$i]}" 1s >/dev/null   # warm-up
done
: >"$tmp/reference.res"
: >"$tmp/gateway.res"
for r in $(seq "$rounds"); do
  for k in 0 1; do
    i=$(((k + r) % 2))
    res=$(measure "${ports[$i]}" "$duration") || exit 1
    echo "$res" >>"$tmp/${names[$i]}.res"
    read -r rps p50 p99 bad sock <<<"$res"
    printf '  round %d  %-9s  %10.0f req/s  p50 %8.1f us  p99 %8.1f us%s\n' "$r" "${names[$i]}" \
      "$rps" "$p50" "$p99" "$([ "$bad$sock" = 00 ] || echo "  ($bad non-2xx, $sock socket errors)")"
  done
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || fail "a server exited during the run"
  done
done

printf '\nbench-http: gateway GET /health vs bare libmicrohttpd reference, medians of %d rounds\n' "$rounds"
printf '  server          req/s    p50 us    p99 us  non-2xx  socket errors\n'
declare -A med
for n in "${names[@]}"; do
  for col in 1 2 3; do
    med[$n.$col]=$(cut -d' ' -f$col "$tmp/$n.res" | median)
  done
  bad=$(awk '{ s += $4 } END { print s + 0 }' "$tmp/$n.res")
  sock=$(awk '{ s += $5 } END { print s + 0 }' "$tmp/$n.res")
  printf '  %-9s  %10.0f  %8.1f  %8.1f  %7d  %13d\n' "$n" "${med[$n.1]}" "${med[$n.2]}" "${med[$n.3]}" \
    "$bad" "$sock"
done
ratio=$(awk -v g="${med[gateway.1]}" -v r="${med[reference.1]}" 'BEGIN { printf "%.2f", g / r }')
p50x=$(awk -v g="${med[gateway.2]}" -v r="${med[reference.2]}" 'BEGIN { printf "%.2f", g / r }')
p99x=$(awk -v g="${med[gateway.3]}" -v r="${med[reference.3]}" 'BEGIN { printf "%.2f", g / r }')
met=$(awk -v x="$ratio" -v t="$target_ratio" 'BEGIN { print (x >= t ? "met" : "MISSED") }')
printf '\n  gateway/reference: req/s %sx (target >= %sx: %s), p50 %sx, p99 %sx\n' "$ratio" \
  "$target_ratio" "$met" "$p50x" "$p99x"
if [ "$(awk '{ s += $4 } END { print s + 0 }' "$tmp/gateway.res")" != 0 ]; then
  say "WARNING: the gateway answered some requests with errors; its req/s is not a fair figure"
fi
exit 0
