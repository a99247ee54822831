#!/bin/sh
# What the units' settings do to the two processes, without systemd (ctest
# test-systemd-emulate; exit 77 without root or mount namespaces): sandboxd in a mount namespace with /usr, /etc and /boot
# read-only, /home and /root closed and /tmp private (ProtectSystem=full,
# ProtectHome, PrivateTmp), no_new_privs, umask 0022 and its sockets
# handed to a group (mode 0660); the gateway as another user (nobody)
# in that group only, no_new_privs. Then an execution and a python run
# through the gateway.
# SBX_EMULATE_EXTRA: a command run as root in sandboxd's mount namespace
# before it starts, to try another setting (a unit setting's mount).
# Usage: emulate.sh BIN_DIR WORK_DIR PORT|free
set -eu
bin=$1 work=$2 port=$3
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "needs root and mount namespaces: skipped"; exit 77
fi
# The gateway runs as nobody: a build under a 0700 directory (/root)
# cannot be its program.
if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$bin/sandbox-gateway"; then
	echo "nobody cannot reach $bin (a 0700 directory on the way): skipped"; exit 77
fi
if [ "$port" = free ]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
gid=47123
rm -rf "$work" && mkdir -p "$work/state" && chmod 0711 "$work" "$work/state"
rpc=ipc://$work/run/rpc.sock events=ipc://$work/run/events.sock
# As systemd does it: RuntimeDirectory= made root:root (it chowns it to
# the unit's User= and Group= before every command it runs, so an
# ExecStartPre=chgrp would not last: seen under systemd-nspawn) with
# RuntimeDirectoryMode= 0755, removed with each start and stop; sandboxd
# hands its sockets to the group itself (SANDBOXD_SOCKET_GROUP).
start_daemon() {
	rm -rf "$work/run" && mkdir "$work/run" && chmod 0755 "$work/run"
	# shellcheck disable=SC2016
	unshare -m --propagation slave sh -c '
		for d in /usr /etc /boot; do
			[ -d $d ] && mount --bind $d $d && mount -o remount,bind,ro $d
		done
		# Not over the test'"'"'s own build and work dirs (a clone under
		# /tmp or /root): those stay visible, the rest is hidden.
		for d in /home /root /tmp /var/tmp; do
			case "$0 $3" in "$d"/* | *" $d"/*) continue ;; esac
			mount -t tmpfs -o mode=000 none $d
		done
		chmod 1777 /tmp /var/tmp
		[ -z "${SBX_EMULATE_EXTRA:-}" ] || sh -c "$SBX_EMULATE_EXTRA"
		umask 0022
		exec setpriv --no-new-privs "$0" --rpc "$1" --events "$2" --state-dir "$3" \
			--socket-group "$4"
	' "$bin/sandboxd" "$rpc" "$events" "$work/state" $gid 2>>"$work/sandboxd.log" &
	daemon=$!
	i=0
	while [ "$(stat -c %g "$work/run/events.sock" 2>/dev/null)" != $gid ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
start_daemon
stat -c '%n %A %U:%g' "$work/run" "$work/run/rpc.sock" "$work/run/events.sock"
setpriv --reuid=65534 --regid=65534 --groups=$gid --no-new-privs "$bin/sandbox-gateway" \
	--listen "127.0.0.1:$port" --rpc "$rpc" --events "$events" 2>"$work/gateway.log" &
gateway=$!
sleep 1
status=0
curl -sS "127.0.0.1:$port/health"; echo
curl -sS -d '{"command":["/bin/echo","hi"]}' "127.0.0.1:$port/run" | tee "$work/run.out"; echo
grep -q '"stdout":"hi\\n"' "$work/run.out" || status=1
curl -sS -d '{"language":"python","code":"print(2 + 2)"}' "127.0.0.1:$port/execute" |
	tee "$work/exec.out"; echo
grep -q '4\\n' "$work/exec.out" || status=1
# A member of the group gets in (sandboxctl's own check), someone outside
# it does not.
setpriv --reuid=65534 --regid=65534 --groups=$gid "$bin/sandboxctl" --rpc "$rpc" health \
	>/dev/null || { echo "a member of the group could not reach the daemon"; status=1; }
if setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/sandboxctl" --rpc "$rpc" health \
	>/dev/null 2>&1; then
	echo "a user outside the group reached the daemon"; status=1
fi
# sandboxd restarts (its socket directory made anew): the same gateway
# reaches it again.
kill -TERM $daemon
wait $daemon || true
start_daemon
i=0
until curl -sS -d '{"command":["/bin/echo","again"]}' "127.0.0.1:$port/run" >"$work/run2.out" 2>&1 &&
	grep -q '"stdout":"again\\n"' "$work/run2.out"; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "gateway did not reach the restarted daemon"; status=1; break; }
	sleep 0.2
done
cat "$work/run2.out"; echo " (after $i retries)"
kill -TERM $gateway $daemon
wait $gateway $daemon || true
echo "--- sandboxd log"; cat "$work/sandboxd.log"
echo "--- gateway log"; cat "$work/gateway.log"
exit $status
