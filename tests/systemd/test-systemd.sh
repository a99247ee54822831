#!/bin/sh
# The systemd units as `make install` puts them (deploy/systemd): installed
# into a temporary DESTDIR with another prefix, their paths are that
# prefix's; `systemd-analyze verify` prints nothing about them (with the
# paths pointed into the DESTDIR so ExecStart= finds the built binaries);
# the sysusers.d line parses; the installed sandboxd.env and config.toml
# load; a reinstall keeps an edited configuration file. The units cannot be
# started here when systemd is not PID 1.
# Usage: test-systemd.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1 build=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing: skipped"; exit 77; }
tmp=$(mktemp -d /tmp/test-systemd.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
prefix=/opt/sbx-prefix

# make install, the way the README says (its build step is the caller's).
make -s -C "$src" -o build install BUILD="$build" DESTDIR="$tmp/d" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "make install"; }
cprefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
[ -f "$tmp/d/etc/sandboxd/sandboxd.env" ] || fail "make install DESTDIR: no sandboxd.env"
grep -qx "ExecStart=$cprefix/bin/sandboxd" "$tmp/d$cprefix/lib/systemd/system/sandboxd.service" ||
	fail "make install DESTDIR: no $cprefix/lib/systemd/system/sandboxd.service"

# cmake --install with another prefix: everything under it but /etc.
DESTDIR="$tmp/r" cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "cmake --install"; }
root=$tmp/r
units=$root$prefix/lib/systemd/system
for f in "$units/sandboxd.service" "$units/sandbox-gateway.service" \
	"$root$prefix/lib/sysusers.d/sandboxd.conf" "$root$prefix/bin/sandboxd" \
	"$root$prefix/bin/sbx-spawner" "$root$prefix/bin/sandbox-gateway" \
	"$root$prefix/lib/sandboxd/sbx-gvisor-compat.so" \
	"$root/etc/sandboxd/sandboxd.env" "$root/etc/sandboxd/gateway.env" \
	"$root/etc/sandboxd/config.toml"; do
	[ -f "$f" ] || fail "not installed: $f"
done
grep -qx "ExecStart=$prefix/bin/sandboxd" "$units/sandboxd.service" || fail "sandboxd ExecStart"
grep -qx "ExecStart=$prefix/bin/sandbox-gateway" "$units/sandbox-gateway.service" ||
	fail "gateway ExecStart"
grep -qx "EnvironmentFile=-/etc/sandboxd/gateway.env" "$units/sandbox-gateway.service" ||
	fail "gateway EnvironmentFile"
# Settings that would break sandboxd: a covered /proc (the sandboxes' own
# /proc mount is refused), closed devices (loop devices), a private
# network or user namespace.
if grep -nE '^(ProtectKernelLogs|ProtectKernelTunables|ProtectProc|ProcSubset|PrivateDevices|DeviceAllow|DevicePolicy|ProtectClock|PrivateUsers|PrivateNetwork|RestrictNamespaces)=' \
	"$units/sandboxd.service"; then
	fail "sandboxd.service closes what sandboxd needs"
fi
if grep -n '@SBX_' "$units"/*.service "$root"/etc/sandboxd/*; then fail "unsubstituted"; fi

# systemd-analyze verify: any line it prints is a finding.
mkdir "$tmp/v"
for u in sandboxd.service sandbox-gateway.service; do
	sed -e "s|$prefix/|$root$prefix/|g" -e "s|/etc/sandboxd/|$root/etc/sandboxd/|g" \
		"$units/$u" >"$tmp/v/$u"
done
out=$(cd "$tmp/v" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
	sandboxd.service sandbox-gateway.service 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify printed:
$out"
echo "systemd-analyze verify: clean"
for u in sandbox-gateway sandboxd; do
	systemd-analyze security --offline=yes "$tmp/v/$u.service" 2>&1 | tail -1 | sed "s/^/$u: /"
done

# The sysusers.d line: the group the gateway joins.
if command -v systemd-sysusers >/dev/null; then
	out=$(systemd-sysusers --root="$tmp/sysroot" --dry-run \
		"$root$prefix/lib/sysusers.d/sandboxd.conf" 2>&1) || fail "sysusers: $out"
	echo "$out" | grep -q "group 'sandboxd'" || fail "sysusers did not create group sandboxd: $out"
fi

# The installed configuration loads, and SANDBOX_CONFIG there names the
# config.toml the daemon reads.
envs=$(sed -e '/^#/d' -e '/^$/d' -e "s|=/etc/sandboxd/|=$root/etc/sandboxd/|" \
	"$root/etc/sandboxd/sandboxd.env")
config() {
	# shellcheck disable=SC2086
	env -i PATH="$PATH" $envs "$build/bin/sandboxd" --print-config >"$tmp/config.out" 2>&1 ||
		{ cat "$tmp/config.out"; fail "sandboxd with the installed sandboxd.env"; }
}
config
grep -qx 'sandbox.max_concurrent_sandboxes = 10' "$tmp/config.out" || fail "defaults changed"
printf '[sandbox]\nmax_concurrent_sandboxes = 3\n' >>"$root/etc/sandboxd/config.toml"
config
grep -qx 'sandbox.max_concurrent_sandboxes = 3' "$tmp/config.out" ||
	{ cat "$tmp/config.out"; fail "config.toml not read"; }

# A reinstall keeps the operator's edits.
echo "LOG_LEVEL=debug" >>"$root/etc/sandboxd/sandboxd.env"
DESTDIR="$tmp/r" cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
	fail "cmake --install again"
grep -qx "LOG_LEVEL=debug" "$root/etc/sandboxd/sandboxd.env" || fail "reinstall overwrote sandboxd.env"
echo "ok"
