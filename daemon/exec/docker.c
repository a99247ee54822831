#include "docker.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "daemon_config.h"
#include "docker_cg.h"
#include "docker_http.h"
#include "docker_tar.h"
#include "engine.h"
#include "log.h"
#include "sentence.h"

#define SANDBOX_UID 1000
#define SANDBOX_GID 1000
/* The engine refuses smaller memory limits. */
#define MIN_MEMORY_BYTES (6ull << 20)
/* runc's init needs about a dozen descriptors of its own before it execs
 * the program under the container's RLIMIT_NOFILE ("too many open files"
 * below 12): a smaller limit is raised to this one. */
#define MIN_NOFILE 16u
#define TMPFS_KB 65536
/* Calls that only touch the engine's bookkeeping. */
#define CALL_TIMEOUT_MS 30000L
/* Output beyond limits.output_bytes is read and dropped; past this many
 * dropped bytes the container is killed (as native does). */
#define OUTPUT_DRAIN_BYTES (16ull << 20)
/* Beyond the wall-time limit, how long a container may take to stop. */
#define WAIT_GRACE_MS 2000L
/* Largest tar of request files (the RPC layer caps uploads lower). */
#define MAX_ARCHIVE_BYTES (80u << 20)

struct docker {
	char socket[108];
	char *image;
	char describe[192];
	struct sbx_docker_cg cg; /* CPU time and peak memory */
};

enum kill_reason { KILL_NONE, KILL_WALL, KILL_OUTPUT };

/* One execution's state. */
struct run {
	struct docker *d;
	const Sbx__SpawnRequest *req;
	struct sbx_dk_conn conn;
	struct sbx_buf resp;
	char id[80];
	char cg_parent[64]; /* the container's CgroupParent, "" for none */
	bool created;
	/* stream demultiplexing: 8-byte header {stream, 0, 0, 0, size BE32} */
	unsigned char hdr[8];
	size_t n_hdr;
	uint32_t frame_left;
	int frame_stream;
	struct sbx_buf out[2];
	bool truncated[2];
	uint64_t dropped;
	enum kill_reason kill;
	long long t_start, t_end;
	char error[SBX_SENTENCE_MAX];
};

/* The engine's {"message": "..."} of the last response, or "". */
static const char *engine_message(struct run *x, char *buf, size_t len)
{
	json_t *j = x->resp.data ? json_loadb(x->resp.data, x->resp.len, 0, NULL) : NULL;
	const char *m = j ? json_string_value(json_object_get(j, "message")) : NULL;

	snprintf(buf, len, "%s", m ? m : "");
	json_decref(j);
	return buf;
}

/* ---- open / close ---------------------------------------------------- */

