#!/usr/bin/env bash
# bench-run: isolated runs/s through HTTP, the whole stack: wrk POSTs
# {"command": ["/bin/true"]} to the gateway's /run (the OpenSandbox seed
# route: gateway -> Run RPC -> sandboxd -> a fresh sandbox) over C
# keep-alive connections. Two daemons, each behind its own gateway, are
# loaded in alternating rounds: one with the warm pool off, one with
# --warm-pool N (issue 14). The peer, in the same rounds: C concurrent
# loops of `bwrap --unshare-all --die-with-parent --ro-bind / / /bin/true`
# (no HTTP, no RPC: what the sandboxes alone cost), and C loops of bare
# /bin/true (no sandbox at all: what this host can start, the ceiling of
# any sandbox's runs/s here). Medians of rounds; every non-2xx answer or
# socket error is counted and printed.
#
# usage: bench-run [--rounds N] [--duration SECONDS] [--threads T]
#                  [--connections C] [--warm-pool N]
#   defaults: 3 rounds of 5 s, wrk -t2 -c32, --warm-pool 8. Binaries come
#   from the directory of this script ($SBX_BIN_DIR overrides it).
# Exit status: 0, also when a target is missed or the gateway or bwrap is
# missing (skipped); 1 when the harness could not measure; 2 on bad
# arguments.
set -uo pipefail

target_rps=700
rounds=3
duration=5
threads=2
connections=32
warm=8

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
    --warm-pool) warm=${2:-}; shift 2 ;;
    *) usage >&2; exit 2 ;;
  esac
done
if ! [[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 && $rounds -le 51 && $duration =~ ^[0-9]+$ &&
        $duration -ge 1 && $threads =~ ^[0-9]+$ && $connections =~ ^[0-9]+$ &&
        $threads -ge 1 && $connections -ge $threads && $connections -le 256 &&
        $warm =~ ^[0-9]+$ && $warm -ge 1 && $warm -le 64 ]]; then
  usage >&2
  exit 2
fi

bin=${SBX_BIN_DIR:-$(cd "$(dirname "$0")" && pwd)}
sandboxd=$bin/sandboxd
gateway=$bin/sandbox-gateway

say() { printf 'bench-run: %s\n' "$*"; }
fail() { say "$*" >&2; exit 1; }

if [ ! -x "$gateway" ]; then
  say "gateway not built, skipped"
  exit 0
fi
[ -x "$sandboxd" ] || fail "no sandboxd at $sandboxd"
command -v wrk >/dev/null || fail "wrk is not installed (apt-get install wrk)"
command -v curl >/dev/null || fail "curl is not installed (apt-get install curl)"
bwrap=$(command -v bwrap) || { say "bwrap is not installed, skipped"; exit 0; }

tmp=$(mktemp -d /tmp/bench-run.XXXXXX) || fail "cannot create a temporary directory"
chmod 711 "$tmp" # the daemons check that a gateway could reach their proxy dirs
# shellcheck source=bench/http/wrklib.sh
. "$(dirname "$0")/wrklib.sh"

cat >"$tmp/run.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"command": ["/bin/true"]}'
wrk.headers["Content-Type"] = "application/json"
EOF

# One daemon and its gateway per runner: $1 name, $2 --warm-pool.
names=(cold warm)
declare -A port
start_runner() {
  local dir=$tmp/$1
  mkdir -p "$dir"
  "$sandboxd" --rpc "ipc://$dir/rpc.sock" --events "ipc://$dir/events.sock" \
    --state-dir "$dir/state" --warm-pool "$2" --log-level warn &
  pids+=($!)
  port[$1]=$(free_port) || fail "no free port"
  "$gateway" --listen "127.0.0.1:${port[$1]}" --rpc "ipc://$dir/rpc.sock" \
    --events "ipc://$dir/events.sock" --log-level warn &
  pids+=($!)
  wait_ready "gateway ($1)" "${port[$1]}" "$!"
  local body
  body=$(curl -s --max-time 10 -H 'Content-Type: application/json' \
    -d '{"command": ["/bin/true"]}' "http://127.0.0.1:${port[$1]}/run")
  case "$body" in
    *'"exit_code":0'*) ;;
    *) fail "POST /run on the $1 gateway did not run /bin/true: $body" ;;
  esac
}
start_runner cold 0
start_runner warm "$warm"

