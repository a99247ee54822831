/* The spawner: a single-threaded process forked by sbx_engine_new() before
 * the daemon has threads. It alone calls clone(), mount() and seccomp
 * (after fork() in a threaded process only async-signal-safe calls are
 * allowed, and clone() from a threaded process copies locks held by other
 * threads). One epoll loop serves every execution at once: request in,
 * clone, feed stdin, drain capped output, time limits, reap, reply.
 *
 * Execution lifecycle (exec.c-like, kept here with the loop that drives it):
 *   socket arrives on ctl -> read REQUEST frame -> queued if at
 *   max_concurrent -> start (prepare hooks, clone, parent hooks, "go")
 *   -> running (pipes, pidfd, timer) -> reaped -> result -> reply. */
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "fdio.h"
#include "module.h"
#include "net.h"
#include "spawner.h"
#include "spawner_exec.h"
#include "spawner_state.h"
#include "warm.h"
#include "wire.h"

static struct sbx_watch ctl_watch = {.ex = NULL, .kind = W_CTL};

int sbx_epoll_add(struct sbx_ctx *ctx, int fd, uint32_t events, struct sbx_watch *w)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void sbx_epoll_del(struct sbx_ctx *ctx, int fd)
{
	if (fd >= 0)
		epoll_ctl(ctx->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void list_remove(struct sbx_exec **head, struct sbx_exec *ex)
{
	if (ex->prev)
		ex->prev->next = ex->next;
	else if (*head == ex)
		*head = ex->next;
	if (ex->next)
		ex->next->prev = ex->prev;
	ex->next = ex->prev = NULL;
}

static void list_push(struct sbx_exec **head, struct sbx_exec *ex)
{
	ex->prev = NULL;
	ex->next = *head;
	if (*head)
		(*head)->prev = ex;
	*head = ex;
}

void sbx_exec_running_remove(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	list_remove(&ctx->running, ex);
	ctx->n_running--;
	sbx_warm_done(ctx, ex);
}

/* Freed after the current batch of epoll events: a later event of the
 * same batch may still point at it. */
void sbx_exec_retire(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	sbx_epoll_del(ctx, ex->fd);
	if (ex->fd >= 0)
		close(ex->fd);
	ex->fd = -1;
	ex->state = EX_DEAD;
	list_push(&ctx->reaped, ex);
}

static void start_queued(struct sbx_ctx *ctx)
{
	while (ctx->queued_head && ctx->n_running < ctx->cfg.max_concurrent) {
		struct sbx_exec *ex = ctx->queued_head;
		ctx->queued_head = ex->next;
		if (!ctx->queued_head)
			ctx->queued_tail = NULL;
		ex->next = ex->prev = NULL;
		list_push(&ctx->running, ex);
		ctx->n_running++;
		sbx_exec_start(ctx, ex);
	}
}

static void enqueue(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	ex->state = EX_QUEUED;
	ex->next = NULL;
	ex->prev = ctx->queued_tail;
	if (ctx->queued_tail)
		ctx->queued_tail->next = ex;
	else
		ctx->queued_head = ex;
	ctx->queued_tail = ex;
}

static void dequeue(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (ex->prev)
		ex->prev->next = ex->next;
	else
		ctx->queued_head = ex->next;
	if (ex->next)
		ex->next->prev = ex->prev;
	else
		ctx->queued_tail = ex->prev;
	ex->next = ex->prev = NULL;
}

static void on_ctl(struct sbx_ctx *ctx)
{
	for (;;) {
		int fds[SBX_WIRE_MAX_FDS];
		size_t nfds = 0;
		int r = sbx_wire_recv_fds(ctx->ctl_fd, fds, &nfds);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			/* The engine is being freed (or the daemon died). */
			sbx_epoll_del(ctx, ctx->ctl_fd);
			ctx->stopping = true;
			return;
		}
		int fd = fds[0];
		struct sbx_exec *ex = sbx_exec_new(ctx, fd);
		if (!ex) {
			for (size_t i = 0; i < nfds; i++)
				close(fds[i]);
			continue;
		}
		/* A second fd: the caller's network namespace (a service's). */
		if (nfds > 1)
			ex->caller_netns_fd = fds[1];
		if (sbx_epoll_add(ctx, fd, EPOLLIN | EPOLLRDHUP, &ex->w_sock) < 0) {
			ex->state = EX_DEAD;
			list_push(&ctx->reaped, ex);
		}
	}
}

/* The execution socket: the request, later only EOF (= cancel), and
 * EPOLLOUT while live output or the reply is being written. */
static void on_sock(struct sbx_ctx *ctx, struct sbx_exec *ex, uint32_t events)
{
	if (ex->state == EX_REPLYING) {
		if (sbx_exec_reply_more(ctx, ex) != -EAGAIN)
			sbx_exec_replied(ctx, ex);
		return;
	}
	if (ex->state == EX_READING) {
		int r = sbx_exec_read_request(ctx, ex);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			sbx_exec_retire(ctx, ex);
			return;
		}
		if (r == SBX_EXEC_READ_WARM_STATS) {
			sbx_exec_reply_warm_stats(ctx, ex);
			return;
		}
		/* Only EOF is of interest now (frames for live sandboxes would
		 * be read here). */
		struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = &ex->w_sock};
		epoll_ctl(ctx->epfd, EPOLL_CTL_MOD, ex->fd, &ev);
		if (ex->error[0]) {
			sbx_exec_fail_early(ctx, ex);
			return;
		}
		enqueue(ctx, ex);
		start_queued(ctx);
		return;
	}
	if (ex->state == EX_RUNNING && (events & EPOLLOUT))
		sbx_stream_on_writable(ctx, ex);
	if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	/* The caller went away: nobody wants this result any more. */
	if (ex->state == EX_QUEUED) {
		dequeue(ctx, ex);
		sbx_exec_retire(ctx, ex);
	} else if (ex->state == EX_RUNNING) {
		/* Kill the tree, but close the socket (the caller's EOF) only
		 * once the init is reaped, which in a pid namespace means every
		 * process of it is gone: when a stop returns, nothing of the
		 * sandbox answers any more (a restarted service's old process
		 * must not serve one more request). */
		sbx_epoll_del(ctx, ex->fd);
		sbx_exec_kill(ctx, ex, SBX_KILL_CANCEL);
	}
}

