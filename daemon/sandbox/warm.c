/* Pre-built sandboxes: most of a cold start is the set-up every sandbox
 * does the same way whatever it runs (clone with its namespaces, uid maps,
 * cgroup placement, loopback, host name, /tmp, /dev/shm, the workspace
 * tmpfs, /proc, pivot_root). The spawner does that for a few sandboxes
 * while it is idle, through the very path of a cold start
 * (sbx_exec_spawn() with ex->warm set). Its child goes on up to the fork
 * of the payload process (pid.c), so that fork is off the request path
 * too, and the payload process then waits for the request on the go pipe
 * (child.c). An execution whose request needs nothing a pre-built sandbox
 * lacks takes one: its cgroup limits are written, its packed request is
 * sent, and the payload process goes on exactly as a cold one would (the
 * request's files and cwd, rlimits, capabilities, seccomp, execve).
 *
 * Nothing is reused: each pre-built sandbox is used by one execution and
 * dies with it, so every execution still has its own processes, pid,
 * mount, IPC and UTS namespaces, /tmp, /dev/shm, workspace, cgroup and
 * network namespace. What a tenant could see of "being pre-built" is only
 * that its sandbox was made a little earlier. An empty pool never makes an
 * execution wait: it starts cold (a miss). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "clock.h"
#include "fdio.h"
#include "module.h"
#include "spawner_exec.h"
#include "warm.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* A failed build is retried after this long, not at every idle moment. */
#define RETRY_NS 1000000000ull
/* The refill rate is the builds of the last minute; a pool builds at most
 * one sandbox per idle moment, so this many stamps hold a busy minute. */
#define RATE_WINDOW_NS 60000000000ull
#define RATE_STAMPS 1024

struct sbx_warm_pool {
	struct sbx_exec **ready;
	unsigned len, in_use;
	uint64_t retry_at;
	uint64_t built, taken, misses, failed;
	uint64_t stamps[RATE_STAMPS]; /* when the last builds ended, a ring */
};

/* What a pre-built sandbox is made for: the request-independent set-up of
 * a request with no host workspace, /tmp or binds and no network. The
 * child reads only those fields of it before the real request comes. */
static Sbx__SpawnRequest template_req = SBX__SPAWN_REQUEST__INIT;

int sbx_warm_init(struct sbx_ctx *ctx)
{
	if (!ctx->cfg.warm_pool)
		return 0;
	struct sbx_warm_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ready = calloc(ctx->cfg.warm_pool, sizeof(*p->ready));
	if (!p->ready) {
		free(p);
		return -ENOMEM;
	}
	ctx->warm = p;
	return 0;
}

/* Kill, reap and free a pooled sandbox nobody will use. Blocking, but
 * only on failure paths and at shutdown. */
static void discard(struct sbx_ctx *ctx, struct sbx_exec *w)
{
	if (w->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
		siginfo_t si;
		while (waitid((idtype_t)P_PIDFD, (id_t)w->pidfd, &si, WEXITED) < 0 &&
		       errno == EINTR)
			;
	}
	sbx_cgroup_release(ctx, &w->cg);
	if (w->netns_fd >= 0)
		close(w->netns_fd);
	w->netns_fd = -1;
	w->req = NULL; /* the template, not unpacked */
	sbx_exec_free(w);
}

void sbx_warm_fini(struct sbx_ctx *ctx)
{
	struct sbx_warm_pool *p = ctx->warm;
	if (!p)
		return;
	while (p->len > 0)
		discard(ctx, p->ready[--p->len]);
	free(p->ready);
	free(p);
	ctx->warm = NULL;
}

bool sbx_warm_refill(struct sbx_ctx *ctx)
{
	struct sbx_warm_pool *p = ctx->warm;
	/* Only while no execution runs: a build costs the spawner ~1 ms
	 * (clone, uid maps) and its child's set-up a core meanwhile. Next to
	 * a running execution that delayed its end by more than the pre-built
	 * start saved (bench-engine, /bin/true p50 on 2 shared cores: 7.4 ms
	 * refilling at once vs 6.8 ms with the pool off; 4.4-4.6 ms refilling
	 * only between executions). Under steady load the pool runs dry and
	 * executions start cold, at the cost of a cold start. */
	if (!p || ctx->stopping || p->len >= ctx->cfg.warm_pool || ctx->n_running > 0)
		return false;
	uint64_t now = sbx_clock_mono_ns();
	if (now < p->retry_at)
		return false;
	struct sbx_exec *w = sbx_exec_new(ctx, -1);
	if (!w)
		return false;
	w->warm = true;
	w->req = &template_req;
	const char *what;
	if (sbx_exec_spawn(ctx, w, &what) < 0 || w->error[0]) {
		/* Whatever the cold path would have said is said by the cold
		 * path itself, when an execution gets there. */
		discard(ctx, w);
		p->failed++;
		p->retry_at = now + RETRY_NS;
		return false;
	}
	p->ready[p->len++] = w;
	p->stamps[p->built % RATE_STAMPS] = sbx_clock_mono_ns();
	p->built++;
	return true;
}

bool sbx_warm_fits(const struct sbx_ctx *ctx, const struct sbx_exec *ex)
{
	const Sbx__SpawnRequest *req = ex->req;
	return ctx->warm && req && !req->network && !req->workspace[0] && !req->tmp_dir[0] &&
	       req->n_binds == 0 && ex->caller_netns_fd < 0 && ex->req_len <= SBX_WARM_MAX_REQUEST;
}

/* The request, as it came, after its length: one write on the
 * non-blocking go pipe, grown first if it would not take it whole. */
