/* One execution in the spawner: start, I/O, limits, reap, result. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "clock.h"
#include "mnt.h"
#include "module.h"
#include "net.h"
#include "spawner_exec.h"
#include "warm.h"
#include "wire.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void reply_early(struct sbx_ctx *ctx, struct sbx_exec *ex);

struct sbx_exec *sbx_exec_new(struct sbx_ctx *ctx, int fd)
{
	struct sbx_exec *ex = sbx_exec_mem_get();
	if (!ex)
		return NULL;
	ex->id = ++ctx->next_exec_id;
	ex->fd = fd;
	ex->state = EX_READING;
	ex->stdin_w = ex->pidfd = ex->timerfd = ex->status_r = ex->go_w = -1;
	ex->child_stdin = ex->child_stdout = ex->child_stderr = -1;
	ex->child_status = ex->child_go = -1;
	ex->netns_fd = ex->caller_netns_fd = -1;
	for (int i = 0; i < SBX_V1_N; i++)
		ex->cg.dfd[i] = -1;
	ex->w_sock = (struct sbx_watch){ex, W_SOCK};
	ex->w_pidfd = (struct sbx_watch){ex, W_PIDFD};
	ex->w_timer = (struct sbx_watch){ex, W_TIMER};
	ex->w_stdin = (struct sbx_watch){ex, W_STDIN};
	ex->w_status = (struct sbx_watch){ex, W_STATUS};
	for (int i = 0; i < 2; i++) {
		ex->out[i].fd = -1;
		ex->out[i].w = (struct sbx_watch){ex, i == 0 ? W_STDOUT : W_STDERR};
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return ex;
}

void sbx_exec_free(struct sbx_exec *ex)
{
	if (!ex)
		return;
	close_fd(&ex->fd);
	close_fd(&ex->stdin_w);
	close_fd(&ex->pidfd);
	close_fd(&ex->timerfd);
	close_fd(&ex->status_r);
	close_fd(&ex->go_w);
	close_fd(&ex->child_stdin);
	close_fd(&ex->child_stdout);
	close_fd(&ex->child_stderr);
	close_fd(&ex->child_status);
	close_fd(&ex->child_go);
	sbx_mnt_release(ex);
	close_fd(&ex->caller_netns_fd);
	for (int i = 0; i < 2; i++) {
		close_fd(&ex->out[i].fd);
		free(ex->out[i].data);
	}
	free(ex->both.data);
	if (ex->req)
		sbx__spawn_request__free_unpacked(ex->req, sbx_exec_mem_allocator(ex));
	sbx_exec_mem_free(ex, ex->reqbuf);
	sbx_exec_mem_free(ex, ex->argv);
	sbx_exec_mem_free(ex, ex->envp);
	sbx_exec_mem_free(ex, ex->reply);
	free(ex->sfrag);
	sbx_exec_mem_put(ex);
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

int sbx_exec_read_request(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	while (ex->hdr_got < SBX_FRAME_HDR) {
		ssize_t n = read_some(ex->fd, ex->hdr + ex->hdr_got, SBX_FRAME_HDR - ex->hdr_got);
		if (n <= 0)
			return n < 0 && errno == EAGAIN ? -EAGAIN : -ECONNRESET;
		ex->hdr_got += (size_t)n;
		if (ex->hdr_got < SBX_FRAME_HDR)
			continue;
		uint32_t type, len;
		sbx_frame_parse(ex->hdr, &type, &len);
		/* Not an execution: a question about the pools (wire.h). */
		if (type == SBX_FRAME_WARM_STATS_REQUEST)
			return len == 0 ? SBX_EXEC_READ_WARM_STATS : -EBADMSG;
		if (type != SBX_FRAME_REQUEST || len > ctx->cfg.max_request_bytes)
			return -EBADMSG;
		ex->req_len = len;
		ex->reqbuf = sbx_exec_mem_alloc(ex, len);
		if (!ex->reqbuf)
			return -ENOMEM;
	}
	while (ex->req_got < ex->req_len) {
		ssize_t n = read_some(ex->fd, ex->reqbuf + ex->req_got, ex->req_len - ex->req_got);
		if (n <= 0)
			return n < 0 && errno == EAGAIN ? -EAGAIN : -ECONNRESET;
		ex->req_got += (size_t)n;
	}
	/* The packed request is kept until the start: a pre-built sandbox
	 * is sent it as it came (warm.c). */
	ex->req = sbx__spawn_request__unpack(sbx_exec_mem_allocator(ex), ex->req_len, ex->reqbuf);
	if (!ex->req)
		return -EBADMSG;
	if (!sbx_warm_fits(ctx, ex)) {
		sbx_exec_mem_free(ex, ex->reqbuf);
		ex->reqbuf = NULL;
	}
	/* The daemon side checked already; the privileged side checks again. */
	const char *why;
	if (sbx_engine_check(ex->req, &why) < 0) {
		snprintf(ex->error, sizeof(ex->error), "%s", why);
		return 0;
	}
	ex->argv = sbx_exec_mem_alloc(ex, (ex->req->n_argv + 1) * sizeof(char *));
	ex->envp = sbx_exec_mem_alloc(ex, (ex->req->n_env + 1) * sizeof(char *));
	if (!ex->argv || !ex->envp)
		return -ENOMEM;
	memcpy(ex->argv, ex->req->argv, ex->req->n_argv * sizeof(char *));
	ex->argv[ex->req->n_argv] = NULL;
	memcpy(ex->envp, ex->req->env, ex->req->n_env * sizeof(char *));
	ex->envp[ex->req->n_env] = NULL;
	return 0;
}

