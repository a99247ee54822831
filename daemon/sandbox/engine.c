/* The daemon side of the engine: forks the spawner, checks requests and
 * ships them over the wire (wire.h). No kernel work happens here. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "cleanup.h"
#include "clock.h"
#include "fdio.h"
#include "spawner.h"
#include "warm.h"
#include "wire.h"
#include "workspace.h"

struct sbx_engine {
	int ctl_fd;
	pid_t spawner;
	enum sbx_cgroup_mode cg_mode;
	bool memory_enforced; /* sbx_engine_memory_enforced */
	uint64_t max_request_bytes;
	/* The spawner's last answer about its pools (sbx_engine_warm_pools). */
	pthread_mutex_t warm_lock;
	struct sbx_warm_stats warm_last[SBX_WARM_MAX_POOLS];
	unsigned warm_n;
	bool warm_known;
	int64_t warm_at_ms; /* when the spawner gave it (sbx_clock_mono_ms) */
};


void sbx_engine_config_init(struct sbx_engine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->max_concurrent = (unsigned)(n > 0 ? n : 1) * 4;
	cfg->host_uid = 100000;
	cfg->host_gid = 100000;
	cfg->tmp_kb = 65536;
	cfg->workspace_kb = 65536;
	cfg->max_request_bytes = 64u << 20;
	cfg->output_drain_bytes = 16u << 20;
	cfg->netns_pool = 4;
	cfg->netns_reuse = true;
	cfg->cgroup_pool = 4;
}

static void fill_defaults(struct sbx_engine_config *c)
{
	struct sbx_engine_config d;
	sbx_engine_config_init(&d);
#define DEF(f)             \
	if (!c->f)         \
		c->f = d.f
	DEF(max_concurrent);
	DEF(host_uid);
	DEF(host_gid);
	DEF(tmp_kb);
	DEF(workspace_kb);
	DEF(max_request_bytes);
	DEF(output_drain_bytes);
	DEF(netns_pool);
	DEF(cgroup_pool);
#undef DEF
}

/* sbx-spawner next to the running binary, if it is there and runnable. */
static bool spawner_exe(char *path, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return false;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = 0;
	int len = snprintf(path, size, "%s/%s", self, SBX_SPAWNER_EXE);
	return len > 0 && (size_t)len < size && access(path, X_OK) == 0;
}

/* A pipe holding the spawner's boot block (it fits: far below PIPE_BUF
 * pages), read end in *ret. */
static int boot_pipe(const struct sbx_engine_config *cfg, enum sbx_cgroup_mode mode, int *ret)
{
	struct sbx_spawner_boot b;
	memset(&b, 0, sizeof(b));
	b.magic = SBX_SPAWNER_MAGIC;
	b.size = sizeof(b);
	b.cfg = *cfg;
	b.cfg.state_dir = NULL;
	b.cg_mode = (int32_t)mode;
	snprintf(b.state_dir, sizeof(b.state_dir), "%s", cfg->state_dir);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	int r = sbx_write_full(p[1], &b, sizeof(b));
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		return r;
	}
	*ret = p[0];
	return 0;
}

/* In the fork: become sbx-spawner, with nothing of the caller's but the
 * control socket and the boot pipe. */
_Noreturn static void exec_spawner(const char *exe, int ctl, int boot)
{
	/* Out of the way of fds 3 and 4 first, then into place. */
	int c = fcntl(ctl, F_DUPFD, 10), b = fcntl(boot, F_DUPFD, 10);
	if (c < 0 || b < 0 || dup2(c, SBX_SPAWNER_CTL_FD) < 0 || dup2(b, SBX_SPAWNER_BOOT_FD) < 0)
		_exit(127);
	close_range(SBX_SPAWNER_BOOT_FD + 1, ~0U, 0);
	char *const argv[] = {(char *)SBX_SPAWNER_EXE, NULL};
	execv(exe, argv);
	int err = -errno;
	sbx_write_full(SBX_SPAWNER_CTL_FD, &err, sizeof(err));
	_exit(127);
}