static int send_request(struct sbx_exec *w, const struct sbx_exec *ex)
{
	uint32_t len = (uint32_t)ex->req_len;
	size_t total = sizeof(len) + len;
	int pending = 0, cap = fcntl(w->go_w, F_GETPIPE_SZ);
	if (cap < 0 || ioctl(w->go_w, FIONREAD, &pending) < 0)
		return -errno;
	if ((size_t)cap < total + (size_t)pending &&
	    fcntl(w->go_w, F_SETPIPE_SZ, (int)(total + (size_t)pending)) < 0)
		return -errno;
	struct iovec iov[2] = {{&len, sizeof(len)}, {ex->reqbuf, len}};
	ssize_t n;
	do
		n = writev(w->go_w, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == total ? 0 : -EIO;
}

static void move_fd(int *to, int *from)
{
	*to = *from;
	*from = -1;
}

int sbx_warm_take(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	struct sbx_warm_pool *p = ctx->warm;
	if (!sbx_warm_fits(ctx, ex) || !ex->reqbuf)
		return -ENOENT;
	if (p->len == 0) {
		p->misses++;
		return -ENOENT;
	}
	struct sbx_exec *w = p->ready[--p->len];
	/* Limits first: the sandbox must not run a single instruction of the
	 * request before its cgroup holds them. */
	struct sbx_cgroup_slot none = ex->cg;
	ex->cg = w->cg;
	int r = sbx_cgroup_limits(ctx, ex);
	if (r == 0)
		r = send_request(w, ex);
	if (r < 0) {
		/* Gone or unusable (its set-up failed, it was killed): drop it
		 * and start this execution cold. */
		ex->cg = none;
		discard(ctx, w);
		p->failed++;
		return r;
	}
	w->cg = none;
	close(w->go_w);
	w->go_w = -1;
	ex->pid = w->pid;
	move_fd(&ex->pidfd, &w->pidfd);
	move_fd(&ex->stdin_w, &w->stdin_w);
	move_fd(&ex->out[0].fd, &w->out[0].fd);
	move_fd(&ex->out[1].fd, &w->out[1].fd);
	move_fd(&ex->status_r, &w->status_r);
	move_fd(&ex->netns_fd, &w->netns_fd);
	w->req = NULL;
	sbx_exec_free(w);
	p->taken++;
	p->in_use++;
	ex->pooled = true;
	return 0;
}

void sbx_warm_done(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (ex->pooled && ctx->warm && ctx->warm->in_use > 0)
		ctx->warm->in_use--;
	ex->pooled = false;
}

/* What a ready sandbox holds in memory: its cgroup's charge (v1 or v2). */
static uint64_t ready_memory_kb(const struct sbx_ctx *ctx, const struct sbx_warm_pool *p)
{
	uint64_t sum = 0, v;
	for (unsigned i = 0; i < p->len; i++) {
		const struct sbx_cgroup_slot *cg = &p->ready[i]->cg;
		if (ctx->cg_mode == SBX_CG_V1 && cg->dfd[SBX_V1_MEMORY] >= 0 &&
		    sbx_cg_read_u64(cg->dfd[SBX_V1_MEMORY], "memory.usage_in_bytes", &v) == 0)
			sum += v;
		else if (ctx->cg_mode == SBX_CG_V2 && ctx->cg_v2_memory && cg->dfd[0] >= 0 &&
			 sbx_cg_read_u64(cg->dfd[0], "memory.current", &v) == 0)
			sum += v;
	}
	return sum / 1024;
}

unsigned sbx_warm_stats(const struct sbx_ctx *ctx, struct sbx_warm_stats *out, unsigned max)
{
	const struct sbx_warm_pool *p = ctx->warm;
	if (!p || max == 0)
		return 0;
	uint64_t now = sbx_clock_mono_ns(), n = 0;
	for (uint64_t i = 0; i < p->built && i < RATE_STAMPS; i++)
		n += now - p->stamps[i] <= RATE_WINDOW_NS;
	out[0] = (struct sbx_warm_stats){
		.kind = "exec", .size = ctx->cfg.warm_pool, .ready = p->len, .in_use = p->in_use,
		.built = p->built, .taken = p->taken, .misses = p->misses, .failed = p->failed,
		.refill_per_s = (double)n / (double)(RATE_WINDOW_NS / 1000000000ull),
		.memory_kb = ready_memory_kb(ctx, p)};
	return 1;
}

/* ---- in the child --------------------------------------------------- */

void sbx_warm_child_wait(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	uint32_t len;
	int r = sbx_read_full(ex->child_go, &len, sizeof(len));
	if (r < 0)
		_exit(0); /* dropped unused by the spawner */
	if (len > SBX_WARM_MAX_REQUEST)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, EMSGSIZE, "request");
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, ENOMEM, "request");
	if ((r = sbx_read_full(ex->child_go, buf, len)) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, -r, "request");
	close(ex->child_go);
	ex->child_go = -1;
	/* The spawner checked it (sbx_engine_check) before sending it. */
	Sbx__SpawnRequest *req = sbx__spawn_request__unpack(NULL, len, buf);
	free(buf);
	if (!req)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, EBADMSG, "request");
	char **argv = calloc(req->n_argv + 1, sizeof(char *));
	char **envp = calloc(req->n_env + 1, sizeof(char *));
	if (!argv || !envp)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, ENOMEM, "request");
	memcpy(argv, req->argv, req->n_argv * sizeof(char *));
	memcpy(envp, req->env, req->n_env * sizeof(char *));
	ex->req = req;
	ex->argv = argv;
	ex->envp = envp;
}