/* ---- result and reply ---------------------------------------------- */

int sbx_exec_reply_more(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	while (ex->reply_off < ex->reply_len) {
		ssize_t n = send(ex->fd, ex->reply + ex->reply_off, ex->reply_len - ex->reply_off,
				 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -EAGAIN : -errno;
		ex->reply_off += (size_t)n;
	}
	return 0;
}

/* Write ex->reply, then let ex go (sbx_exec_replied: at once when the
 * socket took it all or the daemon is gone, else from on_sock once EPOLLOUT
 * let the rest out). */
static void start_reply(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	ex->state = EX_REPLYING;
	int r = sbx_exec_reply_more(ctx, ex);
	if (r != -EAGAIN) {
		sbx_exec_replied(ctx, ex);
		return;
	}
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = &ex->w_sock};
	if (epoll_ctl(ctx->epfd, EPOLL_CTL_MOD, ex->fd, &ev) < 0)
		sbx_exec_replied(ctx, ex);
}

static void send_result(struct sbx_ctx *ctx, struct sbx_exec *ex, const Sbx__ExecResult *res)
{
	if (ex->fd < 0 || ex->kill == SBX_KILL_CANCEL) {
		sbx_exec_replied(ctx, ex); /* cancelled: nobody to tell */
		return;
	}
	size_t len = sbx__exec_result__get_packed_size(res);
	size_t pre = sbx_stream_trailer_len(ex);
	ex->reply = sbx_exec_mem_alloc(ex, pre + SBX_FRAME_HDR + len);
	if (!ex->reply) {
		sbx_exec_replied(ctx, ex); /* the daemon sees EOF: -EIO */
		return;
	}
	pre = sbx_stream_trailer(ex, ex->reply);
	sbx_frame_hdr(ex->reply + pre, SBX_FRAME_RESULT, (uint32_t)len);
	sbx__exec_result__pack(res, ex->reply + pre + SBX_FRAME_HDR);
	ex->reply_len = pre + SBX_FRAME_HDR + len;
	start_reply(ctx, ex);
}

void sbx_exec_reply_warm_stats(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	struct sbx_warm_stats st[SBX_WARM_MAX_POOLS];
	/* Zeroed: the padding between fields goes out too. */
	memset(st, 0, sizeof(st));
	size_t len = sbx_warm_stats(ctx, st, SBX_WARM_MAX_POOLS) * sizeof(st[0]);
	ex->reply = malloc(SBX_FRAME_HDR + len);
	if (!ex->reply) {
		sbx_exec_retire(ctx, ex); /* the daemon sees EOF */
		return;
	}
	sbx_frame_hdr(ex->reply, SBX_FRAME_WARM_STATS, (uint32_t)len);
	memcpy(ex->reply + SBX_FRAME_HDR, st, len);
	ex->reply_len = SBX_FRAME_HDR + len;
	start_reply(ctx, ex);
}

