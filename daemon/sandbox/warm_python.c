/* Warm python: pre-built sandboxes (warm.c) whose payload has already
 * started the python runtime's interpreter when the request comes.
 *
 * The payload (pid 2) of such a sandbox goes through the cold path's every
 * step (uid 1000, no capabilities, no_new_privs, seccomp) and executes
 * exactly the runtime's command, `/usr/bin/python3 -u main.py`, in
 * /workspace, with the environment and stack limit requests have been
 * coming with. The difference is main.py: a FIFO. Python starts up (the
 * costly part: the interpreter, encodings, site) and then blocks opening
 * its script. Nothing but the interpreter has run, and nothing of a
 * request is in the sandbox.
 *
 * The request goes to the init (pid 1), which still holds the sandbox's
 * capabilities in its user namespace: it opens the FIFO for writing (the
 * interpreter's open returns and it blocks reading), writes the request's
 * files as a cold start does (files.c, which replaces the FIFO at main.py
 * with the real file), gives the payload the request's rlimits with
 * prlimit(2), feeds it the script through the FIFO and becomes the init.
 * The cgroup's limits were written by the spawner before the request was
 * sent (warm.c). The interpreter parses the whole script before it runs a
 * line of it, so no code of the request runs before all of that is done.
 *
 * Why a FIFO rather than a loader script that receives the code: with the
 * script read by python's own "run a file" path, the snippet runs as the
 * real `python3 -u main.py` does, not merely like it: the same argv,
 * sys.orig_argv, sys.path[0] (realpath of main.py's dir, computed while
 * the FIFO stands there), __main__ and its globals, __file__, no frame
 * below the module's (tracebacks, inspect.stack(), warnings' stacklevel),
 * the same handling of exceptions, SystemExit, KeyboardInterrupt, exit
 * codes and flushing, and tracebacks and SyntaxErrors quote the real
 * main.py (python reads their lines back from the file by name). What a
 * pre-started interpreter could have read differently is what it read at
 * start-up: its environment and the stack limit (glibc sizes thread stacks
 * by it), so a request takes one only if both are exactly those the
 * interpreter started with. The pool learns them from the requests: a
 * python request that finds the pool started for another environment is
 * a miss, and the next interpreters are started with its environment.
 *
 * CPU time and memory count as on a cold start: the interpreter's
 * start-up ran in the sandbox's own cgroup and process, as a cold run's
 * does, and a cold run's reported CPU time and its CPU limits include it
 * too; so the figures and the points where limits bite are the same. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "module.h"
#include "rlimit.h"
#include "spawner_state.h"
#include "warm.h"
#include "workspace.h"

/* The python runtime's command (daemon/exec/runtimes.c, its "python" row):
 * only requests that run exactly this take a pre-started interpreter. */
static const char *const run_argv[] = {"/usr/bin/python3", "-u", "main.py"};
#define SCRIPT "main.py"
/* What a pooled sandbox may use before a request takes it: the request's
 * own limits replace these when it does. A ready one holds ~3 MB of
 * cgroup memory (Pss ~4.3 MB: python3.11 3.8 MB, the init 0.5 MB; the
 * rest of their 8 MB Rss is shared page cache), measured on Debian
 * bookworm with sandboxd --warm-pool-python 4. */
#define POOLED_MEMORY_KB (64u * 1024)
#define POOLED_PIDS 8u

struct sbx_warm_python {
	uint64_t gen; /* 0 = no request seen yet */
	char **env;   /* owned, NULL-terminated */
	size_t n_env;
	uint64_t stack_kb;
	/* The template the pool's sandboxes are built from. */
	Sbx__Limits limits;
	Sbx__SpawnRequest tmpl;
};

struct sbx_warm_python *sbx_warm_python_new(void)
{
	return calloc(1, sizeof(struct sbx_warm_python));
}

static void free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

void sbx_warm_python_free(struct sbx_warm_python *py)
{
	if (!py)
		return;
	free_env(py->env);
	free(py);
}

/* The file the interpreter would run: the last one written at main.py.
 * NULL if there is none, or if a path needs main.py to be a directory. */
static const Sbx__File *script_of(const Sbx__SpawnRequest *req)
{
	const Sbx__File *f = NULL;
	size_t n = strlen(SCRIPT);
	for (size_t i = 0; i < req->n_files; i++) {
		const char *p = req->files[i]->path;
		if (strcmp(p, SCRIPT) == 0)
			f = req->files[i];
		else if (strncmp(p, SCRIPT, n) == 0 && p[n] == '/')
			return NULL;
	}
	return f;
}

bool sbx_warm_python_shaped(const Sbx__SpawnRequest *req)
{
	if (!req->limits || req->n_argv != SBX_ARRAY_SIZE(run_argv) ||
	    (req->cwd[0] && strcmp(req->cwd, SBX_WORKSPACE) != 0))
		return false;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(run_argv); i++)
		if (strcmp(req->argv[i], run_argv[i]) != 0)
			return false;
	const Sbx__File *f = script_of(req);
	/* Compiled code (every .pyc magic ends in "\r\n"): python tells it
	 * from source by seeking back in the file, which it cannot do in a
	 * FIFO; leave it to a cold start. */
	return f && !(f->content.len >= 4 && f->content.data[2] == '\r' &&
		      f->content.data[3] == '\n');
}

bool sbx_warm_python_match(const struct sbx_warm_python *py, const Sbx__SpawnRequest *req)
{
	if (py->gen == 0 || req->n_env != py->n_env || req->limits->stack_kb != py->stack_kb)
		return false;
	for (size_t i = 0; i < req->n_env; i++)
		if (strcmp(req->env[i], py->env[i]) != 0)
			return false;
	return true;
}

