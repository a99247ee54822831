#!/usr/bin/env bash
# `make swarm-test`: cluster mode (3 sandboxd nodes, 2 gateways) on Docker,
# from nothing to a node killed and back, then torn down.
#
#  1. installs docker.io, docker-compose and jq when missing, starts dockerd
#     when no engine answers (and stops it at the end);
#  2. builds debian:bookworm-slim where no registry answers, then the
#     sandboxd and sandbox-gateway images;
#  3. Swarm: `docker swarm init` (when this engine is in none), the cluster
#     key as a Swarm secret, `docker stack deploy -c deploy/swarm/stack.yml`,
#     and one /run through the published port. Where the engine cannot
#     grant sandboxd what it needs (Debian's Engine 20.10 cannot: no
#     devices, no seccomp option for services; see
#     README.md, "Cluster") it prints exactly what failed,
#     removes the stack, leaves the swarm and goes on with
#  4. compose: `docker-compose up --scale sandboxd=3 --scale
#     sandbox-gateway=2` (docker-compose.yml; gateways on PORT and PORT+1);
#  5. on whichever runs: the README's curl examples through the published
#     port (health, /run, /execute, /api/v1/execute, /languages, sandboxes
#     created and executed, a session, a deployment reached through
#     /faas/{id}/ from both gateways), runs spread over >= 2 nodes (every
#     result names its node), merged lists; then one node killed (Swarm:
#     `docker kill` of its task; compose: SIGKILL of its process, as
#     `docker kill` counts as a manual stop that compose's restart policy
#     honours): /run keeps succeeding, other nodes' objects answer, and the
#     killed node's objects answer again once the engine has restarted it
#     (same slot or container, same state volume, same node id);
#  6. removes everything it made and prints the total time.
#
#   SWARM_TEST_MODE=auto|swarm|compose   auto (default): Swarm, else compose
#   SWARM_TEST_PORT=18070                first gateway port
#   SWARM_TEST_DISK_LIMIT_MB=0           disk limits off in the stack (Swarm
#                                        grants no loop devices)
#
# Exit: 0 passed, 1 a check failed, 77 Docker cannot run here.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

MODE=${SWARM_TEST_MODE:-auto}
PORT=${SWARM_TEST_PORT:-18070}
LOG_DIR=${LOG_DIR:-/tmp/sandboxd-swarm-test}
STACK=sbxswarmtest
SECRET=${STACK}_cluster_key
export COMPOSE_PROJECT_NAME=sbx-swarm-test
mkdir -p "$LOG_DIR"
t0=$(date +%s)
failed=0
ran=""          # swarm | compose: the path the checks ran on
swarm_inited=0  # this test made the swarm, so it leaves it

say() { printf 'swarm-test: %s\n' "$*"; }
. tests/compose/docker-env.sh
. tests/swarm/checks.sh

# --- Swarm -----------------------------------------------------------------

swarm_down() {
	docker stack rm "$STACK" >/dev/null 2>&1 || true
	for _ in $(seq 1 60); do
		[ -z "$(docker ps -aq -f "label=com.docker.stack.namespace=$STACK")" ] && break
		sleep 1
	done
	local v
	for v in $(docker volume ls -q -f "name=sandboxd-state-${STACK}_"); do
		docker volume rm "$v" >/dev/null 2>&1 || say "cannot remove volume $v"
	done
	docker secret rm "$SECRET" >/dev/null 2>&1 || true
	if [ $swarm_inited = 1 ]; then
		docker swarm leave --force >/dev/null 2>&1 && say "left the swarm"
		swarm_inited=0
	fi
}

# GET/POST through a gateway task's own loopback (not the published port).
in_gateway() {
	local g
	g=$(docker ps -q -f "label=com.docker.swarm.service.name=${STACK}_sandbox-gateway" | head -1)
	[ -n "$g" ] && docker exec "$g" curl -s -m 30 "$@"
}