int sbx_docker_open(const struct sbx_config *cfg, void **ret_state)
{
	struct sbx_dk_conn c;
	struct sbx_buf resp;
	struct docker *d;
	char path[512];
	json_t *v = NULL;
	long st = 0;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (sbx_dk_socket_path(cfg->docker_host, d->socket, sizeof(d->socket)) < 0) {
		log_error("docker backend: DOCKER_HOST '%s' is not supported (only unix:// sockets "
			  "are)",
			  cfg->docker_host);
		free(d);
		return -EINVAL;
	}
	d->image = strdup(cfg->docker_image);
	if (!d->image || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(d->image);
		free(d);
		return -ENOMEM;
	}
	sbx_buf_init(&resp, SBX_DK_MAX_RESPONSE);
	r = sbx_dk_conn_init(&c, d->socket);
	if (r == 0)
		r = sbx_dk_call(&c, "GET", "/version", NULL, 0, NULL, 10000L, &st, &resp);
	if (r < 0 || st != 200) {
		log_error("docker backend unavailable: no Docker engine answers on unix://%s (%s)",
			  d->socket, r < 0 ? c.errbuf : "unexpected answer to /version");
		r = r < 0 ? r : -EPROTO;
		goto fail;
	}
	v = json_loadb(resp.data, resp.len, 0, NULL);
	snprintf(path, sizeof(path), "/images/%s/json", d->image);
	r = sbx_dk_call(&c, "GET", path, NULL, 0, NULL, 10000L, &st, NULL);
	if (r == 0 && st == 404) {
		log_error("docker backend: image '%s' is missing; build it with `make base-image` "
			  "(scripts/runtime-image.sh, which builds SANDBOX_DOCKER_IMAGE) or set "
			  "SANDBOX_DOCKER_IMAGE",
			  d->image);
		r = -ENOENT;
		goto fail;
	}
	if (r < 0 || st != 200) {
		log_error("docker backend: cannot inspect image '%s' (%s)", d->image,
			  r < 0 ? c.errbuf : "unexpected answer");
		r = r < 0 ? r : -EPROTO;
		goto fail;
	}
	snprintf(d->describe, sizeof(d->describe), "docker (engine %s, image %s)",
		 v && json_string_value(json_object_get(v, "Version"))
			 ? json_string_value(json_object_get(v, "Version"))
			 : "?",
		 d->image);
	json_decref(v);
	v = NULL;
	if (sbx_dk_call(&c, "GET", "/info", NULL, 0, NULL, 10000L, &st, &resp) == 0 && st == 200)
		v = json_loadb(resp.data, resp.len, 0, NULL);
	sbx_docker_cg_open(&d->cg, json_string_value(json_object_get(v, "CgroupDriver")),
			   json_string_value(json_object_get(v, "CgroupVersion")));
	json_decref(v);
	sbx_dk_conn_fini(&c);
	sbx_buf_fini(&resp);
	*ret_state = d;
	return 0;
fail:
	json_decref(v);
	sbx_dk_conn_fini(&c);
	sbx_buf_fini(&resp);
	curl_global_cleanup();
	free(d->image);
	free(d);
	return r;
}

void sbx_docker_close(void *state)
{
	struct docker *d = state;

	if (!d)
		return;
	sbx_docker_cg_close(&d->cg);
	curl_global_cleanup();
	free(d->image);
	free(d);
}

int sbx_docker_own_workspace(void *state, const char *dir)
{
	(void)state;
	return chown(dir, SANDBOX_UID, SANDBOX_GID) < 0 ? -errno : 0;
}

const char *sbx_docker_describe(void *state)
{
	return ((struct docker *)state)->describe;
}

/* ---- the create request ------------------------------------------------ */