int sbx_engine_new(const struct sbx_engine_config *cfg_in, struct sbx_engine **ret)
{
	if (!cfg_in || !cfg_in->state_dir || cfg_in->state_dir[0] != '/' ||
	    strlen(cfg_in->state_dir) >= 200)
		return -EINVAL;
	struct sbx_engine_config cfg = *cfg_in;
	fill_defaults(&cfg);
	if (mkdir(cfg.state_dir, 0700) < 0 && errno != EEXIST)
		return -errno;

	_cleanup_free_ struct sbx_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cg_mode = sbx_cgroup_detect(cfg.cgroup);
	e->max_request_bytes = cfg.max_request_bytes;
	pthread_mutex_init(&e->warm_lock, NULL);

	char exe[PATH_MAX];
	bool own_exe = spawner_exe(exe, sizeof(exe));
	int boot = -1, r;
	if (own_exe && (r = boot_pipe(&cfg, e->cg_mode, &boot)) < 0)
		return r;
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		r = -errno;
		if (boot >= 0)
			close(boot);
		return r;
	}
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		close(sp[0]);
		close(sp[1]);
		if (boot >= 0)
			close(boot);
		return r;
	}
	if (pid == 0) {
		close(sp[0]);
		if (own_exe)
			exec_spawner(exe, sp[1], boot);
		sbx_spawner_main(&cfg, e->cg_mode, sp[1]);
	}
	close(sp[1]);
	if (boot >= 0)
		close(boot);
	e->ctl_fd = sp[0];
	e->spawner = pid;

	int status = 0;
	r = sbx_read_full(e->ctl_fd, &status, sizeof(status));
	if (r < 0 || status < 0) {
		close(e->ctl_fd);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r < 0 ? -EIO : status;
	}
	e->memory_enforced = status & SBX_SPAWNER_BOOT_MEMORY;
	*ret = TAKE_PTR(e);
	return 0;
}

bool sbx_engine_memory_enforced(const struct sbx_engine *e)
{
	return e->memory_enforced;
}