void sbx_exec_replied(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (!ex->replied || ex->reaped) {
		sbx_exec_retire(ctx, ex);
		return;
	}
	/* The daemon has the result; the init is not reaped yet: the socket
	 * goes now, ex when the reap comes (finish). */
	sbx_epoll_del(ctx, ex->fd);
	close_fd(&ex->fd);
	ex->state = EX_DRAINING;
}

void sbx_exec_fail_early(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	Sbx__ExecResult res = SBX__EXEC_RESULT__INIT;
	res.status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
	res.error = ex->error;
	send_result(ctx, ex, &res);
}

static void teardown_modules(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res)
{
	for (unsigned i = sbx_n_modules; i-- > 0;)
		if (sbx_modules[i]->teardown)
			sbx_modules[i]->teardown(ctx, ex, res);
}

/* Add what the status pipe holds now to rep (read as it comes while the
 * sandbox runs, and once more at the reap). Returns true at EOF: every
 * process that could write to it is gone. */
static bool read_reports(struct sbx_exec *ex, struct sbx_child_report *rep)
{
	struct sbx_child_msg m;
	ssize_t n;
	while (ex->status_r >= 0 && (n = read_some(ex->status_r, &m, sizeof(m))) != 0) {
		if (n != sizeof(m))
			return false; /* nothing more now (messages are atomic) */
		if (m.kind == SBX_MSG_EXIT) {
			rep->exit = m;
			rep->have_exit = true;
		} else if (m.kind == SBX_MSG_TRACE) {
			rep->trace = m;
			rep->have_trace = true;
		} else if (!rep->have_setup) {
			m.text[sizeof(m.text) - 1] = 0;
			rep->setup = m;
			rep->have_setup = true;
		}
	}
	return ex->status_r >= 0;
}

static void trace_print(const struct sbx_ctx *ctx, const struct sbx_exec *ex,
			const struct sbx_child_report *rep)
{
	const uint64_t *t = ex->trace_ns;
	char child[256] = "";
	size_t off = 0;
	for (unsigned i = 0; rep->have_trace && i < sbx_n_modules && i < SBX_TRACE_SLOTS; i++)
		if (rep->trace.trace_us[i] && off < sizeof(child))
			off += (size_t)snprintf(child + off, sizeof(child) - off, " %s=%u",
						sbx_modules[i]->name, rep->trace.trace_us[i]);
	/* From the payload's execve() to its init's exit (exec, the payload,
	 * its exit), and from there to the reap (namespace teardown). */
	uint64_t payload = 0, nsdown = 0;
	if (rep->have_trace && rep->have_exit && rep->exit.mono_ns > rep->trace.mono_ns)
		payload = (rep->exit.mono_ns - rep->trace.mono_ns) / 1000;
	if (rep->have_exit && t[4] > rep->exit.mono_ns)
		nsdown = (t[4] - rep->exit.mono_ns) / 1000;
	fprintf(stderr,
		"sbx-trace id=%" PRIu64 " prepare=%" PRIu64 "us clone=%" PRIu64 "us parent=%" PRIu64
		"us run=%" PRIu64 "us teardown=%" PRIu64 "us exec_to_exit=%" PRIu64
		"us exit_to_reap=%" PRIu64 "us child(us):%s\n",
		ex->id, (t[1] - t[0]) / 1000, (t[2] - t[1]) / 1000, (t[3] - t[2]) / 1000,
		(t[4] - t[3]) / 1000, (t[5] - t[4]) / 1000, payload, nsdown, child);
}

static const char *signame(int sig)
{
	const char *s = sigabbrev_np(sig);
	return s ? s : "?";
}

