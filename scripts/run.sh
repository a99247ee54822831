#!/usr/bin/env bash
# Start sandboxd and sandbox-gateway in the foreground; Ctrl-C (or SIGTERM)
# stops both cleanly. Settings come from the environment (see README).
set -uo pipefail

bin=${1:-build/bin}
rpc=${SANDBOXD_RPC:-ipc:///run/sandboxd/rpc.sock}
events=${SANDBOXD_EVENTS:-ipc:///run/sandboxd/events.sock}
export SANDBOXD_RPC=$rpc SANDBOXD_EVENTS=$events

"$bin/sandboxd" &
daemon=$!
"$bin/sandbox-gateway" &
gateway=$!

stop() {
  kill -TERM "$gateway" "$daemon" 2>/dev/null
  wait "$gateway" "$daemon" 2>/dev/null
  exit 0
}
trap stop INT TERM

# Whichever exits first takes the other down with it.
wait -n "$daemon" "$gateway"
status=$?
kill -TERM "$gateway" "$daemon" 2>/dev/null
wait 2>/dev/null
exit $status