# Why the stack does not serve, or nothing when it does: 3 nodes up, one
# /run answered inside, and through the published port.
swarm_failure() {
	local base=$1 err out up=0
	for _ in $(seq 1 90); do
		err=$(docker service ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' \
			"${STACK}_sandboxd" 2>&1 | grep -m1 -E 'Failed|Rejected')
		if [ -n "$err" ]; then
			printf 'task %s\n' "$err"
			sleep 1
			docker service logs --raw --tail 2 "${STACK}_sandboxd" 2>&1 | sort -u | head -4 |
				sed 's/^/sandboxd said: /'
			return
		fi
		up=$(in_gateway http://127.0.0.1:8070/admin/api/status |
			jq -r '[.nodes[]? | select(.up == true)] | length' 2>/dev/null)
		[ "$up" = 3 ] && break
		sleep 1
	done
	out=$(in_gateway -d '{"command": ["/bin/echo", "probe"]}' http://127.0.0.1:8070/run)
	if [[ "$out" != *'"probe\n"'* ]]; then
		printf 'with %s of 3 nodes up, POST /run (in a gateway task) answered: %s\n' "${up:-0}" "${out:0:400}"
		docker service ps --no-trunc "${STACK}_sandboxd" 2>&1 | head -4
		return
	fi
	for _ in $(seq 1 20); do
		curl -fsS -m 5 "$base/health" >/dev/null 2>&1 && return
		sleep 1
	done
	printf 'the stack runs (3 nodes, /run answered inside a gateway task), but its published port %s\n' "$base"
	printf 'does not answer: %s\n' "$(curl -sS -m 5 "$base/health" 2>&1 | head -1)"
	[ -n "$dockerd_pid" ] && grep -m1 -E 'ipvs|/proc/sys/net/ipv4/vs' "$LOG_DIR/dockerd.log" |
		sed 's/^/dockerd (the routing mesh needs IPVS): /'
}

swarm_try() {
	local state reason
	state=$(docker info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)
	if [ "$state" = inactive ]; then
		docker swarm init --advertise-addr 127.0.0.1 >"$LOG_DIR/swarm-init.log" 2>&1 ||
			{ say "swarm: docker swarm init failed: $(tail -1 "$LOG_DIR/swarm-init.log")"; return 1; }
		swarm_inited=1
	elif [ "$state" != active ]; then
		say "swarm: this engine's swarm is '$state'"
		return 1
	fi
	printf '%s' "$KEY" | docker secret create "$SECRET" - >/dev/null || return 1
	SANDBOX_PORT=$PORT SANDBOXD_CLUSTER_KEY_SECRET=$SECRET SBX_DISK_LIMIT_MB=${SWARM_TEST_DISK_LIMIT_MB:-512} \
		docker stack deploy -c deploy/swarm/stack.yml "$STACK" >"$LOG_DIR/stack-deploy.log" 2>&1 ||
		{ say "swarm: docker stack deploy failed:"; cat "$LOG_DIR/stack-deploy.log"; return 1; }
	grep -i 'ignoring\|unsupported' "$LOG_DIR/stack-deploy.log" | sed 's/^/swarm: docker stack deploy: /'
	say "swarm: stack $STACK deployed; waiting for 3 nodes and one /run"
	reason=$(swarm_failure "http://127.0.0.1:$PORT")
	if [ -n "$reason" ]; then
		say "swarm: Docker Swarm cannot run sandboxd on this engine:"
		printf '%s\n' "$reason" | sed 's/^/    /' | tee "$LOG_DIR/swarm-failure.txt"
		return 1
	fi
	say "swarm: the stack serves"
}

# The container of a sandboxd node (by the node id its Health reports).
swarm_containers() { docker ps -q -f "label=com.docker.swarm.service.name=${STACK}_sandboxd"; }
swarm_kill() { docker kill "$1" >/dev/null; }

# --- compose ---------------------------------------------------------------

compose_containers() { "${compose[@]}" ps -q sandboxd; }
# `docker kill` would count as a manual stop, which restart policies
# honour (the container stays down); a crash is what they restart.
compose_kill() { kill -9 "$(docker inspect -f '{{.State.Pid}}' "$1")"; }

compose_up() {
	say "compose: up --scale sandboxd=3 --scale sandbox-gateway=2"
	SANDBOX_PORT=$CPORT-$((CPORT + 1)) SANDBOX_CLUSTER_KEY=$KEY \
		"${compose[@]}" up -d --no-build --scale sandboxd=3 --scale sandbox-gateway=2 \
		>"$LOG_DIR/compose-up.log" 2>&1 || { cat "$LOG_DIR/compose-up.log"; return 1; }
}

compose_down() {
	[ ${#compose[@]} -gt 0 ] || return 0
	"${compose[@]}" logs --no-color >"$LOG_DIR/compose.log" 2>&1 || true
	"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
}

cleanup() {
	if [ "$ran" != compose ] && [ -n "${KEY:-}" ]; then
		docker service logs --raw "${STACK}_sandboxd" >"$LOG_DIR/swarm-sandboxd.log" 2>&1 || true
		swarm_down
	fi
	compose_down
	dk_stop_engine
}
trap cleanup EXIT

# --- the run ----------------------------------------------------------------

dk_prepare docker-compose jq curl
t_base=$(date +%s)
scripts/base-image.sh || dk_skip "no debian:bookworm-slim image and none can be built"
say "base image ready in $(($(date +%s) - t_base)) s; building the images (log: $LOG_DIR/build.log)"
t_build=$(date +%s)
for img in sandboxd:daemon sandbox-gateway:gateway; do
	if ! docker build -f "docker/Dockerfile.${img#*:}" -t "${img%:*}:latest" --build-arg JOBS="${JOBS:-2}" . \
		>>"$LOG_DIR/build.log" 2>&1; then
		tail -30 "$LOG_DIR/build.log" >&2
		say "FAIL: docker build of ${img%:*}"
		exit 1
	fi
done
say "images built in $(($(date +%s) - t_build)) s"
KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
CPORT=$((PORT + 10))

t_swarm=$(date +%s)
if [ "$MODE" != compose ] && swarm_try; then
	ran=swarm
	run_checks "http://127.0.0.1:$PORT" "http://127.0.0.1:$PORT" swarm_containers swarm_kill
else
	[ "$MODE" = swarm ] && { say "FAIL: SWARM_TEST_MODE=swarm and Swarm cannot run the stack"; exit 1; }
	[ "$MODE" != compose ] && { say "swarm: removing the stack; the compose path is tested instead"; swarm_down; }
	[ "$MODE" != compose ] && say "swarm: the attempt took $(($(date +%s) - t_swarm)) s"
	ran=compose
	t_up=$(date +%s)
	compose_up || { say "FAIL: docker-compose up"; exit 1; }
	say "compose: up in $(($(date +%s) - t_up)) s"
	run_checks "http://127.0.0.1:$CPORT" "http://127.0.0.1:$((CPORT + 1))" compose_containers compose_kill
fi

say "tested path: $ran; total $(($(date +%s) - t0)) s"
if [ $failed -ne 0 ]; then
	say "FAILED (logs in $LOG_DIR)"
	exit 1
fi
say "PASSED"
