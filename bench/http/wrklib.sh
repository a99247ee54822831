# Shared by the wrk benchmarks (bench-http, bench-run): process cleanup,
# free loopback ports, readiness, one wrk run and medians. Sourced after
# the script has set $tmp (a temporary directory it owns), say() and fail().
# shellcheck shell=bash
# shellcheck disable=SC2154  # tmp, threads, connections: the sourcing script's

pids=()
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  # Bounded: whatever has not exited after 5 s is killed.
  for _ in $(seq 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A loopback port nobody listens on, below the usual ephemeral range so
# that wrk's own connections cannot take it.
used_ports=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      echo "$p"
      return 0
    fi
  done
  return 1
}

# Wait (at most 10 s) until GET /health on port $2 answers 200; $1 names
# the server, $3 is its pid.
wait_ready() {
  local code
  for _ in $(seq 100); do
    kill -0 "$3" 2>/dev/null || fail "$1 exited during start-up"
    code=$(curl -s -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' --max-time 1 \
      "http://127.0.0.1:$2/health")
    if [ "$code" = 200 ]; then
      # wrk reconnects silently, so a server that closes every connection
      # would be measured on TCP handshakes rather than on requests.
      if grep -qi '^connection: *close' "$tmp/headers"; then
        say "WARNING: $1 closes the connection after each response (no keep-alive)"
      fi
      return 0
    fi
    sleep 0.1
  done
  fail "$1 did not answer GET /health with 200 within 10 s (last status ${code:-none})"
}

# One wrk run against http://127.0.0.1:$1$3 for $2 (path $3, default
# /health; extra wrk arguments after it, e.g. -s script.lua); prints
# "req/s p50_us p99_us non2xx socket_errors" or fails.
measure() {
  local out=$tmp/wrk.out port=$1 dur=$2 path=${3:-/health}
  shift 3 2>/dev/null || shift $#
  wrk -t"$threads" -c"$connections" -d"$dur" --latency "$@" "http://127.0.0.1:$port$path" >"$out" 2>&1 ||
    fail "wrk failed: $(tr '\n' ' ' <"$out")"
  awk '
    function us(v) {
      if (v ~ /us$/) return v + 0
      if (v ~ /ms$/) return v * 1000
      if (v ~ /m$/) return v * 60000000
      if (v ~ /s$/) return v * 1000000
      return v + 0
    }
    /^Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
    END {
      if (rps == "" || p50 == "" || p99 == "") exit 1
      printf "%s %.1f %.1f %d %d\n", rps, p50, p99, bad, sock
    }' "$out" || fail "cannot read wrk output: $(tr '\n' ' ' <"$out")"
}

median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