static json_t *strv(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *ulimit(const char *name, uint64_t soft, uint64_t hard)
{
	return json_pack("{s:s, s:I, s:I}", "Name", name, "Soft", (json_int_t)soft, "Hard",
			 (json_int_t)hard);
}

static json_t *mount(const char *type, const char *source, const char *target, bool ro)
{
	json_t *m = json_pack("{s:s, s:s, s:b}", "Type", type, "Target", target, "ReadOnly", ro);

	if (m && source && json_object_set_new(m, "Source", json_string(source)) < 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

static json_t *host_config(const Sbx__SpawnRequest *req, const char *cg_parent)
{
	const Sbx__Limits *l = req->limits;
	uint64_t mem =
		l->memory_kb * 1024 < MIN_MEMORY_BYTES ? MIN_MEMORY_BYTES : l->memory_kb * 1024;
	uint64_t cpu_s = (l->cpu_time_ms + 999) / 1000;
	uint64_t nofile = l->nofile < MIN_NOFILE ? MIN_NOFILE : l->nofile;
	json_t *hc, *tmpfs, *mounts, *ulimits;
	char opts[160];
	bool ok;

	/* Init: docker-init (tini) is pid 1, so the program is not: the kernel
	 * does not deliver default-action signals (RLIMIT_CPU's SIGXCPU
	 * among them) to a namespace's init. It counts against PidsLimit. */
	hc = json_pack("{s:I, s:I, s:I, s:s, s:b, s:[s], s:[s], s:{s:s}, s:b, s:s, s:b}", "Memory",
		       (json_int_t)mem, "MemorySwap", (json_int_t)mem, "PidsLimit",
		       (json_int_t)l->pids + 1, "NetworkMode", req->network ? "bridge" : "none",
		       "ReadonlyRootfs", 1, "CapDrop", "ALL", "SecurityOpt", "no-new-privileges",
		       "LogConfig", "Type", "none", "Privileged", 0, "IpcMode", "private", "Init",
		       1);
	/* Our own parent, whose counters outlive the container (docker_cg.h). */
	if (hc && cg_parent[0] &&
	    json_object_set_new(hc, "CgroupParent", json_string(cg_parent)) < 0) {
		json_decref(hc);
		hc = NULL;
	}
	tmpfs = json_object();
	mounts = json_array();
	ulimits = json_array();
	ok = hc && tmpfs && mounts && ulimits;
	if (ok && !req->tmp_dir[0]) {
		snprintf(opts, sizeof(opts), "rw,nosuid,nodev,size=%uk,mode=1777", TMPFS_KB);
		ok = json_object_set_new(tmpfs, "/tmp", json_string(opts)) == 0;
	} else if (ok) {
		ok = json_array_append_new(mounts, mount("bind", req->tmp_dir, "/tmp", false)) == 0;
	}
	if (ok && req->workspace[0]) {
		ok = json_array_append_new(mounts,
					   mount("bind", req->workspace, "/workspace", false)) == 0;
	} else if (ok && req->n_files) {
		/* The archive endpoint writes into volumes and binds, not into a
		 * tmpfs that is only mounted at start: an anonymous volume,
		 * removed with the container (DELETE ?v=1). */
		ok = json_array_append_new(mounts, mount("volume", NULL, "/workspace", false)) == 0;
	} else if (ok) {
		snprintf(opts, sizeof(opts),
			 "rw,exec,nosuid,nodev,size=%uk,uid=%d,gid=%d,mode=0755", TMPFS_KB,
			 SANDBOX_UID, SANDBOX_GID);
		ok = json_object_set_new(tmpfs, "/workspace", json_string(opts)) == 0;
	}
	for (size_t i = 0; ok && i < req->n_binds; i++) {
		const Sbx__BindMount *b = req->binds[i];

		ok = json_array_append_new(mounts,
					   mount("bind", b->source,
						 b->target[0] ? b->target : b->source, true)) == 0;
	}
	ok = ok && json_array_append_new(ulimits, ulimit("nofile", nofile, nofile)) == 0 &&
	     json_array_append_new(ulimits,
				   ulimit("fsize", l->fsize_kb * 1024, l->fsize_kb * 1024)) == 0 &&
	     /* SIGXCPU at the limit, SIGKILL a second later if it is caught. */
	     json_array_append_new(ulimits, ulimit("cpu", cpu_s, cpu_s + 1)) == 0 &&
	     json_array_append_new(ulimits,
				   ulimit("stack", l->stack_kb * 1024, l->stack_kb * 1024)) == 0 &&
	     json_array_append_new(ulimits, ulimit("core", 0, 0)) == 0;
	if (ok && json_object_set_new(hc, "Tmpfs", tmpfs) == 0) {
		tmpfs = NULL;
		ok = json_object_set_new(hc, "Mounts", mounts) == 0;
		mounts = NULL;
		ok = ok && json_object_set_new(hc, "Ulimits", ulimits) == 0;
		ulimits = NULL;
	} else {
		ok = false;
	}
	json_decref(tmpfs);
	json_decref(mounts);
	json_decref(ulimits);
	if (!ok) {
		json_decref(hc);
		return NULL;
	}
	return hc;
}

static char *create_body(const struct docker *d, const Sbx__SpawnRequest *req,
			 const char *cg_parent)
{
	json_t *c, *hc = host_config(req, cg_parent);
	char *s = NULL;

	c = json_pack("{s:s, s:o, s:o, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:{s:s}}",
		      "Image", d->image, "Cmd", strv(req->argv, req->n_argv), "Env",
		      strv(req->env, req->n_env), "WorkingDir",
		      req->cwd[0] ? req->cwd : "/workspace", "User", "1000:1000", "Hostname",
		      "sandbox", "AttachStdin", 1, "AttachStdout", 1, "AttachStderr", 1,
		      "OpenStdin", 1, "StdinOnce", 1, "Tty", 0, "NetworkDisabled", !req->network,
		      "Labels", "sandboxd.execution", req->execution_id);
	if (c && hc && json_object_set_new(c, "HostConfig", hc) == 0) {
		hc = NULL;
		s = json_dumps(c, JSON_COMPACT);
	}
	json_decref(hc);
	json_decref(c);
	return s;
}

/* ---- steps ------------------------------------------------------------- */

static int create(struct run *x)
{
	_cleanup_free_ char *body = NULL;
	char path[128], msg[200];
	json_t *j;
	long st;
	int r;

	sbx_docker_cg_parent(&x->d->cg, x->cg_parent, sizeof(x->cg_parent));
	body = create_body(x->d, x->req, x->cg_parent);
	if (!body)
		return -ENOMEM;
	if (x->req->execution_id[0] && strlen(x->req->execution_id) < 64 &&
	    strspn(x->req->execution_id, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
		    strlen(x->req->execution_id))
		snprintf(path, sizeof(path), "/containers/create?name=sbx-%s",
			 x->req->execution_id);
	else
		snprintf(path, sizeof(path), "/containers/create");
	r = sbx_dk_call(&x->conn, "POST", path, body, strlen(body), NULL, CALL_TIMEOUT_MS, &st,
			&x->resp);
	if (r < 0)
		return r;
	if (st == 404) {
		snprintf(x->error, sizeof(x->error), "the docker image '%s' is missing",
			 x->d->image);
		return -ENOENT;
	}
	if (st != 201) {
		snprintf(x->error, sizeof(x->error),
			 "docker could not create the container (HTTP %ld: %s)", st,
			 engine_message(x, msg, sizeof(msg)));
		return -EIO;
	}
	j = json_loadb(x->resp.data, x->resp.len, 0, NULL);
	r = -EPROTO;
	if (j && json_string_value(json_object_get(j, "Id")) &&
	    strlen(json_string_value(json_object_get(j, "Id"))) < sizeof(x->id)) {
		snprintf(x->id, sizeof(x->id), "%s", json_string_value(json_object_get(j, "Id")));
		x->created = true;
		r = 0;
	}
	json_decref(j);
	return r;
}

static int put_files(struct run *x)
{
	struct sbx_buf tar;
	char path[160], msg[200];
	long st;
	int r;

	if (!x->req->n_files)
		return 0;
	sbx_buf_init(&tar, MAX_ARCHIVE_BYTES);
	r = sbx_tar_files(&tar, x->req->files, x->req->n_files);
	if (r == -ENAMETOOLONG)
		snprintf(x->error, sizeof(x->error), "a file path is longer than 255 bytes");
	if (r == 0) {
		snprintf(path, sizeof(path), "/containers/%s/archive?path=%%2Fworkspace", x->id);
		r = sbx_dk_call(&x->conn, "PUT", path, tar.data, tar.len, "application/x-tar",
				CALL_TIMEOUT_MS, &st, &x->resp);
		if (r == 0 && st != 200) {
			snprintf(x->error, sizeof(x->error),
				 "docker could not write the files (HTTP %ld: %s)", st,
				 engine_message(x, msg, sizeof(msg)));
			r = -EIO;
		}
	}
	sbx_buf_fini(&tar);
	return r;
}

/* Start; an argv that cannot be executed is the program's failure
 * (RUNTIME_ERROR, exit 127, as native), reported by returning 1. */
static int start(struct run *x)
{
	char path[160], msg[200];
	long st;
	int r;

	snprintf(path, sizeof(path), "/containers/%s/start", x->id);
	r = sbx_dk_call(&x->conn, "POST", path, NULL, 0, NULL, CALL_TIMEOUT_MS, &st, &x->resp);
	if (r < 0)
		return r;
	if (st == 204 || st == 304)
		return 0;
	engine_message(x, msg, sizeof(msg));
	if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory")) {
		snprintf(x->error, sizeof(x->error), "exec %s failed: No such file or directory",
			 x->req->argv[0]);
		return 1;
	}
	if (strstr(msg, "permission denied")) {
		snprintf(x->error, sizeof(x->error), "exec %s failed: Permission denied",
			 x->req->argv[0]);
		return 1;
	}
	snprintf(x->error, sizeof(x->error), "docker could not start the container (HTTP %ld: %s)",
		 st, msg);
	return -EIO;
}

static void kill_container(struct run *x)
{
	char path[160];
	long st;

	snprintf(path, sizeof(path), "/containers/%s/kill", x->id);
	/* 409: it already stopped. Nothing else to do either way. */
	(void)sbx_dk_call(&x->conn, "POST", path, NULL, 0, NULL, CALL_TIMEOUT_MS, &st, NULL);
}

static void demux(struct run *x, const unsigned char *p, size_t n)
{
	while (n) {
		if (x->frame_left == 0) {
			size_t take = sizeof(x->hdr) - x->n_hdr < n ? sizeof(x->hdr) - x->n_hdr : n;

			memcpy(x->hdr + x->n_hdr, p, take);
			x->n_hdr += take;
			p += take;
			n -= take;
			if (x->n_hdr == sizeof(x->hdr)) {
				x->frame_stream = x->hdr[0];
				x->frame_left = (uint32_t)x->hdr[4] << 24 |
						(uint32_t)x->hdr[5] << 16 |
						(uint32_t)x->hdr[6] << 8 | x->hdr[7];
				x->n_hdr = 0;
			}
			continue;
		}
		size_t take = n < x->frame_left ? n : x->frame_left;

		if (x->frame_stream == 1 || x->frame_stream == 2) {
			int s = x->frame_stream - 1;
			size_t kept = sbx_buf_append_some(&x->out[s], p, take);

			if (kept < take) {
				x->truncated[s] = true;
				x->dropped += take - kept;
			}
		}
		x->frame_left -= (uint32_t)take;
		p += take;
		n -= take;
	}
}

/* Feed stdin, collect stdout/stderr until the stream ends, the wall-time
 * limit passes or too much output was dropped (x->kill says which). The
 * caller must then close the stream before it kills: the engine holds a
 * container's exit until attached readers took its output, so a kill sent
 * while a flood of output waits for us would hang. */
static int pump(struct run *x, struct sbx_dk_stream *s)
{
	const Sbx__SpawnRequest *req = x->req;
	long long deadline = x->t_start + (long long)req->limits->wall_time_ms;
	size_t in_off = 0;
	bool in_open = true;
	unsigned char buf[65536];

	demux(x, (const unsigned char *)s->early, s->n_early);
	for (;;) {
		long long now = sbx_clock_mono_ms();
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		size_t got = 0;
		CURLcode rc;

		if (now >= deadline) {
			x->kill = KILL_WALL;
			return 0;
		}
		if (x->dropped > OUTPUT_DRAIN_BYTES) {
			x->kill = KILL_OUTPUT;
			return 0;
		}
		if (in_open && in_off == req->stdin.len) {
			/* EOF on the program's stdin (StdinOnce). */
			shutdown(s->fd, SHUT_WR);
			in_open = false;
		}
		if (in_open)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return -errno;
		if (in_open && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
			size_t sent = 0;

			rc = curl_easy_send(s->curl, req->stdin.data + in_off,
					    req->stdin.len - in_off, &sent);
			if (rc == CURLE_OK)
				in_off += sent;
			else if (rc != CURLE_AGAIN)
				in_off = req->stdin.len; /* the program is gone or closed stdin */
		}
		if (!(pfd.revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		rc = curl_easy_recv(s->curl, buf, sizeof(buf), &got);
		if (rc == CURLE_AGAIN)
			continue;
		if (rc != CURLE_OK || got == 0)
			return 0;
		demux(x, buf, got);
	}
}

struct outcome {
	int exit_code;
	bool oom;
};

/* Wait for the container to stop, then read its state. */
static int collect(struct run *x, struct outcome *o)
{
	char path[160];
	json_t *j, *state;
	long st;
	int r;

	long long left = x->t_start + (long long)x->req->limits->wall_time_ms - sbx_clock_mono_ms();

	/* The stream can end before the program does (it closed stdout and
	 * stderr): wait out the rest of the wall time. */
	snprintf(path, sizeof(path), "/containers/%s/wait", x->id);
	r = sbx_dk_call(&x->conn, "POST", path, NULL, 0, NULL,
			(left > 0 ? left : 0) + WAIT_GRACE_MS, &st, &x->resp);
	if (r == -ETIMEDOUT) {
		x->t_end = sbx_clock_mono_ms();
		x->kill = x->kill ? x->kill : KILL_WALL;
		kill_container(x);
		r = sbx_dk_call(&x->conn, "POST", path, NULL, 0, NULL, CALL_TIMEOUT_MS, &st,
				&x->resp);
	}
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/containers/%s/json", x->id);
	r = sbx_dk_call(&x->conn, "GET", path, NULL, 0, NULL, CALL_TIMEOUT_MS, &st, &x->resp);
	if (r < 0)
		return r;
	if (st != 200)
		return -EPROTO;
	j = json_loadb(x->resp.data, x->resp.len, 0, NULL);
	state = json_object_get(j, "State");
	if (!json_is_object(state) || json_is_true(json_object_get(state, "Running"))) {
		json_decref(j);
		return -EPROTO;
	}
	o->exit_code = (int)json_integer_value(json_object_get(state, "ExitCode"));
	o->oom = json_is_true(json_object_get(state, "OOMKilled"));
	json_decref(j);
	return 0;
}

static void remove_container(struct run *x)
{
	char path[160];
	long st;

	if (!x->created)
		return;
	snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", x->id);
	if (sbx_dk_call(&x->conn, "DELETE", path, NULL, 0, NULL, CALL_TIMEOUT_MS, &st, NULL) < 0 ||
	    (st != 204 && st != 404))
		sbx_log(SBX_LOG_WARN, x->req->execution_id,
			"docker: container %.12s was not removed", x->id);
}

/* The status, by the same precedence as native (spawner_exec.c decide()). */
static void decide(struct run *x, const struct outcome *o, Sbx__ExecResult *res)
{
	const Sbx__Limits *l = x->req->limits;
	/* The engine reports a death by signal N as exit code 128+N. */
	int sig = o->exit_code > 128 && o->exit_code <= 128 + 64 ? o->exit_code - 128 : 0;

	res->exit_code = o->exit_code;
	res->signal = sig;
	/* SIGXCPU at RLIMIT_CPU's soft limit; SIGKILL at the hard one (a
	 * second later) when the program caught SIGXCPU. */
	if (sig == SIGXCPU ||
	    (sig == SIGKILL && x->kill == KILL_NONE && !o->oom &&
	     (uint64_t)(x->t_end - x->t_start) >= (l->cpu_time_ms + 999) / 1000 * 1000)) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT;
		snprintf(x->error, sizeof(x->error), "CPU time limit exceeded (%" PRIu64 " ms)",
			 l->cpu_time_ms);
	} else if (x->kill == KILL_WALL) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
		snprintf(x->error, sizeof(x->error), "wall time limit exceeded (%" PRIu64 " ms)",
			 l->wall_time_ms);
	} else if (o->oom) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_MEMORY_LIMIT;
		snprintf(x->error, sizeof(x->error), "memory limit exceeded (%" PRIu64 " KB)",
			 l->memory_kb);
	} else if (x->kill == KILL_OUTPUT || x->truncated[0] || x->truncated[1]) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_OUTPUT_LIMIT;
		snprintf(x->error, sizeof(x->error), "output limit exceeded (%" PRIu64 " bytes)",
			 l->output_bytes);
	} else if (sig) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_SIGNALED;
		snprintf(x->error, sizeof(x->error), "killed by signal %d (SIG%s)%s", sig,
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
			 sig == SIGXFSZ ? ": file size limit exceeded" : "");
	} else if (o->exit_code != 0) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		snprintf(x->error, sizeof(x->error), "exited with code %d", o->exit_code);
	} else {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_OK;
		x->error[0] = 0;
	}
}