# A peer: $connections loops of a command for $1 seconds; prints runs/s.
peer_rate() {
  local secs=$1 name=$2 end i
  shift 2
  # Microseconds, with no process per check: the loops run only the peer.
  end=$((${EPOCHREALTIME/./} + secs * 1000000))
  for i in $(seq "$connections"); do
    (
      n=0
      while ((${EPOCHREALTIME/./} < end)); do
        "$@" || exit 1
        n=$((n + 1))
      done
      echo "$n"
    ) >"$tmp/$name.$i" &
  done
  wait
  cat "$tmp/$name".[0-9]* | awk -v d="$secs" '{ s += $1 } END { printf "%.1f\n", s / d }'
}
declare -A peer_cmd=([bwrap]="$bwrap --unshare-all --die-with-parent --ro-bind / / /bin/true"
  [bare]="/bin/true")

say "POST /run {\"command\": [\"/bin/true\"]}: wrk -t$threads -c$connections -d${duration}s per runner;"
say "  peers: $connections loops of bwrap --unshare-all /bin/true, and of bare /bin/true;"
say "  $rounds rounds, alternating"
for n in "${names[@]}"; do
  measure "${port[$n]}" 1s /run -s "$tmp/run.lua" >/dev/null # warm-up
  : >"$tmp/$n.res"
done
: >"$tmp/bwrap.res"
: >"$tmp/bare.res"
for r in $(seq "$rounds"); do
  for k in 0 1 2 3; do
    case $(((k + r) % 4)) in
      0) n=cold ;;
      1) n=warm ;;
      2) n=bwrap ;;
      3) n=bare ;;
    esac
    if [ -n "${peer_cmd[$n]:-}" ]; then
      # shellcheck disable=SC2086 # the command's words
      rps=$(peer_rate "$duration" "$n" ${peer_cmd[$n]}) || fail "$n failed"
      echo "$rps" >>"$tmp/$n.res"
      printf '  round %d  %-5s  %8.1f runs/s\n' "$r" "$n" "$rps"
      continue
    fi
    res=$(measure "${port[$n]}" "${duration}s" /run -s "$tmp/run.lua") || exit 1
    echo "$res" >>"$tmp/$n.res"
    read -r rps p50 p99 bad sock <<<"$res"
    printf '  round %d  %-5s  %8.1f runs/s  p50 %8.1f ms  p99 %8.1f ms%s\n' "$r" "$n" "$rps" \
      "$(awk -v v="$p50" 'BEGIN { print v / 1000 }')" "$(awk -v v="$p99" 'BEGIN { print v / 1000 }')" \
      "$([ "$bad$sock" = 00 ] || echo "  ($bad non-2xx, $sock socket errors)")"
  done
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || fail "a server exited during the run"
  done
done

printf '\nbench-run: POST /run of /bin/true, -c%d, medians of %d rounds\n' "$connections" "$rounds"
printf '  runner                       runs/s   p50 ms   p99 ms  non-2xx  socket errors\n'
declare -A med
for n in "${names[@]}"; do
  for col in 1 2 3; do
    med[$n.$col]=$(cut -d' ' -f$col "$tmp/$n.res" | median)
  done
  printf '  %-26s  %7.1f  %7.2f  %7.2f  %7d  %13d\n' \
    "$n ($([ "$n" = warm ] && echo "--warm-pool $warm" || echo "pool off"))" "${med[$n.1]}" \
    "$(awk -v v="${med[$n.2]}" 'BEGIN { print v / 1000 }')" \
    "$(awk -v v="${med[$n.3]}" 'BEGIN { print v / 1000 }')" \
    "$(awk '{ s += $4 } END { print s + 0 }' "$tmp/$n.res")" \
    "$(awk '{ s += $5 } END { print s + 0 }' "$tmp/$n.res")"
done
med[bwrap]=$(median <"$tmp/bwrap.res")
med[bare]=$(median <"$tmp/bare.res")
printf '  %-26s  %7.1f\n' "bwrap x$connections (no HTTP)" "${med[bwrap]}"
printf '  %-26s  %7.1f   (no sandbox: the ceiling here)\n' "bare /bin/true x$connections" \
  "${med[bare]}"
for n in "${names[@]}"; do
  ratio=$(awk -v a="${med[$n.1]}" -v b="${med[bwrap]}" 'BEGIN { printf "%.2f", a / b }')
  errs=$(awk '{ s += $4 + $5 } END { print s + 0 }' "$tmp/$n.res")
  met=$(awk -v a="${med[$n.1]}" -v t="$target_rps" -v e="$errs" \
    'BEGIN { print (a >= t && e == 0 ? "met" : "MISSED") }')
  printf '  %s: %sx bwrap; target >= %d runs/s with zero errors: %s\n' "$n" "$ratio" "$target_rps" \
    "$met"
done
exit 0