static void dispatch(struct sbx_ctx *ctx, struct epoll_event *ev)
{
	struct sbx_watch *w = ev->data.ptr;
	if (w->kind == W_CTL) {
		on_ctl(ctx);
		return;
	}
	struct sbx_exec *ex = w->ex;
	if (ex->state == EX_DEAD)
		return;
	switch (w->kind) {
	case W_SOCK:
		on_sock(ctx, ex, ev->events);
		break;
	case W_STDOUT:
	case W_STDERR:
		sbx_exec_on_output(ctx, ex, w->kind == W_STDOUT ? 0 : 1);
		break;
	case W_STDIN:
		sbx_exec_on_stdin(ctx, ex);
		break;
	case W_PIDFD:
		sbx_exec_on_exit(ctx, ex);
		break;
	case W_STATUS:
		sbx_exec_on_status(ctx, ex);
		break;
	case W_TIMER:
		sbx_exec_on_timer(ctx, ex);
		break;
	}
}

static int modules_init(struct sbx_ctx *ctx)
{
	for (unsigned i = 0; i < sbx_n_modules; i++)
		if (sbx_modules[i]->init) {
			int r = sbx_modules[i]->init(ctx);
			if (r < 0)
				return r;
		}
	return 0;
}

static void modules_fini(struct sbx_ctx *ctx)
{
	for (unsigned i = sbx_n_modules; i-- > 0;)
		if (sbx_modules[i]->fini)
			sbx_modules[i]->fini(ctx);
}

static void shutdown_all(struct sbx_ctx *ctx)
{
	while (ctx->queued_head) {
		struct sbx_exec *ex = ctx->queued_head;
		dequeue(ctx, ex);
		sbx_exec_retire(ctx, ex);
	}
	for (struct sbx_exec *ex = ctx->running; ex; ex = ex->next)
		if (ex->state == EX_RUNNING)
			sbx_exec_kill(ctx, ex, SBX_KILL_SHUTDOWN);
}