static char *dup_bytes(struct sbx_buf *b, size_t *ret_len)
{
	char *p;

	if (b->data)
		return sbx_buf_steal(b, ret_len);
	*ret_len = 0;
	p = malloc(1);
	if (p)
		*p = 0;
	return p;
}

/* An allocated result, freeable with sbx__exec_result__free_unpacked. */
static int make_result(struct run *x, Sbx__ExecResult *tmpl, Sbx__ExecResult **ret)
{
	Sbx__ExecResult *res = malloc(sizeof(*res));
	size_t n0 = 0, n1 = 0;

	if (!res)
		return -ENOMEM;
	*res = *tmpl;
	res->stdout.data = (uint8_t *)dup_bytes(&x->out[0], &n0);
	res->stdout.len = n0;
	res->stderr.data = (uint8_t *)dup_bytes(&x->out[1], &n1);
	res->stderr.len = n1;
	res->stdout_truncated = x->truncated[0];
	res->stderr_truncated = x->truncated[1];
	res->error = strdup(x->error);
	res->execution_id = strdup(x->req->execution_id ? x->req->execution_id : "");
	if (!res->stdout.data || !res->stderr.data || !res->error || !res->execution_id) {
		sbx__exec_result__free_unpacked(res, NULL);
		return -ENOMEM;
	}
	*ret = res;
	return 0;
}

