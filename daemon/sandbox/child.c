/* The containment sequence, top to bottom. Runs in the child of clone(),
 * which is pid 1 of its new pid namespace and root (with every capability)
 * only inside its new user namespace. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "cleanup.h"
#include "clock.h"
#include "module.h"
#include "spawner_state.h"
#include "warm.h"

/* The order is the design: */
const struct sbx_module *const sbx_modules[] = {
	&sbx_user_module,    /* wait for uid/gid maps; later drop to uid 1000 */
	&sbx_cgroup_module,  /* placed by the spawner; own cgroup namespace */
	&sbx_net_module,     /* loopback up (no other interface exists) */
	&sbx_uts_module,     /* host name */
	&sbx_mnt_module,     /* tmpfs, binds, /proc, pivot_root */
	&sbx_files_module,   /* the request's files, cwd */
	&sbx_pid_module,     /* fork: pid 1 stays as init, pid 2 goes on */
	&sbx_rlimit_module,  /* payload limits */
	&sbx_caps_module,    /* no capabilities, no_new_privs */
	&sbx_seccomp_module, /* last: the filter, then execve() */
};
const unsigned sbx_n_modules = SBX_ARRAY_SIZE(sbx_modules);

void sbx_child_send(const struct sbx_exec *ex, const struct sbx_child_msg *m)
{
	ssize_t n;
	do
		n = write(ex->child_status, m, sizeof(*m));
	while (n < 0 && errno == EINTR);
}

_Noreturn void sbx_child_fail(const struct sbx_exec *ex, enum sbx_child_msg_kind kind, int err,
			      const char *fmt, ...)
{
	struct sbx_child_msg m;
	memset(&m, 0, sizeof(m));
	m.kind = kind;
	m.err = err;
	char what[sizeof(m.text)];
	va_list ap;
	va_start(ap, fmt);
	sbx_vsentence(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err)
		sbx_sentence(m.text, sizeof(m.text), "%s: %s", what, strerror(err));
	else
		sbx_sentence(m.text, sizeof(m.text), "%s", what);
	sbx_child_send(ex, &m);
	_exit(kind == SBX_MSG_EXEC_ERROR ? 127 : 126);
}

/* Give the child exactly the fds it needs, at fixed numbers: 0-2 stdio,
 * 3 status pipe, 4 go pipe, then the mount trees mnt.c attaches (5..).
 * Everything else the spawner holds (other sandboxes' pipes and sockets)
 * is closed, or the init, which never execs, would keep them open. */
static void setup_fds(struct sbx_exec *ex)
{
	int want[5] = {ex->child_stdin, ex->child_stdout, ex->child_stderr, ex->child_status,
		       ex->child_go};
	unsigned n_mnt = ex->n_mnt_fds, top = 5 + n_mnt;
	int tmp[5];
	/* First out of the way of every final number, then into place. */
	for (int i = 0; i < 5; i++) {
		tmp[i] = fcntl(want[i], F_DUPFD_CLOEXEC, (int)top);
		if (tmp[i] < 0)
			_exit(126);
	}
	for (unsigned i = 0; i < n_mnt; i++)
		if (ex->mnt_fds[i] >= 0 &&
		    (ex->mnt_fds[i] = fcntl(ex->mnt_fds[i], F_DUPFD_CLOEXEC, (int)top)) < 0)
			_exit(126);
	for (int i = 0; i < 5; i++)
		if (dup3(tmp[i], i, i >= 3 ? O_CLOEXEC : 0) < 0)
			_exit(126);
	for (unsigned i = 0; i < n_mnt; i++)
		if (ex->mnt_fds[i] >= 0) {
			if (dup3(ex->mnt_fds[i], (int)(5 + i), O_CLOEXEC) < 0)
				_exit(126);
			ex->mnt_fds[i] = (int)(5 + i);
		}
	if (syscall(SYS_close_range, top, ~0U, 0) < 0)
		for (int fd = (int)top; fd < 1024; fd++)
			close(fd);
	ex->child_stdin = 0;
	ex->child_stdout = 1;
	ex->child_stderr = 2;
	ex->child_status = 3;
	ex->child_go = 4;
}

