#!/bin/sh
# `make k8s-check` (run by `make test`): the manifests in deploy/k8s against
# the Kubernetes API schema, with no cluster (check.mjs says how).
#
# The checker's two npm packages are installed once, pinned, into
# K8S_CHECK_DIR (default build/k8s-check); from then on it runs offline.
# Exit: 0 passed, 1 a manifest failed, 77 the packages cannot be installed
# here (no node/npm, no registry).
set -eu
cd "$(dirname "$0")/../.."
DIR=${K8S_CHECK_DIR:-build/k8s-check}
# kubernetes-models 5.1.0: a current Kubernetes OpenAPI schema (it has
# resource.k8s.io/v1, so 1.34 or later).
PACKAGES="kubernetes-models@5.1.0 yaml@2.9.1"

if ! command -v node >/dev/null 2>&1; then
	echo "k8s-check: SKIP: no node (make deps installs it)"
	exit 77
fi
if [ ! -f "$DIR/.installed" ] || [ "$(cat "$DIR/.installed")" != "$PACKAGES" ]; then
	mkdir -p "$DIR"
	echo "k8s-check: installing $PACKAGES into $DIR (once)"
	[ -f "$DIR/package.json" ] || echo '{"private": true}' >"$DIR/package.json"
	# shellcheck disable=SC2086 # one word per package
	if ! npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error $PACKAGES >"$DIR/npm.log" 2>&1; then
		tail -5 "$DIR/npm.log"
		echo "k8s-check: SKIP: cannot install $PACKAGES (see $DIR/npm.log)"
		exit 77
	fi
	echo "$PACKAGES" >"$DIR/.installed"
fi
# First the checker itself: every broken document of the self-test must
# be reported, or a pass below would mean nothing.
want="0 passed, $(grep -c '^kind:' deploy/k8s/selftest/broken.yaml.txt) failed"
got=$(node deploy/k8s/check.mjs "$DIR" deploy/k8s/selftest/broken.yaml.txt | tail -1) || true
if [ "$got" != "$want" ]; then
	echo "k8s-check: FAIL: the checker's self-test gave '$got', not '$want'"
	exit 1
fi
echo "k8s-check: self-test ok (each broken document reported)"
exec node deploy/k8s/check.mjs "$DIR" deploy/k8s/*.yaml