static void free_reaped(struct sbx_ctx *ctx)
{
	while (ctx->reaped) {
		struct sbx_exec *ex = ctx->reaped;
		list_remove(&ctx->reaped, ex);
		sbx_exec_free(ex);
	}
}

static int spawner_setup(struct sbx_ctx *ctx, const struct sbx_engine_config *cfg,
			 enum sbx_cgroup_mode mode, int ctl_fd)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = *cfg;
	snprintf(ctx->state_dir_buf, sizeof(ctx->state_dir_buf), "%s", cfg->state_dir);
	ctx->cfg.state_dir = ctx->state_dir_buf;
	ctx->cg_mode = mode;
	ctx->ctl_fd = ctl_fd;
	ctx->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ctx->ncpu < 1)
		ctx->ncpu = 1;

	/* The daemon may have blocked or ignored signals; the spawner needs
	 * SIGCHLD at its default (an explicit SIG_IGN would auto-reap and
	 * lose exit statuses) and EPIPE instead of SIGPIPE. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN); /* ^C in a terminal: the daemon decides */
	/* What a sandbox must set back (child.c): the spawner has no handler
	 * (it was exec'd), so only what it ignores, now that it is settled. */
	sigemptyset(&ctx->sig_ignored);
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;
		if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
			sigaddset(&ctx->sig_ignored, s);
	}
	prctl(PR_SET_NAME, "sbx-spawner");
	/* Supplementary groups cannot be changed inside (setgroups is
	 * denied), so they must already be empty here, where children
	 * inherit them from. */
	if (setgroups(0, NULL) < 0)
		return -errno;
	int fl = fcntl(ctl_fd, F_GETFL);
	if (fl < 0 || fcntl(ctl_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	ctx->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctx->epfd < 0)
		return -errno;
	int r = modules_init(ctx);
	if (r < 0 || (r = sbx_warm_init(ctx)) < 0)
		return r;
	return sbx_epoll_add(ctx, ctl_fd, EPOLLIN, &ctl_watch);
}

_Noreturn void sbx_spawner_main(const struct sbx_engine_config *cfg, enum sbx_cgroup_mode mode,
				int ctl_fd)
{
	/* Die with the daemon's thread that forked us; our sandboxes follow
	 * (their init has PDEATHSIG too). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Keep freed memory rather than giving it back at once: every page
	 * the heap grows by again is a fault (and after each clone() every
	 * page the spawner writes is a copy-on-write one). */
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	struct sbx_ctx *ctx = calloc(1, sizeof(*ctx));
	int r = ctx ? spawner_setup(ctx, cfg, mode, ctl_fd) : -ENOMEM;
	/* Set up: tell the engine what the cgroups can enforce. */
	if (r == 0 &&
	    (ctx->cg_mode == SBX_CG_V1 || (ctx->cg_mode == SBX_CG_V2 && ctx->cg_v2_memory)))
		r = SBX_SPAWNER_BOOT_MEMORY;
	if (sbx_write_full(ctl_fd, &r, sizeof(r)) < 0 || r < 0)
		_exit(1);

	struct epoll_event evs[64];
	for (;;) {
		bool idle_work = !ctx->stopping && ctx->queued_head == NULL;
		int n = epoll_wait(ctx->epfd, evs, SBX_ARRAY_SIZE(evs), idle_work ? 0 : -1);
		if (n < 0 && errno != EINTR)
			break;
		if (n == 0) {
			/* Nothing to do right now: prepare the next executions. */
			if (!sbx_cgroup_refill(ctx) && !sbx_net_refill(ctx) &&
			    !sbx_warm_refill(ctx)) {
				n = epoll_wait(ctx->epfd, evs, SBX_ARRAY_SIZE(evs), -1);
				if (n < 0 && errno != EINTR)
					break;
			}
		}
		for (int i = 0; i < n; i++)
			dispatch(ctx, &evs[i]);
		free_reaped(ctx);
		if (ctx->stopping) {
			shutdown_all(ctx);
			if (!ctx->running)
				break;
		} else {
			start_queued(ctx);
		}
	}
	free_reaped(ctx);
	sbx_warm_fini(ctx);
	modules_fini(ctx);
	free(ctx);
	_exit(0);
}
