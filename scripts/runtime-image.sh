#!/usr/bin/env bash
# Build the docker backend's image (SANDBOX_DOCKER_IMAGE, default
# sandboxd-runtime:latest) from docker/Dockerfile.runtime with the runtimes
# of the same language selection as `make deps`: the fast default set, or
# LANGUAGES=all / a list such as LANGUAGES=java,go (scripts/deps.sh reads
# the same variable and prints the packages), and the host's bun when it
# has one (deps.sh installs it from npm). debian:bookworm-slim comes first
# (scripts/base-image.sh). Docker's layer cache makes an unchanged selection
# quick to rebuild.
#
#   [LANGUAGES=…] scripts/runtime-image.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
image=${SANDBOX_DOCKER_IMAGE:-sandboxd-runtime:latest}
packages=$("$here/deps.sh" --print-language-packages)
"$here/base-image.sh"

ctx=$(mktemp -d /var/tmp/sandboxd-runtime.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$here/../docker/Dockerfile.runtime" "$ctx/Dockerfile"
mkdir "$ctx/extra"
extra=""
if [ -x /usr/bin/bun ]; then
  cp "$(readlink -f /usr/bin/bun)" "$ctx/extra/bun"
  extra=" + bun $(/usr/bin/bun --version)"
fi
echo "runtime-image: building $image with $packages$extra"
if ! docker build -t "$image" --build-arg "PACKAGES=$packages" "$ctx" >"$ctx.log" 2>&1; then
  tail -20 "$ctx.log" >&2
  rm -f "$ctx.log"
  exit 1
fi
rm -f "$ctx.log"
echo "runtime-image: built $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
