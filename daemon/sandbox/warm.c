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
 * execution wait: it starts cold (a miss).
 *
 * There is a pool per kind: "exec" sandboxes wait for any command before
 * their payload process runs anything; "python" and "node" ones have
 * their payload run that runtime's interpreter ahead of the request
 * (warm_runtime.c). A python (node) execution takes a python (node) one
 * if one fits, else an exec one, else it starts cold. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
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


struct pool {
	const char *kind;
	unsigned size;
	struct sbx_exec *ready[SBX_WARM_MAX_SIZE];
	/* a runtime's: the generation each ready one was started for; a
	 * ready one of an older generation is dropped, never taken */
	uint64_t gen[SBX_WARM_MAX_SIZE];
	unsigned len, in_use;
	uint64_t retry_at;
	uint64_t built, taken, misses, failed;
	uint64_t stamps[RATE_STAMPS]; /* when the last builds ended, a ring */
};

struct sbx_warm {
	struct pool pools[SBX_WARM_N_POOLS];
	/* A runtime pool's environment (NULL for exec, or if it is off). */
	struct sbx_warm_rt *rt[SBX_WARM_N_POOLS];
	unsigned next; /* the pool the next refill looks at first */
};

/* What a pre-built "exec" sandbox is made for: the request-independent
 * set-up of a request with no host workspace, /tmp or binds and no
 * network. The child reads only those fields of it before the real
 * request comes. */
static Sbx__SpawnRequest template_req = SBX__SPAWN_REQUEST__INIT;

static unsigned bounded(unsigned n)
{
	return n < SBX_WARM_MAX_SIZE ? n : SBX_WARM_MAX_SIZE;
}