/* Decide the status: the first that applies of set-up failure, exec
 * failure, cancellation, CPU, wall, memory, output, signal, exit code. */
static void decide(const struct sbx_ctx *ctx, struct sbx_exec *ex,
		   const struct sbx_child_report *rep, Sbx__ExecResult *res, char *err,
		   size_t errlen)
{
	const Sbx__Limits *l = ex->req->limits;
	bool exited = false;
	int code = 0, sig = 0;
	if (rep->have_exit) {
		int st = rep->exit.wstatus;
		exited = WIFEXITED(st);
		code = exited ? WEXITSTATUS(st) : 0;
		sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	} else if (WIFSIGNALED(ex->init_wstatus)) {
		sig = WTERMSIG(ex->init_wstatus); /* we (or the OOM killer) killed the init */
	}
	res->cpu_time_ms = ex->have_cpu ? ex->cpu_used_ns / 1000000 : rep->exit.cpu_ms;
	if (!ex->have_peak)
		res->memory_peak_kb = rep->exit.maxrss_kb;
	res->exit_code = exited ? code : sig ? 128 + sig : -1;
	res->signal = sig;

	Sbx__ExecStatus st;
	if (ex->error[0]) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, errlen, "%s", ex->error);
	} else if (rep->have_setup && rep->setup.kind == SBX_MSG_EXEC_ERROR) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		res->exit_code = 127;
		res->signal = 0;
		snprintf(err, errlen, "%s", rep->setup.text);
	} else if (rep->have_setup) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		sbx_sentence(err, errlen, "sandbox set-up failed: %s", rep->setup.text);
	} else if (ex->kill == SBX_KILL_CANCEL || ex->kill == SBX_KILL_SHUTDOWN) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, errlen, "execution cancelled");
	} else if (!rep->have_exit && !sig) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, errlen, "sandbox init exited unexpectedly (status %d)",
			 ex->init_wstatus);
	} else if (ex->kill == SBX_KILL_CPU || sig == SIGXCPU ||
		   (sig == SIGKILL && res->cpu_time_ms >= l->cpu_time_ms)) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT;
		snprintf(err, errlen, "CPU time limit exceeded (%" PRIu64 " ms)", l->cpu_time_ms);
	} else if (ex->kill == SBX_KILL_WALL) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
		snprintf(err, errlen, "wall time limit exceeded (%" PRIu64 " ms)", l->wall_time_ms);
	} else if (ex->oom) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_MEMORY_LIMIT;
		snprintf(err, errlen, "memory limit exceeded (%" PRIu64 " KB)", l->memory_kb);
	} else if (ex->kill == SBX_KILL_OUTPUT || ex->out[0].truncated || ex->out[1].truncated) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_OUTPUT_LIMIT;
		snprintf(err, errlen, "output limit exceeded (%" PRIu64 " bytes)", l->output_bytes);
	} else if (sig) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_SIGNALED;
		snprintf(err, errlen, "killed by signal %d (SIG%s)%s", sig, signame(sig),
			 sig == SIGXFSZ ? ": file size limit exceeded" : "");
	} else if (code != 0) {
		st = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		snprintf(err, errlen, "exited with code %d", code);
	} else {
		st = SBX__EXEC_STATUS__EXEC_STATUS_OK;
	}
	res->status = st;
}

/* The result once the status is decided; err holds its sentence. */
static void result_fill(const struct sbx_ctx *ctx, struct sbx_exec *ex,
			const struct sbx_child_report *rep, uint64_t end, Sbx__ExecResult *res,
			char *err, size_t errlen)
{
	decide(ctx, ex, rep, res, err, errlen);
	res->wall_time_ms = (end - ex->t_start) / 1000000;
	res->stdout.data = (uint8_t *)ex->out[0].data;
	res->stdout.len = ex->out[0].len;
	res->stderr.data = (uint8_t *)ex->out[1].data;
	res->stderr.len = ex->out[1].len;
	res->stdout_truncated = ex->out[0].truncated;
	res->stderr_truncated = ex->out[1].truncated;
	res->output.data = (uint8_t *)ex->both.data;
	res->output.len = ex->both.len;
	res->output_truncated = ex->both.truncated;
	res->error = err;
	res->execution_id = ex->req->execution_id;
}