void sbx_engine_free(struct sbx_engine *e)
{
	if (!e)
		return;
	/* EOF on the control socket tells the spawner to kill everything,
	 * clean up its cgroups and exit. */
	close(e->ctl_fd);
	while (waitpid(e->spawner, NULL, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_destroy(&e->warm_lock);
	free(e);
}

const char *sbx_engine_cgroup_mode(const struct sbx_engine *e)
{
	return sbx_cgroup_mode_name(e->cg_mode);
}

static int result_with_error(const char *why, Sbx__ExecResult **ret)
{
	Sbx__ExecResult *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	sbx__exec_result__init(r);
	r->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
	r->error = strdup(why);
	if (!r->error) {
		free(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

void sbx_engine_cancel_init(struct sbx_engine_cancel *t)
{
	pthread_mutex_init(&t->lock, NULL);
	t->fd = -1;
	t->cancelled = false;
}

void sbx_engine_cancel_fini(struct sbx_engine_cancel *t)
{
	pthread_mutex_destroy(&t->lock);
}

void sbx_engine_cancel(struct sbx_engine_cancel *t)
{
	pthread_mutex_lock(&t->lock);
	t->cancelled = true;
	/* SHUT_WR, not close: the fd stays ours (no reuse race with the
	 * runner), the spawner sees EOF and kills the tree, then closes its
	 * end, so the runner's read ends only after the kill was sent. */
	if (t->fd >= 0)
		shutdown(t->fd, SHUT_WR);
	pthread_mutex_unlock(&t->lock);
}

/* Publish (fd >= 0) or withdraw (-1) the running execution's socket;
 * false when a cancel came first. */
static bool cancel_attach(struct sbx_engine_cancel *t, int fd)
{
	bool ok;

	if (!t)
		return true;
	pthread_mutex_lock(&t->lock);
	ok = !t->cancelled;
	t->fd = ok ? fd : -1;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

static void cancel_detach(struct sbx_engine_cancel **t)
{
	cancel_attach(*t, -1);
}

static bool cancelled(struct sbx_engine_cancel *t)
{
	bool c;

	if (!t)
		return false;
	pthread_mutex_lock(&t->lock);
	c = t->cancelled;
	pthread_mutex_unlock(&t->lock);
	return c;
}

/* The result of a cancelled execution: the spawner sends none. */
static int stopped_result(const Sbx__SpawnRequest *req, uint64_t started_ms, Sbx__ExecResult **ret)
{
	Sbx__ExecResult *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	sbx__exec_result__init(r);
	r->status = SBX__EXEC_STATUS__EXEC_STATUS_STOPPED;
	r->signal = SIGKILL;
	r->exit_code = 128 + SIGKILL;
	r->wall_time_ms = sbx_clock_mono_ms() - started_ms;
	r->error = strdup("stopped");
	r->execution_id = strdup(req->execution_id ? req->execution_id : "");
	if (!r->error || !r->execution_id) {
		sbx__exec_result__free_unpacked(r, NULL);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

static int run_on(struct sbx_engine *e, const Sbx__SpawnRequest *req, struct sbx_engine_cancel *t,
		  struct sbx_engine_stream *s, Sbx__ExecResult **ret);

int sbx_engine_run_stream(struct sbx_engine *e, const Sbx__SpawnRequest *req,
			  struct sbx_engine_cancel *t, struct sbx_engine_stream *s,
			  Sbx__ExecResult **ret)
{
	uint64_t started = sbx_clock_mono_ms();
	int r = run_on(e, req, t, s, ret);

	/* Whatever failed after a cancel (EOF instead of a result, a write
	 * refused) is the cancel's doing. */
	if (cancelled(t) && (r == -EIO || r == -ECANCELED))
		return stopped_result(req, started, ret);
	return r;
}

int sbx_engine_run_cancellable(struct sbx_engine *e, const Sbx__SpawnRequest *req,
			       struct sbx_engine_cancel *t, Sbx__ExecResult **ret)
{
	return sbx_engine_run_stream(e, req, t, NULL, ret);
}

int sbx_engine_run(struct sbx_engine *e, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret)
{
	return run_on(e, req, NULL, NULL, ret);
}

/* Read frames up to the result: output chunks go to `s` (or nowhere),
 * STREAM_END fills its counters. */
static int read_result(int fd, struct sbx_engine_stream *s, Sbx__ExecResult **ret)
{
	_cleanup_free_ uint8_t *chunk = NULL;
	uint8_t hdr[SBX_FRAME_HDR];
	uint32_t type, rlen;

	for (;;) {
		if (sbx_read_full(fd, hdr, sizeof(hdr)) < 0)
			return -EIO;
		sbx_frame_parse(hdr, &type, &rlen);
		if (type == SBX_FRAME_RESULT)
			break;
		if (type == SBX_FRAME_STDOUT || type == SBX_FRAME_STDERR) {
			if (rlen > SBX_FRAME_CHUNK_MAX)
				return -EIO;
			if (!chunk && !(chunk = malloc(SBX_FRAME_CHUNK_MAX)))
				return -ENOMEM;
			if (sbx_read_full(fd, chunk, rlen) < 0)
				return -EIO;
			if (s && s->on_output)
				s->on_output(s->arg, type == SBX_FRAME_STDOUT ? 0 : 1, chunk, rlen);
		} else if (type == SBX_FRAME_STREAM_END && rlen == sizeof(struct sbx_stream_end)) {
			struct sbx_stream_end end;
			if (sbx_read_full(fd, &end, sizeof(end)) < 0)
				return -EIO;
			if (s) {
				s->dropped_chunks = end.dropped_chunks;
				s->dropped_bytes = end.dropped_bytes;
			}
		} else {
			return -EIO;
		}
	}
	_cleanup_free_ uint8_t *rbuf = malloc(rlen ? rlen : 1);
	if (!rbuf)
		return -ENOMEM;
	if (sbx_read_full(fd, rbuf, rlen) < 0)
		return -EIO;
	Sbx__ExecResult *res = sbx__exec_result__unpack(NULL, rlen, rbuf);
	if (!res)
		return -EIO;
	*ret = res;
	return 0;
}

static int run_on(struct sbx_engine *e, const Sbx__SpawnRequest *req_in, struct sbx_engine_cancel *t,
		  struct sbx_engine_stream *s, Sbx__ExecResult **ret)
{
	const char *why;
	int r = sbx_engine_check(req_in, &why);
	if (r < 0)
		return result_with_error(why, ret) < 0 ? -ENOMEM : -EINVAL;

	/* A shallow copy, to set the flag without touching the caller's. */
	Sbx__SpawnRequest copy = *req_in;
	const Sbx__SpawnRequest *req = &copy;
	copy.stream_output = s != NULL;
	if (s)
		s->dropped_chunks = s->dropped_bytes = 0;
	size_t len = sbx__spawn_request__get_packed_size(req);
	if (len > e->max_request_bytes || len > UINT32_MAX)
		return -EMSGSIZE;
	_cleanup_free_ uint8_t *buf = malloc(SBX_FRAME_HDR + len);
	if (!buf)
		return -ENOMEM;
	sbx_frame_hdr(buf, SBX_FRAME_REQUEST, (uint32_t)len);
	sbx__spawn_request__pack(req, buf + SBX_FRAME_HDR);

	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	_cleanup_close_ int fd = sp[0];
	/* Declared after fd, so cleaned up before it: the token lets go of
	 * the fd before its number can be reused. */
	__attribute__((cleanup(cancel_detach))) struct sbx_engine_cancel *attached = t;
	if (!cancel_attach(attached, fd)) {
		close(sp[1]);
		return -ECANCELED;
	}
	int fds[SBX_WIRE_MAX_FDS] = {sp[1], s && s->has_netns ? s->netns_fd : -1};
	r = sbx_wire_send_fds(e->ctl_fd, fds, fds[1] >= 0 ? 2 : 1);
	close(sp[1]);
	if (r < 0)
		return -EIO;
	if (sbx_write_full(fd, buf, SBX_FRAME_HDR + len) < 0)
		return -EIO;
	free(TAKE_PTR(buf));
	return read_result(fd, s, ret);
}

/* ---- the pools' state ---------------------------------------------- */

/* How long a caller waits for the spawner's answer. It answers between
 * two batches of events, so a burst of clones delays it by a few ms;
 * past this, the previous answer is given (a Stats call must not wait on
 * a busy spawner). */
#define WARM_STATS_WAIT_MS 250
/* An answer younger than this is given again without asking: the spawner's
 * one thread is every execution's critical path, so however often Stats is
 * called it is asked at most ~10 times a second. */
#define WARM_STATS_FRESH_MS 100

/* Read len bytes from fd before `until` (sbx_clock_mono_ms). 0,
 * -ETIMEDOUT, -ECONNRESET or -errno. */
static int read_until(int fd, void *buf, size_t len, int64_t until)
{
	uint8_t *p = buf;

	while (len > 0) {
		int64_t left = until - sbx_clock_mono_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0)
			return -ETIMEDOUT;
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One WARM_STATS_REQUEST (wire.h): 0 with out[0..*ret_n), -ETIMEDOUT, or
 * -EIO (spawner gone, or an answer that is not one). */
static int ask_warm_stats(struct sbx_engine *e, struct sbx_warm_stats *out, unsigned *ret_n)
{
	int64_t until = sbx_clock_mono_ms() + WARM_STATS_WAIT_MS;
	uint8_t hdr[SBX_FRAME_HDR];
	uint32_t type, len;
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	_cleanup_close_ int fd = sp[0];
	/* Queued before the socket goes, so the spawner finds it there. */
	sbx_frame_hdr(hdr, SBX_FRAME_WARM_STATS_REQUEST, 0);
	int r = sbx_write_full(fd, hdr, sizeof(hdr));
	if (r == 0)
		r = sbx_wire_send_fd_nowait(e->ctl_fd, sp[1]);
	close(sp[1]);
	if (r == -EAGAIN) /* its control queue is full: it is that busy */
		return -ETIMEDOUT;
	if (r < 0)
		return -EIO;
	r = read_until(fd, hdr, sizeof(hdr), until);
	if (r < 0)
		return r == -ETIMEDOUT ? r : -EIO;
	sbx_frame_parse(hdr, &type, &len);
	if (type != SBX_FRAME_WARM_STATS || len % sizeof(*out) != 0 ||
	    len > SBX_WARM_MAX_POOLS * sizeof(*out))
		return -EIO;
	r = read_until(fd, out, len, until);
	if (r < 0)
		return r == -ETIMEDOUT ? r : -EIO;
	*ret_n = len / sizeof(*out);
	for (unsigned i = 0; i < *ret_n; i++)
		out[i].kind[SBX_WARM_KIND_MAX - 1] = 0;
	return 0;
}

/* The pools that are on, as messages. */
static int warm_pools_new(const struct sbx_warm_stats *st, unsigned n, Sbx__WarmPool ***ret,
			  size_t *ret_n)
{
	Sbx__WarmPool **v = calloc(n ? n : 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		if (st[i].size == 0)
			continue; /* off: not listed */
		Sbx__WarmPool *p = malloc(sizeof(*p));
		if (p) {
			sbx__warm_pool__init(p);
			p->kind = strdup(st[i].kind);
		}
		if (!p || !p->kind) {
			free(p);
			while (k > 0)
				sbx__warm_pool__free_unpacked(v[--k], NULL);
			free(v);
			return -ENOMEM;
		}
		p->size = st[i].size;
		p->ready = st[i].ready;
		p->in_use = st[i].in_use;
		p->built = st[i].built;
		p->taken = st[i].taken;
		p->misses = st[i].misses;
		p->failed = st[i].failed;
		p->refill_per_s = st[i].refill_per_s;
		p->memory_kb = st[i].memory_kb;
		v[k++] = p;
	}
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

int sbx_engine_warm_pools(struct sbx_engine *e, Sbx__WarmPool ***ret, size_t *ret_n)
{
	struct sbx_warm_stats st[SBX_WARM_MAX_POOLS];
	unsigned n = 0;
	bool fresh;
	int r;

	pthread_mutex_lock(&e->warm_lock);
	fresh = e->warm_known && sbx_clock_mono_ms() - e->warm_at_ms < WARM_STATS_FRESH_MS;
	if (fresh) {
		memcpy(st, e->warm_last, e->warm_n * sizeof(st[0]));
		n = e->warm_n;
	}
	pthread_mutex_unlock(&e->warm_lock);
	if (fresh)
		return warm_pools_new(st, n, ret, ret_n);

	r = ask_warm_stats(e, st, &n);
	pthread_mutex_lock(&e->warm_lock);
	if (r == 0) {
		memcpy(e->warm_last, st, n * sizeof(st[0]));
		e->warm_n = n;
		e->warm_known = true;
		e->warm_at_ms = sbx_clock_mono_ms();
	} else if (r == -ETIMEDOUT && e->warm_known) {
		memcpy(st, e->warm_last, e->warm_n * sizeof(st[0]));
		n = e->warm_n;
		r = 0;
	}
	pthread_mutex_unlock(&e->warm_lock);
	return r < 0 ? r : warm_pools_new(st, n, ret, ret_n);
}
