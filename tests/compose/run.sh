#!/usr/bin/env bash
# `make compose-test`: the docker compose stack from nothing to answering
# the README's curl examples, then torn down.
#
#  1. installs docker.io and docker-compose when missing (Debian packages);
#  2. starts dockerd in the background when no engine answers (log in
#     $LOG_DIR/dockerd.log) and stops it again at the end;
#  3. builds debian:bookworm-slim locally when it is missing and no registry
#     answers (scripts/base-image.sh);
#  4. docker-compose up -d --build, waits for the gateway's health check;
#  5. runs the curl examples against the published port; endpoints that are
#     not served yet (404) are reported as skipped, not failed;
#  6. docker-compose down -v.
#
# Exit: 0 all passed, 1 a check failed, 77 Docker cannot run here.
# Not part of `make test`: from nothing it takes minutes (see README).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

PORT=${COMPOSE_TEST_PORT:-18070}
LOG_DIR=${LOG_DIR:-/tmp/sandboxd-compose-test}
PROJECT=${COMPOSE_PROJECT_NAME:-sandboxd-compose-test}
export COMPOSE_PROJECT_NAME=$PROJECT SANDBOX_PORT=$PORT SANDBOX_BIND=127.0.0.1
mkdir -p "$LOG_DIR"
t0=$(date +%s)
failed=0

say() { printf 'compose-test: %s\n' "$*"; }
. tests/compose/docker-env.sh

cleanup() {
	if [ ${#compose[@]} -gt 0 ]; then
		"${compose[@]}" logs --no-color >"$LOG_DIR/compose.log" 2>&1 || true
		"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
	fi
	dk_stop_engine
}
trap cleanup EXIT

# 1, 2. packages and an engine
dk_prepare docker-compose
# 3. the base image
scripts/base-image.sh || dk_skip "no debian:bookworm-slim image and none can be built"

# 4. the stack
say "building and starting the stack (logs: $LOG_DIR/build.log)"
t_build=$(date +%s)
if ! "${compose[@]}" up -d --build >"$LOG_DIR/build.log" 2>&1; then
	tail -30 "$LOG_DIR/build.log" >&2
	say "FAIL: docker-compose up"
	exit 1
fi
say "built and started in $(($(date +%s) - t_build)) s; waiting for health"
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 90); do
	curl -fsS "$base/health" >/dev/null 2>&1 && break
	sleep 1
done

# 5. the README's examples
check() { # name, expected substring, curl args...
	local name=$1 want=$2 out code
	shift 2
	out=$(curl -sS -m 60 -w '\n%{http_code}' "$@" 2>&1)
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ "$code" = 404 ] && [ "$want" != "404" ]; then
		say "skip  $name: not served (404)"
	elif [[ "$code" = 2* && "$out" == *"$want"* ]]; then
		say "ok    $name: ${out:0:120}"
	else
		say "FAIL  $name: HTTP $code ${out:0:300}"
		failed=1
	fi
}
json=(-H 'Content-Type: application/json')
check "GET /health" '"status"' "$base/health"
check "POST /run (OpenSandbox)" 'Hello from sandbox!' -X POST "${json[@]}" \
	-d '{"command": ["/bin/echo", "Hello from sandbox!"]}' "$base/run"
check "POST /api/v1/execute (executor)" 'Hello from secure sandbox!' -X POST "${json[@]}" \
	-d '{"code": "print(\"Hello from secure sandbox!\")\nprint(2 + 2)", "language": "python", "timeout": 30}' \
	"$base/api/v1/execute"
check "GET /languages (codesandbox)" 'python' "$base/languages"
check "POST /execute (codesandbox)" 'Hello from Rust codesandbox!' -X POST "${json[@]}" \
	-d '{"language": "python", "code": "print(\"Hello from Rust codesandbox!\")", "timeout": 30}' \
	"$base/execute"
# sandbox-service: create, then execute by id.
out=$(curl -sS -m 30 -X POST "${json[@]}" -d '{"runtime": "node", "code": "console.log(\"Hello from Node.js!\")", "timeout_ms": 5000, "memory_limit_mb": 128}' \
	-w '\n%{http_code}' "$base/sandbox" 2>&1)
code=${out##*$'\n'}
id=$(printf '%s' "${out%$'\n'*}" | sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p')
if [ "$code" = 404 ] || [ "$code" = 405 ]; then
	say "skip  POST /sandbox: not served ($code)"
elif [ -n "$id" ]; then
	check "POST /sandbox/{id}/execute" 'Hello from Node.js!' -X POST "$base/sandbox/$id/execute"
else
	say "FAIL  POST /sandbox: HTTP $code ${out:0:300}"
	failed=1
fi
code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST "${json[@]}" -d '{}' "$base/faas/deploy")
if [ "$code" = 404 ] || [ "$code" = 405 ]; then
	say "skip  POST /faas/deploy: not served ($code)"
else
	# Deployed, then reached through the gateway's proxy: the gateway
	# connects to the forwarder socket in the sandboxd container through
	# the node's proxy tunnel (port 7002 on the internal network).
	out=$(curl -sS -m 60 -X POST "${json[@]}" -w '\n%{http_code}' \
		-d '{"runtime": "node", "code": "require(\"http\").createServer((q, s) => s.end(\"hi from \" + q.url)).listen(3000)"}' \
		"$base/faas/deploy" 2>&1)
	dep=$(printf '%s' "${out%$'\n'*}" | sed -n 's/.*"deployment_id" *: *"\([^"]*\)".*/\1/p')
	if [ -n "$dep" ]; then
		say "ok    POST /faas/deploy: ${out:0:120}"
		check "GET /faas/{id}/hello (proxy)" 'hi from /hello' "$base/faas/$dep/hello"
		check "DELETE /faas/deployments/{id}" '' -X DELETE "$base/faas/deployments/$dep"
	else
		say "FAIL  POST /faas/deploy: ${out:0:300}"
		failed=1
	fi
fi

say "total $(($(date +%s) - t0)) s"
if [ $failed -ne 0 ]; then
	say "FAILED (service logs: $LOG_DIR/compose.log)"
	exit 1
fi
say "PASSED"
