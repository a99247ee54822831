#!/bin/sh
# sandboxd's entry point in its container. Docker hides parts of /proc
# behind mounts (/dev/null over /proc/kcore, tmpfs over /proc/acpi, /proc/sys
# read-only, ...); with any of them in place the kernel refuses a new proc
# mount in a child pid namespace (it would reveal what they hide), and
# every sandbox mounts its own /proc. `docker run --security-opt
# systempaths=unconfined` lifts them, but that is a client-side option the
# Engine API of Debian's docker 20.10 refuses through compose. sandboxd has
# CAP_SYS_ADMIN in its own mount namespace, so it takes them down itself:
# deepest first. The sandboxes still see only their own /proc.
set -e
awk '$5 ~ "^/proc/." { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
	umount -l "$m" 2>/dev/null || echo "sandboxd-entrypoint: cannot unmount $m" >&2
done
exec /usr/local/bin/sandboxd "$@"
