#!/bin/sh
# Make sure the image debian:bookworm-slim exists in the local Docker engine.
#
# On a normal machine `docker build` pulls it from Docker Hub and this script
# has nothing to do. Where no image registry is reachable (the build machines
# of this project), it builds an equivalent locally: a minimal Debian bookworm
# tree from the Debian mirror apt already uses (debootstrap --variant=minbase),
# imported as a single-layer image under the same name, so the Dockerfiles
# need no change.
#
#   scripts/base-image.sh            build when missing (and no registry answers)
#   scripts/base-image.sh --force    rebuild from debootstrap even if present
#
# Needs root, docker and debootstrap (installed with apt-get when missing).
set -eu

IMAGE=${BASE_IMAGE:-debian:bookworm-slim}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
force=0
[ "${1:-}" = "--force" ] && force=1

if ! docker version >/dev/null 2>&1; then
	echo "base-image: no Docker engine answers (is dockerd running?)" >&2
	exit 1
fi
if [ $force = 0 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
	echo "base-image: $IMAGE is present"
	exit 0
fi
# A registry that answers is the normal case: use the public image.
if [ $force = 0 ] && timeout 60 docker pull "$IMAGE" >/dev/null 2>&1; then
	echo "base-image: pulled $IMAGE"
	exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
	echo "base-image: installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null
fi

dir=$(mktemp -d /var/tmp/bookworm-rootfs.XXXXXX)
trap 'rm -rf "$dir"' EXIT
echo "base-image: no registry; building $IMAGE with debootstrap from $MIRROR (a few minutes)"
debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >"$dir.log" 2>&1 || {
	tail -20 "$dir.log" >&2
	rm -f "$dir.log"
	exit 1
}
rm -f "$dir.log"
# What the official -slim image trims: apt lists and caches, docs, man pages.
rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
	"$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
tar --numeric-owner -C "$dir" -c . |
	docker import --change 'CMD ["bash"]' \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		- "$IMAGE" >/dev/null
echo "base-image: imported $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes)"