/* Stop watching what the result is made of: output, stdin, status. */
static void close_io(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	sbx_epoll_del(ctx, ex->stdin_w);
	sbx_epoll_del(ctx, ex->status_r);
	for (int i = 0; i < 2; i++) {
		sbx_epoll_del(ctx, ex->out[i].fd);
		close_fd(&ex->out[i].fd);
	}
	close_fd(&ex->stdin_w);
	close_fd(&ex->status_r);
	close_fd(&ex->go_w);
}

/* The sandbox is gone (or never started): collect, clean up, reply
 * (unless reply_early did already). */
static void finish(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	static const struct sbx_child_report none;
	if (ex->rep)
		read_reports(ex, ex->rep);
	const struct sbx_child_report *rep = ex->rep ? ex->rep : &none;
	Sbx__ExecResult res = SBX__EXEC_RESULT__INIT;
	char err[SBX_SENTENCE_MAX] = "";
	teardown_modules(ctx, ex, ex->replied ? NULL : &res);
	ex->trace_ns[4] = ex->trace_ns[4] ? ex->trace_ns[4] : (uint64_t)sbx_clock_mono_ns();
	if (!ex->replied)
		result_fill(ctx, ex, rep, ex->t_exit ? ex->t_exit : (uint64_t)sbx_clock_mono_ns(),
			    &res, err, sizeof(err));
	sbx_epoll_del(ctx, ex->pidfd);
	sbx_epoll_del(ctx, ex->timerfd);
	close_fd(&ex->pidfd);
	close_fd(&ex->timerfd);
	close_io(ctx, ex);
	sbx_exec_running_remove(ctx, ex);
	ex->trace_ns[5] = sbx_clock_mono_ns();
	if (ctx->cfg.trace)
		trace_print(ctx, ex, rep);
	if (!ex->replied)
		send_result(ctx, ex, &res);
	else if (ex->state == EX_DRAINING)
		sbx_exec_retire(ctx, ex);
	/* else the reply is still being written: sbx_exec_replied retires */
}

/* The payload has ended (its init said so) and its output is at EOF. If
 * nothing else of the sandbox is left (its cgroup holds only the init,
 * which exits right after saying so), the result is final: send it now,
 * not after the reap, which waits for the kernel to take the namespaces
 * down (a few hundred µs on the critical path of every execution). The
 * rest (the reap, the cgroup, the slot) follows in finish(). A sandbox
 * killed, failed or with a process left takes the usual path. */
static void reply_early(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	const struct sbx_child_report *rep = ex->rep;
	if (ex->replied || ex->reaped || ex->state != EX_RUNNING || !rep || !rep->have_exit ||
	    rep->have_setup || ex->kill != SBX_KILL_NONE || ex->error[0] || ex->out[0].fd >= 0 ||
	    ex->out[1].fd >= 0 || !sbx_cgroup_alone(ctx, ex))
		return;
	Sbx__ExecResult res = SBX__EXEC_RESULT__INIT;
	char err[SBX_SENTENCE_MAX] = "";
	sbx_cgroup_collect(ctx, ex, &res);
	result_fill(ctx, ex, rep, rep->exit.mono_ns, &res, err, sizeof(err));
	close_io(ctx, ex);
	ex->replied = true;
	send_result(ctx, ex, &res);
}

void sbx_exec_on_status(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (!ex->rep)
		return;
	/* At EOF stop watching (it would stay readable); finish closes it. */
	if (read_reports(ex, ex->rep))
		sbx_epoll_del(ctx, ex->status_r);
	reply_early(ctx, ex);
}

/* ---- start ----------------------------------------------------------- */