int sbx_warm_init(struct sbx_ctx *ctx)
{
	static const char *const kinds[SBX_WARM_N_POOLS] = {"exec", "python", "node"};
	const unsigned sizes[SBX_WARM_N_POOLS] = {
		ctx->cfg.warm_pool, ctx->cfg.warm_pool_python, ctx->cfg.warm_pool_node};
	if (!sizes[SBX_WARM_EXEC] && !sizes[SBX_WARM_PYTHON] && !sizes[SBX_WARM_NODE])
		return 0;
	struct sbx_warm *wm = calloc(1, sizeof(*wm));
	if (!wm)
		return -ENOMEM;
	ctx->warm = wm;
	for (unsigned k = 0; k < SBX_WARM_N_POOLS; k++) {
		wm->pools[k].kind = kinds[k];
		wm->pools[k].size = bounded(sizes[k]);
		if (k != SBX_WARM_EXEC && wm->pools[k].size && !(wm->rt[k] = sbx_warm_rt_new(k))) {
			sbx_warm_fini(ctx);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Kill, reap and free a pooled sandbox nobody will use. Blocking, but
 * only on failure paths, for a runtime one started for an environment no
 * request uses any more (while idle), and at shutdown. */
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
	w->req = NULL; /* a template, not unpacked */
	sbx_exec_free(w);
}

void sbx_warm_fini(struct sbx_ctx *ctx)
{
	struct sbx_warm *wm = ctx->warm;
	if (!wm)
		return;
	for (int k = 0; k < SBX_WARM_N_POOLS; k++) {
		while (wm->pools[k].len > 0)
			discard(ctx, wm->pools[k].ready[--wm->pools[k].len]);
		sbx_warm_rt_free(wm->rt[k]);
	}
	free(wm);
	ctx->warm = NULL;
}

/* Remove ready[i] from p (the order of the rest does not matter). */
static struct sbx_exec *pool_remove(struct pool *p, unsigned i)
{
	struct sbx_exec *w = p->ready[i];
	p->len--;
	p->ready[i] = p->ready[p->len];
	p->gen[i] = p->gen[p->len];
	return w;
}

/* Build one sandbox for pool k, or drop one a runtime's request no
 * longer fits. Returns true if it did something. */
static bool refill_pool(struct sbx_ctx *ctx, struct sbx_warm *wm, int k, uint64_t now)
{
	struct pool *p = &wm->pools[k];
	if (!p->size)
		return false;
	struct sbx_warm_rt *rt = wm->rt[k];
	uint64_t gen = rt ? sbx_warm_rt_gen(rt) : 0;
	for (unsigned i = 0; i < p->len; i++)
		if (p->gen[i] != gen) {
			discard(ctx, pool_remove(p, i));
			return true;
		}
	/* A runtime: nothing to start before a request has shown the
	 * environment its interpreters must read. */
	if (p->len >= p->size || now < p->retry_at || (rt && gen == 0))
		return false;
	struct sbx_exec *w = sbx_exec_new(ctx, -1);
	if (!w)
		return false;
	w->warm = true;
	w->req = &template_req;
	if (rt && sbx_warm_rt_prepare(rt, w) < 0) {
		discard(ctx, w);
		return false;
	}
	const char *what;
	if (sbx_exec_spawn(ctx, w, &what) < 0 || w->error[0]) {
		/* Whatever the cold path would have said is said by the cold
		 * path itself, when an execution gets there. */
		discard(ctx, w);
		p->failed++;
		p->retry_at = now + RETRY_NS;
		return false;
	}
	p->gen[p->len] = gen;
	p->ready[p->len++] = w;
	p->stamps[p->built % RATE_STAMPS] = sbx_clock_mono_ns();
	p->built++;
	return true;
}

bool sbx_warm_refill(struct sbx_ctx *ctx)
{
	struct sbx_warm *wm = ctx->warm;
	/* Only while no execution runs: a build costs the spawner ~1 ms
	 * (clone, uid maps) and its child's set-up a core meanwhile. Next to
	 * a running execution that delayed its end by more than the pre-built
	 * start saved (bench-engine, /bin/true p50 on 2 shared cores: 7.4 ms
	 * refilling at once vs 6.8 ms with the pool off; 4.4-4.6 ms refilling
	 * only between executions). Under steady load the pools run dry and
	 * executions start cold, at the cost of a cold start. */
	if (!wm || ctx->stopping || ctx->n_running > 0)
		return false;
	uint64_t now = sbx_clock_mono_ns();
	/* The pools take turns, so neither starves the other. */
	for (int i = 0; i < SBX_WARM_N_POOLS; i++) {
		int k = (int)((wm->next + (unsigned)i) % SBX_WARM_N_POOLS);
		if (refill_pool(ctx, wm, k, now)) {
			wm->next = (unsigned)(k + 1) % SBX_WARM_N_POOLS;
			return true;
		}
	}
	return false;
}

static bool basic_fits(const struct sbx_ctx *ctx, const struct sbx_exec *ex)
{
	const Sbx__SpawnRequest *req = ex->req;
	return ctx->warm && req && !req->network && !req->bridge && !req->merge_stderr &&
	       !req->workspace[0] && !req->tmp_dir[0] &&
	       req->n_binds == 0 && ex->caller_netns_fd < 0 && ex->req_len <= SBX_WARM_MAX_REQUEST;
}

/* The runtime pool whose interpreter ex runs, or SBX_WARM_EXEC. */
static unsigned runtime_of(const struct sbx_ctx *ctx, const struct sbx_exec *ex)
{
	for (unsigned k = SBX_WARM_EXEC + 1; k < SBX_WARM_N_POOLS; k++)
		if (ctx->warm->rt[k] && sbx_warm_rt_shaped(ctx->warm->rt[k], ex->req))
			return k;
	return SBX_WARM_EXEC;
}

bool sbx_warm_fits(const struct sbx_ctx *ctx, const struct sbx_exec *ex)
{
	return basic_fits(ctx, ex) &&
	       (ctx->warm->pools[SBX_WARM_EXEC].size || runtime_of(ctx, ex) != SBX_WARM_EXEC);
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

/* Whether a pooled sandbox's init has exited (its interpreter died, or
 * its set-up failed) while it waited. */
static bool gone(const struct sbx_exec *w)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	return waitid((idtype_t)P_PIDFD, (id_t)w->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	       si.si_pid != 0;
}

/* Hand w to ex: limits, request, fds. 0, or <0 with w discarded and ex
 * untouched. */
static int take_one(struct sbx_ctx *ctx, struct pool *p, struct sbx_exec *w, struct sbx_exec *ex)
{
	/* Limits first: the sandbox must not run a single instruction of the
	 * request before its cgroup holds them. */
	struct sbx_cgroup_slot none = ex->cg;
	ex->cg = w->cg;
	int r = gone(w) ? -ESRCH : sbx_cgroup_limits(ctx, ex);
	if (r == 0)
		r = send_request(w, ex);
	if (r < 0) {
		/* Gone or unusable (its set-up failed, it was killed, its
		 * interpreter uses more memory than the request may): drop it
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
	ex->warm_rt = w->warm_rt;
	w->req = NULL;
	sbx_exec_free(w);
	p->taken++;
	p->in_use++;
	ex->pooled = true;
	return 0;
}

/* A ready sandbox of runtime pool k for ex: 0 = taken; <0 = none (ex
 * untouched). */
static int take_runtime(struct sbx_ctx *ctx, struct sbx_warm *wm, unsigned k, struct sbx_exec *ex)
{
	struct pool *p = &wm->pools[k];
	if (!sbx_warm_rt_match(wm->rt[k], ex->req)) {
		/* Another environment than the interpreters were started
		 * with: start them with this one from now on (the old ones
		 * are dropped while idle). */
		sbx_warm_rt_learn(wm->rt[k], ex->req);
		p->misses++;
		return -ENOENT;
	}
	uint64_t gen = sbx_warm_rt_gen(wm->rt[k]);
	for (unsigned i = p->len; i-- > 0;) {
		if (p->gen[i] != gen)
			continue;
		if (take_one(ctx, p, pool_remove(p, i), ex) == 0)
			return 0;
		i = p->len; /* one failed: look again from the top */
	}
	p->misses++;
	return -ENOENT;
}

int sbx_warm_take(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	struct sbx_warm *wm = ctx->warm;
	if (!basic_fits(ctx, ex) || !ex->reqbuf)
		return -ENOENT;
	unsigned k = runtime_of(ctx, ex);
	if (k != SBX_WARM_EXEC && take_runtime(ctx, wm, k, ex) == 0)
		return 0;
	struct pool *p = &wm->pools[SBX_WARM_EXEC];
	if (!p->size)
		return -ENOENT;
	if (p->len == 0) {
		p->misses++;
		return -ENOENT;
	}
	return take_one(ctx, p, pool_remove(p, p->len - 1), ex);
}

void sbx_warm_done(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (ex->pooled && ctx->warm) {
		struct pool *p = &ctx->warm->pools[ex->warm_rt < SBX_WARM_N_POOLS ? ex->warm_rt : 0];
		if (p->in_use > 0)
			p->in_use--;
	}
	ex->pooled = false;
}

/* What a ready sandbox holds in memory: its cgroup's charge (v1 or v2). */
static uint64_t ready_memory_kb(const struct sbx_ctx *ctx, const struct pool *p)
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
	const struct sbx_warm *wm = ctx->warm;
	unsigned n_out = 0;
	if (!wm)
		return 0;
	uint64_t now = sbx_clock_mono_ns();
	for (int k = 0; k < SBX_WARM_N_POOLS && n_out < max; k++) {
		const struct pool *p = &wm->pools[k];
		uint64_t n = 0;
		if (!p->size)
			continue;
		for (uint64_t i = 0; i < p->built && i < RATE_STAMPS; i++)
			n += now - p->stamps[i] <= RATE_WINDOW_NS;
		out[n_out] = (struct sbx_warm_stats){
			.size = p->size, .ready = p->len, .in_use = p->in_use, .built = p->built,
			.taken = p->taken, .misses = p->misses, .failed = p->failed,
			.refill_per_s = (double)n / (double)(RATE_WINDOW_NS / 1000000000ull),
			.memory_kb = ready_memory_kb(ctx, p)};
		snprintf(out[n_out].kind, sizeof(out[n_out].kind), "%s", p->kind);
		n_out++;
	}
	return n_out;
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
