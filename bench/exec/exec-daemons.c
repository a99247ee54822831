#include "exec-daemons.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_WAIT_MS 30000
#define STOP_GRACE_MS 15000
#define PROBE_TIMEOUT_S 5

bool bench_find_exe(const char *name, char *out, size_t size)
{
	static const char *const dirs[] = {"/usr/bin", "/usr/local/bin", "/bin"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, size, "%s/%s", dirs[i], name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* HTTP status of GET `path` from the engine on unix socket `sock`, or
 * -errno (reason filled in). HTTP/1.0: the engine closes after answering. */
static int docker_get(const char *sock, const char *path, char *why, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = PROBE_TIMEOUT_S};
	char buf[512];
	int fd, r, code = 0;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		snprintf(why, len, "socket path too long: %s", sock);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(why, len, "socket: %s", strerror(-r));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		snprintf(why, len, "no Docker engine answers on unix://%s: %s", sock, strerror(-r));
		close(fd);
		return r;
	}
	int n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: docker\r\n\r\n", path);
	ssize_t got = n > 0 && n < (int)sizeof(buf) ? send(fd, buf, (size_t)n, MSG_NOSIGNAL) : -1;
	if (got == n)
		got = recv(fd, buf, sizeof(buf) - 1, 0);
	r = got > 0 ? 0 : got == 0 ? -EPROTO : -errno;
	if (r == 0) {
		buf[got] = 0;
		if (sscanf(buf, "HTTP/%*d.%*d %d", &code) != 1)
			r = -EPROTO;
	}
	close(fd);
	if (r < 0) {
		snprintf(why, len, "Docker engine on unix://%s: GET %s: %s", sock, path,
			 strerror(-r));
		return r;
	}
	return code;
}

/* 0 when the docker backend can run here; else -errno and why not. The
 * daemon reads the same DOCKER_HOST and SANDBOX_DOCKER_IMAGE. */
static int docker_probe(const char **image, char *why, size_t len)
{
	const char *host = getenv("DOCKER_HOST");
	const char *sock = "/var/run/docker.sock";
	char path[512];
	*image = getenv("SANDBOX_DOCKER_IMAGE");
	if (!*image || !**image)
		*image = BENCH_DOCKER_IMAGE;
	if (host && *host) {
		if (strncmp(host, "unix://", 7) != 0) {
			snprintf(why, len, "DOCKER_HOST %s is not a unix:// socket", host);
			return -EINVAL;
		}
		sock = host + 7;
	}
	int code = docker_get(sock, "/version", why, len);
	if (code >= 0 && code != 200) {
		snprintf(why, len, "the engine on unix://%s answers %d to /version", sock, code);
		return -EPROTO;
	}
	if (code < 0)
		return code;
	snprintf(path, sizeof(path), "/images/%s/json", *image);
	code = docker_get(sock, path, why, len);
	if (code == 404) {
		snprintf(why, len, "image %s is missing (make base-image builds it)", *image);
		return -ENOENT;
	}
	if (code >= 0 && code != 200) {
		snprintf(why, len, "the engine answers %d to GET %.200s", code, path);
		return -EPROTO;
	}
	return code < 0 ? code : 0;
}

/* The binary a runner backend execs: `env` when set (a path, or a name
 * looked up as bench_find_exe does), else `name`. The daemon looks on its
 * PATH; its own refusal at start-up is the last word. */
static int binary_probe(const char *env, const char *name, const char **ret_path, char *why,
			size_t len)
{
	static char path[2][PATH_MAX];
	char *out = path[strcmp(name, "runsc") == 0];
	const char *want = env ? getenv(env) : NULL;

	if (!want || !*want)
		want = name;
	if (strchr(want, '/')
		    ? snprintf(out, PATH_MAX, "%s", want) < PATH_MAX && access(out, X_OK) == 0
		    : bench_find_exe(want, out, PATH_MAX)) {
		*ret_path = out;
		return 0;
	}
	snprintf(why, len, "%s not found%s", want,
		 strchr(want, '/') ? "" : " in /usr/bin, /usr/local/bin or /bin");
	return -ENOENT;
}

int bench_backend_probe(const char *name, const char **ret_detail, char *why, size_t len)
{
	if (strcmp(name, "docker") == 0)
		return docker_probe(ret_detail, why, len);
	if (strcmp(name, "nsjail") == 0)
		return binary_probe("SANDBOX_NSJAIL_PATH", "nsjail", ret_detail, why, len);
	if (strcmp(name, "gvisor") == 0)
		return binary_probe(NULL, "runsc", ret_detail, why, len);
	snprintf(why, len, "no such backend: %s", name);
	return -EINVAL;
}

/* Start `sandboxd` --warm-pool WARM[0] --warm-pool-python WARM[1]
 * --warm-pool-node WARM[2] [--backend BACKEND] on DIR/TAG-*.sock and DIR/TAG-state and connect to
 * it. -ECHILD when it exited at start-up (why filled in). */
int bench_daemon_start(struct bench_daemon *d, const char *sandboxd, const char *dir,
		       const char *tag, const char *backend, const int warm[3], char *why,
		       size_t len)
{
	char pool[3][16];
	for (int i = 0; i < 3; i++)
		snprintf(pool[i], sizeof(pool[i]), "%d", warm[i]);
	snprintf(d->rpc, sizeof(d->rpc), "ipc://%s/%s-rpc.sock", dir, tag);
	snprintf(d->events, sizeof(d->events), "ipc://%s/%s-events.sock", dir, tag);
	snprintf(d->state, sizeof(d->state), "%s/%s-state", dir, tag);
	/* clang-format off */
	char *argv[] = {
		(char *)sandboxd,
		"--rpc", d->rpc,
		"--events", d->events,
		"--state-dir", d->state,
		"--max-concurrent", "8", /* so 8 callers run at once */
		"--log-level", "warn",
		"--warm-pool", pool[0],
		"--warm-pool-python", pool[1],
		"--warm-pool-node", pool[2],
		backend ? "--backend" : NULL, (char *)backend,
		NULL,
	};
	/* clang-format on */
	int r = bench_proc_spawn(&d->proc, tag, argv);
	if (r < 0) {
		snprintf(why, len, "cannot start %s: %s", sandboxd, strerror(-r));
		return r;
	}
	struct sbx_client_opts co = {.rpc_url = d->rpc};
	r = sbx_client_open(&co, &d->client);
	if (r < 0) {
		snprintf(why, len, "cannot connect to %.200s: %s", d->rpc, strerror(-r));
		return r;
	}
	/* Poll, so a daemon that gives up at start-up is seen at once. */
	const struct timespec tick = {.tv_nsec = 10 * 1000 * 1000};
	for (int waited = 0; !sbx_client_connected(d->client); waited += 10) {
		if (!bench_proc_running(&d->proc)) {
			char st[64];
			snprintf(why, len,
				 "sandboxd%s%s exited at start-up (%s; its error is above)",
				 backend ? " --backend " : "", backend ? backend : "",
				 bench_proc_describe(&d->proc, st, sizeof(st)));
			return -ECHILD;
		}
		if (waited >= CONNECT_WAIT_MS) {
			snprintf(why, len, "cannot connect to sandboxd at %.200s", d->rpc);
			return -ETIMEDOUT;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}

void bench_daemon_stop(struct bench_daemon *d)
{
	sbx_client_close(d->client);
	d->client = NULL;
	if (bench_proc_stop(&d->proc, STOP_GRACE_MS) == -ETIMEDOUT)
		fprintf(stderr, "bench-exec: %s sandboxd had to be killed\n", d->proc.name);
}
