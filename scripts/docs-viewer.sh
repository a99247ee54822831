#!/usr/bin/env bash
# Install GET /docs' viewer: npm ci of gateway/docs/package.json and
# package-lock.json (swagger-ui-dist, pinned) into WORK, then the few files
# the page loads copied into OUT, which the gateway serves (gateway/
# docs_page.c). Run by the build (gateway/CMakeLists.txt); touches STAMP when
# OUT is complete. --ignore-scripts: no install script runs (swagger-ui-dist
# pulls in @scarf/scarf, whose postinstall would report the install over the
# network). Without npm, or when npm ci fails, it says so and exits 0: the
# build goes on, /docs answers 503 saying how to get the viewer, and the next
# build tries again.
#
# Usage: scripts/docs-viewer.sh SRC WORK OUT STAMP
set -euo pipefail
src=$1 work=$2 out=$3 stamp=$4
files=(swagger-ui-bundle.js swagger-ui.css favicon-32x32.png favicon-16x16.png LICENSE NOTICE)

if cmp -s "$src/package-lock.json" "$work/package-lock.json" && [ -f "$out/swagger-ui-bundle.js" ]; then
  touch "$stamp"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "docs-viewer: npm is not installed (make deps): GET /docs will answer 503 until it is" >&2
  exit 0
fi
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$work/"
if ! npm ci --prefix "$work" --ignore-scripts --no-audit --no-fund --loglevel=error \
  >"$work/npm.log" 2>&1; then
  echo "docs-viewer: npm ci failed ($work/npm.log): GET /docs will answer 503 until it works" >&2
  tail -3 "$work/npm.log" >&2 || true
  rm -f "$work/package-lock.json"
  exit 0
fi
pkg="$work/node_modules/swagger-ui-dist"
rm -rf "$out.new"
mkdir -p "$out.new"
for f in "${files[@]}"; do
  if [ -f "$pkg/$f" ]; then
    cp "$pkg/$f" "$out.new/"
  fi
done
rm -rf "$out"
mv "$out.new" "$out"
touch "$stamp"