int sbx_warm_python_learn(struct sbx_warm_python *py, const Sbx__SpawnRequest *req)
{
	char **env = calloc(req->n_env + 1, sizeof(char *));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_env; i++)
		if (!(env[i] = strdup(req->env[i]))) {
			free_env(env);
			return -ENOMEM;
		}
	free_env(py->env);
	py->env = env;
	py->n_env = req->n_env;
	py->stack_kb = req->limits->stack_kb;
	py->gen++;
	return 0;
}

uint64_t sbx_warm_python_gen(const struct sbx_warm_python *py)
{
	return py->gen;
}

int sbx_warm_python_prepare(struct sbx_warm_python *py, struct sbx_exec *w)
{
	struct sbx_warm_python *m = py;
	m->limits = (Sbx__Limits)SBX__LIMITS__INIT;
	m->limits.memory_kb = POOLED_MEMORY_KB;
	m->limits.pids = POOLED_PIDS;
	m->limits.stack_kb = py->stack_kb;
	m->tmpl = (Sbx__SpawnRequest)SBX__SPAWN_REQUEST__INIT;
	m->tmpl.argv = (char **)run_argv;
	m->tmpl.n_argv = SBX_ARRAY_SIZE(run_argv);
	m->tmpl.env = py->env;
	m->tmpl.n_env = py->n_env;
	m->tmpl.limits = &m->limits;
	w->argv = calloc(SBX_ARRAY_SIZE(run_argv) + 1, sizeof(char *));
	w->envp = calloc(py->n_env + 1, sizeof(char *));
	if (!w->argv || !w->envp)
		return -ENOMEM;
	memcpy(w->argv, run_argv, sizeof(run_argv));
	memcpy(w->envp, py->env, py->n_env * sizeof(char *));
	w->warm_python = true;
	w->req = &m->tmpl;
	return 0;
}

/* ---- in the child --------------------------------------------------- */

int sbx_warm_python_fifo(const struct sbx_exec *ex)
{
	/* As the sandbox user, like every file of the workspace (files.c):
	 * its uid is the only one mapped. The payload inherits the cwd. */
	setfsgid(SBX_INSIDE_GID);
	setfsuid(SBX_INSIDE_UID);
	if (chdir(SBX_WORKSPACE) < 0)
		return -errno;
	return mkfifo(SCRIPT, 0600) < 0 ? -errno : 0;
}

/* Block until the request is there; exit if the payload dies first (the
 * spawner then sees the init gone when it would take the sandbox) or the
 * spawner drops the sandbox (EOF, read by sbx_warm_child_wait). */
static void wait_request(const struct sbx_exec *ex, int pidfd)
{
	struct pollfd p[2] = {{.fd = ex->child_go, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
	for (;;) {
		int n = poll(p, 2, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[0].revents)
			return;
		if (p[1].revents)
			_exit(1);
	}
}

/* The write end of the FIFO, once the interpreter has it open for
 * reading (it may still be starting when a request comes early). */
static int open_fifo(const struct sbx_exec *ex, int pidfd)
{
	for (;;) {
		int fd = open(SBX_WORKSPACE "/" SCRIPT, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			/* Blocking writes: the interpreter reads as we write. */
			if (fcntl(fd, F_SETFL, 0) < 0)
				sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "script");
			return fd;
		}
		if (errno != ENXIO)
			sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "script");
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		if (poll(&p, 1, 1) > 0)
			return -1; /* it died: the init reports how */
	}
}

/* The CPU time the interpreter used to start. The spawner's poll of the
 * cgroup's CPU time is what ends a CPU-bound run (SIGKILL, TIME_LIMIT),
 * RLIMIT_CPU (whole seconds, per process) only backs it up; on a cold
 * start the spawner counts the start-up as it happens, here it began
 * polling only now, so the backstop gets the start-up on top rather than
 * firing (SIGXCPU) in the spawner's stead. */
static uint64_t spent_ms(pid_t payload)
{
	clockid_t id;
	struct timespec ts;
	if (clock_getcpuclockid(payload, &id) != 0 || clock_gettime(id, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void feed(int fd, const Sbx__File *script)
{
	const uint8_t *d = script->content.data;
	size_t left = script->content.len;
	while (left > 0) {
		ssize_t n = write(fd, d, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* EPIPE: it stopped reading (its exit says why) */
		d += n;
		left -= (size_t)n;
	}
}

void sbx_warm_python_go(const struct sbx_ctx *ctx, struct sbx_exec *ex, pid_t payload)
{
	/* The init's memory holds the request: nothing inside may read it
	 * (init_loop says the same again), and writing to an interpreter
	 * that is gone must not kill the init. */
	prctl(PR_SET_DUMPABLE, 0);
	signal(SIGPIPE, SIG_IGN);
	int pidfd = (int)syscall(SYS_pidfd_open, payload, 0);
	if (pidfd < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, errno, "pidfd");
	wait_request(ex, pidfd);
	sbx_warm_child_wait(ctx, ex);
	const Sbx__File *script = script_of(ex->req);
	if (!script) /* the spawner sends only requests that have one */
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, EINVAL, "script");
	int fifo = open_fifo(ex, pidfd);
	int r = sbx_files_module.child(ctx, ex);
	if (r < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, -r, "files");
	/* setfsuid (files.c) cleared the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((r = sbx_rlimit_apply(payload, ex->req->limits, spent_ms(payload))) < 0)
		sbx_child_fail(ex, SBX_MSG_SETUP_ERROR, -r, "rlimit");
	if (fifo >= 0) {
		feed(fifo, script);
		close(fifo);
	}
	close(pidfd);
}
