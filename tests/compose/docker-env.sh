# Sourced by tests/compose/run.sh and tests/swarm/run.sh: a Docker engine
# and a compose command, from nothing, on Debian.
#
#   dk_prepare PKG...   installs docker.io (and PKG...: docker-compose, jq)
#                       when missing, starts dockerd when no engine answers
#                       and sets `compose` to docker-compose or `docker
#                       compose`; exits 77 where Docker cannot run
#   dk_stop_engine      stops the dockerd dk_prepare started (not one that
#                       was running already; KEEP_DOCKERD=1 keeps it)
#
# The caller defines say() and LOG_DIR.

dockerd_pid=""
compose=()
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

dk_skip() { say "SKIP: $*"; exit 77; }

dk_install() {
	local need=() p
	command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
	for p in "$@"; do
		case $p in
		docker-compose)
			command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 ||
				need+=(docker-compose) ;;
		*) command -v "$p" >/dev/null 2>&1 || need+=("$p") ;;
		esac
	done
	[ ${#need[@]} -eq 0 ] && return 0
	say "installing ${need[*]}"
	$sudo apt-get update -qq >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" \
		>"$LOG_DIR/apt.log" 2>&1 || dk_skip "cannot install ${need[*]} (see $LOG_DIR/apt.log)"
}

dk_start_engine() {
	docker version >/dev/null 2>&1 && return 0
	[ -S /var/run/docker.sock ] && pgrep -x dockerd >/dev/null && dk_skip "dockerd runs but does not answer"
	say "starting dockerd (log: $LOG_DIR/dockerd.log)"
	$sudo dockerd >"$LOG_DIR/dockerd.log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 1 60); do
		docker version >/dev/null 2>&1 && break
		kill -0 "$dockerd_pid" 2>/dev/null || break
		sleep 1
	done
	if ! docker version >/dev/null 2>&1; then
		tail -5 "$LOG_DIR/dockerd.log" >&2
		dockerd_pid=""
		dk_skip "dockerd does not start here (no privileges for it?)"
	fi
}

dk_prepare() {
	dk_install "$@"
	dk_start_engine
	if command -v docker-compose >/dev/null 2>&1; then
		compose=(docker-compose)
	else
		compose=(docker compose)
	fi
	say "engine $(docker version -f '{{.Server.Version}}'), client $(docker version -f '{{.Client.Version}}')," \
		"compose: ${compose[*]} $("${compose[@]}" version --short 2>/dev/null)"
}

dk_stop_engine() {
	[ -n "$dockerd_pid" ] && [ -z "${KEEP_DOCKERD:-}" ] || return 0
	say "stopping the dockerd this test started (pid $dockerd_pid)"
	$sudo kill "$dockerd_pid" 2>/dev/null
	for _ in $(seq 1 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
}