static int pipe_pair(int *parent_end, int *child_end, bool parent_reads)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*parent_end = parent_reads ? p[0] : p[1];
	*child_end = parent_reads ? p[1] : p[0];
	return fcntl(*parent_end, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

static int make_pipes(struct sbx_exec *ex)
{
	int r;
	if ((r = pipe_pair(&ex->stdin_w, &ex->child_stdin, false)) < 0 ||
	    (r = pipe_pair(&ex->out[0].fd, &ex->child_stdout, true)) < 0)
		return r;
	/* merge_stderr: no stderr pipe, fd 2 is the stdout pipe (out[1] stays
	 * closed, as if at EOF). Warm sandboxes have both pipes: never taken. */
	if (ex->req && ex->req->merge_stderr)
		r = (ex->child_stderr = fcntl(ex->child_stdout, F_DUPFD_CLOEXEC, 0)) < 0 ? -errno
											 : 0;
	else
		r = pipe_pair(&ex->out[1].fd, &ex->child_stderr, true);
	if (r < 0 || (r = pipe_pair(&ex->status_r, &ex->child_status, true)) < 0 ||
	    (r = pipe_pair(&ex->go_w, &ex->child_go, false)) < 0)
		return r;
	return 0;
}

static pid_t do_clone(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	/* New user ns first of all (the kernel creates it before the others,
	 * so they belong to it); pid, mount, ipc, uts always; net unless the
	 * request wants the network or a pre-made netns is entered; the
	 * cgroup ns is unshared by the child once placed (cgroup.c). */
	struct clone_args a;
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |
		  CLONE_PIDFD;
	if (!ex->req->network && ex->netns_fd < 0)
		a.flags |= CLONE_NEWNET;
	a.pidfd = (uint64_t)(uintptr_t)&ex->pidfd;
	a.exit_signal = SIGCHLD;
	if (ctx->cg_mode == SBX_CG_V2 && ex->cg.dfd[0] >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)ex->cg.dfd[0];
	}
	/* A pooled netns is entered by the spawner just for the clone: the
	 * child inherits it, and the spawner steps straight back. */
	if (ex->netns_fd >= 0 && setns(ex->netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	int err = errno;
	if (pid == 0)
		return 0;
	if (ex->netns_fd >= 0 && sbx_net_enter_host(ctx) < 0)
		abort(); /* never keep running inside a sandbox's netns */
	return pid < 0 ? -err : pid;
}

static int arm_timer(struct sbx_exec *ex, uint64_t at_ns)
{
	struct itimerspec its = {0};
	its.it_value.tv_sec = (time_t)(at_ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(at_ns % 1000000000ull);
	return timerfd_settime(ex->timerfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

/* When to look at the CPU usage next: it cannot exceed the limit sooner
 * than (limit - used) / ncpu from now. */
static uint64_t next_check(const struct sbx_ctx *ctx, const struct sbx_exec *ex, uint64_t now,
			   uint64_t used_ns, bool have_cpu)
{
	uint64_t at = ex->t_deadline_wall;
	if (have_cpu) {
		uint64_t limit = ex->req->limits->cpu_time_ms * 1000000ull;
		uint64_t left = limit > used_ns ? (limit - used_ns) / (uint64_t)ctx->ncpu : 0;
		if (left < 2000000)
			left = 2000000;
		if (now + left < at)
			at = now + left;
	}
	return at;
}

static void start_failed(struct sbx_ctx *ctx, struct sbx_exec *ex, const char *what, int r)
{
	if (!ex->error[0])
		sbx_sentence(ex->error, sizeof(ex->error), "%s: %s", what, strerror(-r));
	finish(ctx, ex);
}

int sbx_exec_spawn(struct sbx_ctx *ctx, struct sbx_exec *ex, const char **what)
{
	int r;
	*what = "pipes";
	if ((r = make_pipes(ex)) < 0)
		return r;
	for (unsigned i = 0; i < sbx_n_modules; i++)
		if (sbx_modules[i]->prepare && (r = sbx_modules[i]->prepare(ctx, ex)) < 0) {
			*what = sbx_modules[i]->name;
			return r;
		}
	ex->trace_ns[1] = sbx_clock_mono_ns();

	sbx_exec_mem_fork(ex, true);
	pid_t pid = do_clone(ctx, ex);
	if (pid == 0)
		sbx_child_main(ctx, ex);
	sbx_exec_mem_fork(ex, false);
	*what = "clone";
	if (pid < 0)
		return pid;
	ex->pid = pid;
	ex->trace_ns[2] = sbx_clock_mono_ns();
	close_fd(&ex->child_stdin);
	close_fd(&ex->child_stdout);
	close_fd(&ex->child_stderr);
	close_fd(&ex->child_status);
	close_fd(&ex->child_go);

	for (unsigned i = 0; i < sbx_n_modules; i++)
		if (sbx_modules[i]->parent && (r = sbx_modules[i]->parent(ctx, ex)) < 0) {
			snprintf(ex->error, sizeof(ex->error), "%s: %s", sbx_modules[i]->name,
				 strerror(-r));
			break;
		}
	/* "go" (without it the child exits: closing go_w is the abort). A
	 * pre-built sandbox keeps go_w: its request comes the same way. */
	if (!ex->error[0] && write(ex->go_w, "g", 1) != 1)
		snprintf(ex->error, sizeof(ex->error), "go: %s", strerror(errno));
	if (!ex->warm || ex->error[0])
		close_fd(&ex->go_w);
	return 0;
}

void sbx_exec_start(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	int r;
	ex->state = EX_RUNNING;
	ex->t_start = ex->trace_ns[0] = sbx_clock_mono_ns();
	ex->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ex->timerfd < 0)
		return start_failed(ctx, ex, "timerfd", -errno);
	ex->rep = sbx_exec_mem_report(ex);
	/* A pre-built sandbox if one fits, else (never waiting) a cold one. */
	if (sbx_warm_take(ctx, ex) == 0) {
		ex->trace_ns[1] = ex->trace_ns[2] = sbx_clock_mono_ns();
	} else {
		const char *what;
		if ((r = sbx_exec_spawn(ctx, ex, &what)) < 0)
			return start_failed(ctx, ex, what, r);
	}
	sbx_exec_mem_free(ex, ex->reqbuf); /* kept for sbx_warm_take() only */
	ex->reqbuf = NULL;
	ex->trace_ns[3] = sbx_clock_mono_ns();

	const ProtobufCBinaryData *in = &ex->req->stdin;
	if (in->len > 0) {
		sbx_exec_on_stdin(ctx, ex);
	} else {
		close_fd(&ex->stdin_w);
	}
	if (ex->stdin_w >= 0)
		sbx_epoll_add(ctx, ex->stdin_w, EPOLLOUT, &ex->w_stdin);
	sbx_stream_setup(ctx, ex);
	for (int i = 0; i < 2; i++) {
		ex->out[i].cap = ex->req->limits->output_bytes;
		if (ex->out[i].fd >= 0)
			sbx_epoll_add(ctx, ex->out[i].fd, EPOLLIN, &ex->out[i].w);
	}
	ex->both.cap = ex->req->want_output ? ex->req->limits->output_bytes : 0;
	sbx_epoll_add(ctx, ex->pidfd, EPOLLIN, &ex->w_pidfd);
	sbx_epoll_add(ctx, ex->timerfd, EPOLLIN, &ex->w_timer);
	sbx_epoll_add(ctx, ex->status_r, EPOLLIN, &ex->w_status);
	ex->t_deadline_wall = ex->t_start + ex->req->limits->wall_time_ms * 1000000ull;
	uint64_t used;
	bool have_cpu = sbx_cgroup_cpu_ns(ctx, ex, &used) == 0;
	arm_timer(ex, next_check(ctx, ex, ex->t_start, 0, have_cpu));
	if (ex->error[0])
		sbx_exec_kill(ctx, ex, SBX_KILL_NONE);
}

/* ---- running --------------------------------------------------------- */

void sbx_exec_kill(struct sbx_ctx *ctx, struct sbx_exec *ex, enum sbx_kill_reason why)
{
	if (ex->kill == SBX_KILL_NONE)
		ex->kill = why;
	if (ex->reaped || ex->pidfd < 0)
		return;
	/* The init's death takes its whole pid namespace with it. */
	syscall(SYS_pidfd_send_signal, ex->pidfd, SIGKILL, NULL, 0);
	if (ctx->cg_mode == SBX_CG_V2 && ctx->cg_v2_kill && ex->cg.dfd[0] >= 0)
		sbx_cgroup2_kill(ex->cg.dfd[0]);
}

void sbx_exec_on_stdin(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	const ProtobufCBinaryData *in = &ex->req->stdin;
	while (ex->stdin_off < in->len) {
		ssize_t n = write(ex->stdin_w, in->data + ex->stdin_off, in->len - ex->stdin_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			break; /* EPIPE: the payload does not read its input */
		ex->stdin_off += (size_t)n;
	}
	sbx_epoll_del(ctx, ex->stdin_w);
	close_fd(&ex->stdin_w);
}

/* Read what the pipe has: keep up to the limit, count and drop the rest;
 * a sandbox that keeps writing far past the limit is killed. */
void sbx_exec_on_output(struct sbx_ctx *ctx, struct sbx_exec *ex, int which)
{
	struct sbx_outbuf *o = &ex->out[which];
	char *buf = sbx_exec_mem_scratch();
	if (!buf) {
		sbx_exec_kill(ctx, ex, SBX_KILL_OUTPUT);
		return;
	}
	for (int rounds = 0; o->fd >= 0 && rounds < 16; rounds++) {
		/* Past the cap, read on (and drop) so the sandbox never blocks
		 * on a full pipe; below it, never read more than fits. */
		size_t room = o->len < o->cap && o->cap - o->len < SBX_EXEC_SCRATCH
				      ? o->cap - o->len
				      : SBX_EXEC_SCRATCH;
		ssize_t n = read_some(o->fd, buf, room);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			sbx_epoll_del(ctx, o->fd);
			close_fd(&o->fd);
			reply_early(ctx, ex);
			return;
		}
		/* Streamed whole, past the cap too: the cap bounds the result. */
		sbx_stream_chunk(ctx, ex, which, buf, (size_t)n);
		sbx_output_both(ex, buf, (size_t)n);
		o->total += (uint64_t)n;
		if (o->len < o->cap) {
			if (sbx_outbuf_keep(o, buf, (size_t)n) < 0) {
				sbx_exec_kill(ctx, ex, SBX_KILL_OUTPUT);
				return;
			}
		} else {
			o->truncated = true;
		}
		/* A service's output is its log: only the stream carries it. */
		if (!ex->req->service && o->total - o->len > ctx->cfg.output_drain_bytes)
			sbx_exec_kill(ctx, ex, SBX_KILL_OUTPUT);
	}
}

void sbx_exec_on_timer(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	uint64_t ticks;
	if (read(ex->timerfd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	uint64_t now = sbx_clock_mono_ns(), used = 0;
	bool have_cpu = sbx_cgroup_cpu_ns(ctx, ex, &used) == 0;
	if (have_cpu && used >= ex->req->limits->cpu_time_ms * 1000000ull) {
		sbx_exec_kill(ctx, ex, SBX_KILL_CPU);
		return;
	}
	if (now >= ex->t_deadline_wall) {
		sbx_exec_kill(ctx, ex, SBX_KILL_WALL);
		return;
	}
	arm_timer(ex, next_check(ctx, ex, now, used, have_cpu));
}

void sbx_exec_on_exit(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)ex->pidfd, &si, WEXITED | WNOHANG) < 0 ||
	    si.si_pid == 0)
		return;
	ex->reaped = true;
	ex->t_exit = ex->trace_ns[4] = sbx_clock_mono_ns();
	ex->init_wstatus =
		si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : (si.si_status & 0x7f);
	/* Every process of the namespace is gone now; what they wrote is in
	 * the pipes. */
	for (int i = 0; i < 2; i++)
		while (ex->out[i].fd >= 0) {
			uint64_t before = ex->out[i].total;
			sbx_exec_on_output(ctx, ex, i);
			if (ex->out[i].total == before)
				break;
		}
	finish(ctx, ex);
}