int sbx_docker_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret)
{
	Sbx__ExecResult tmpl = SBX__EXEC_RESULT__INIT;
	struct sbx_dk_stream s = {.fd = -1};
	struct outcome o = {0};
	struct run *x;
	const char *why;
	int r;

	if (sbx_engine_check(req, &why) < 0) {
		tmpl.status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		x = calloc(1, sizeof(*x));
		if (!x)
			return -ENOMEM;
		x->req = req;
		snprintf(x->error, sizeof(x->error), "%s", why);
		r = make_result(x, &tmpl, ret);
		free(x);
		return r < 0 ? r : -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->d = state;
	x->req = req;
	sbx_buf_init(&x->resp, SBX_DK_MAX_RESPONSE);
	sbx_buf_init(&x->out[0], req->limits->output_bytes);
	sbx_buf_init(&x->out[1], req->limits->output_bytes);
	r = sbx_dk_conn_init(&x->conn, x->d->socket);
	if (r < 0)
		goto out;
	r = create(x);
	if (r == 0)
		r = put_files(x);
	/* Attach before start so that no output is missed. */
	if (r == 0)
		r = sbx_dk_attach(&s, x->d->socket, x->id, CALL_TIMEOUT_MS);
	if (r == 0)
		r = start(x);
	x->t_start = sbx_clock_mono_ms();
	if (r == 1) {
		tmpl.status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		tmpl.exit_code = 127;
		r = 0;
	} else if (r == 0) {
		r = pump(x, &s);
		x->t_end = sbx_clock_mono_ms();
		sbx_dk_stream_fini(&s);
		if (x->kill != KILL_NONE)
			kill_container(x);
		if (r == 0)
			r = collect(x, &o);
		if (r == 0)
			decide(x, &o, &tmpl);
		/* The container has stopped: its parent's counters are final. */
		if (r == 0)
			(void)sbx_docker_cg_collect(&x->d->cg, x->cg_parent, &tmpl);
		tmpl.wall_time_ms = (uint64_t)(x->t_end - x->t_start);
	}
	sbx_dk_stream_fini(&s);
	if (r < 0) {
		/* The engine failed us: an INTERNAL_ERROR result, not an RPC
		 * failure, so that partial output and the reason reach the
		 * caller. */
		if (!x->error[0])
			snprintf(x->error, sizeof(x->error), "docker engine error: %s",
				 x->conn.errbuf[0] ? x->conn.errbuf : strerror(-r));
		sbx_log(SBX_LOG_ERROR, req->execution_id, "docker backend: %s", x->error);
		tmpl.status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		tmpl.exit_code = -1;
	}
	remove_container(x);
	sbx_docker_cg_remove(&x->d->cg, x->cg_parent);
	r = make_result(x, &tmpl, ret);
out:
	sbx_dk_conn_fini(&x->conn);
	sbx_buf_fini(&x->resp);
	sbx_buf_fini(&x->out[0]);
	sbx_buf_fini(&x->out[1]);
	free(x);
	return r;
}