static void reset_signals(const struct sbx_ctx *ctx)
{
	/* The payload starts with default dispositions and nothing blocked:
	 * the spawner ignores SIGPIPE, and SIG_IGN survives execve(). */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&ctx->sig_ignored, s) == 1)
			signal(s, SIG_DFL);
}

/* One module's child() hook, timed. */
static void child_step(const struct sbx_ctx *ctx, struct sbx_exec *ex, unsigned i,
		       struct sbx_child_msg *trace)
{
	const struct sbx_module *m = sbx_modules[i];
	if (!m->child)
		return;
	uint64_t t0 = ctx->cfg.trace ? sbx_clock_mono_ns() : 0;
	int r = m->child(ctx, ex);
	if (r < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, -r, "%s", m->name);
	if (ctx->cfg.trace && i < SBX_TRACE_SLOTS)
		trace->trace_us[i] = (uint32_t)((sbx_clock_mono_ns() - t0) / 1000);
}

/* What the payload's side needs of the init's: both run in the same
 * memory until the payload's execve() (pid.c), the init waiting. */
static struct {
	const struct sbx_ctx *ctx;
	struct sbx_child_msg trace;
} run;

_Noreturn void sbx_child_main(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	memset(&run.trace, 0, sizeof(run.trace));
	run.trace.kind = SBX_MSG_TRACE;
	run.ctx = ctx;

	setup_fds(ex);
	reset_signals(ctx);
	/* If the spawner dies, so does the sandbox (the init's death takes
	 * the whole pid namespace). */
	prctl(PR_SET_PDEATHSIG, SIGKILL);

	for (unsigned i = 0; i < sbx_n_modules; i++) {
		const struct sbx_module *m = sbx_modules[i];
		/* A pre-built sandbox forks its payload process first and waits
		 * there for the request (warm.c); the request's files follow.
		 * A warm runtime one's payload goes on to start its
		 * interpreter, and its init takes the request and writes the
		 * files (warm_runtime.c). */
		if (ex->warm && m == &sbx_files_module)
			continue;
		/* The pid module's child() starts the payload in
		 * sbx_child_payload() and becomes the init: it never returns. */
		child_step(ctx, ex, i, &run.trace);
	}
	sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, 0, "no pid module");
}

_Noreturn void sbx_child_payload(struct sbx_exec *ex)
{
	const struct sbx_ctx *ctx = run.ctx;
	if (ex->warm && !ex->warm_rt) {
		sbx_warm_child_wait(ctx, ex);
		for (unsigned j = 0; j < sbx_n_modules; j++)
			if (sbx_modules[j] == &sbx_files_module)
				child_step(ctx, ex, j, &run.trace);
	}
	/* The modules after the pid one. */
	unsigned k = 0;
	while (sbx_modules[k++] != &sbx_pid_module)
		;
	for (; k < sbx_n_modules; k++)
		child_step(ctx, ex, k, &run.trace);
	/* From here on: pid 2, the payload. */
	for (unsigned i = 0; i < sbx_n_modules; i++) {
		const struct sbx_module *m = sbx_modules[i];
		if (!m->exec)
			continue;
		uint64_t t0 = ctx->cfg.trace ? sbx_clock_mono_ns() : 0;
		int r = m->exec(ctx, ex);
		if (r < 0)
			sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, -r, "%s", m->name);
		if (ctx->cfg.trace && i < SBX_TRACE_SLOTS)
			run.trace.trace_us[i] += (uint32_t)((sbx_clock_mono_ns() - t0) / 1000);
	}
	if (ctx->cfg.trace) {
		run.trace.mono_ns = (uint64_t)sbx_clock_mono_ns();
		sbx_child_send(ex, &run.trace);
	}
	/* PATH lookup must use the request's PATH, not the spawner's. */
	extern char **environ;
	environ = ex->envp;
	execvp(ex->argv[0], ex->argv);
	sbx_child_fail(ex, SBX_MSG_EXEC_ERROR, errno, "exec %s failed", ex->argv[0]);
}
