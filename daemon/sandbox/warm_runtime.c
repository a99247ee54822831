/* Warm interpreters: pre-built sandboxes (warm.c) whose payload has
 * already started a runtime's interpreter when the request comes: the
 * "python" pool's `/usr/bin/python3 -u main.py`, the "node" pool's
 * `/usr/bin/node main.js` (daemon/exec/runtimes.c). One table row each
 * (kinds[]); everything else is shared.
 *
 * The payload (pid 2) of such a sandbox goes through the cold path's every
 * step (uid 1000, no capabilities, no_new_privs, seccomp) and executes
 * exactly the runtime's command in /workspace, with the environment and
 * stack limit requests have been coming with. The difference is the
 * script: a FIFO. The interpreter starts up (the costly part: python's
 * encodings and site, node's V8 and bootstrap) and then blocks opening
 * its script. Nothing but the interpreter has run, and nothing of a
 * request is in the sandbox.
 *
 * The request goes to the init (pid 1), which still holds the sandbox's
 * capabilities in its user namespace: it opens the FIFO for writing (the
 * interpreter's open returns and it blocks reading), writes the request's
 * files as a cold start does (files.c, which replaces the FIFO with the
 * real file), gives the payload the request's rlimits with prlimit(2),
 * feeds it the script through the FIFO and becomes the init. The
 * cgroup's limits were written by the spawner before the request was
 * sent (warm.c). Both interpreters read the whole script (to EOF) and
 * compile it before they run a line of it, so no code of the request runs
 * before all of that is done.
 *
 * Why a FIFO rather than a loader script that receives the code: with the
 * script read by the interpreter's own "run a file" path, the snippet
 * runs as the real command does, not merely like it. Python: the same
 * argv, sys.orig_argv, sys.path[0] (realpath of main.py's dir, computed
 * while the FIFO stands there), __main__ and its globals, __file__, no
 * frame below the module's, the same handling of exceptions, SystemExit,
 * exit codes and flushing. Node: the same process.argv, __filename,
 * require.main, module wrapper and stack frames, unhandled rejections and
 * exit codes. Error messages quote the real script: both read its lines
 * back by name (python's tracebacks), or from the source they were fed
 * (node), and a second read by name (node re-reads a script with ES
 * module syntax to load it as a module) finds the real file, written
 * over the FIFO before the first byte is fed.
 *
 * What a pre-started interpreter could have read differently is what it
 * read at start-up: its environment and the stack limit (glibc sizes
 * thread stacks by it; node's NODE_OPTIONS), so a request takes one only
 * if both are exactly those the interpreter started with. The pool
 * learns them from the requests: a request that finds the pool started
 * for another environment is a miss, and the next interpreters are
 * started with its environment. Node also reads, before the script, the
 * package.json next to it (its "type" makes main.js CommonJS or an ES
 * module): a request that brings one starts cold.
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

/* What a pooled sandbox may use before a request takes it beyond its
 * ready interpreter (the request's own limits replace these when it
 * does). */
#define POOLED_PIDS 8u

struct kind {
	const char *name; /* the pool's kind, as in sbx_warm_stats */
	/* The runtime's command (daemon/exec/runtimes.c): only requests that
	 * run exactly this take a pre-started interpreter. */
	const char *const *argv;
	size_t argc;
	const char *script; /* its script, relative to /workspace */
	/* Whether the interpreter may run req, whose script is script, as
	 * a cold one would (NULL: any). */
	bool (*fits)(const Sbx__SpawnRequest *req, const Sbx__File *script);
	/* The pooled cgroup memory limit: a ready one's charge, with room. */
	uint64_t memory_kb;
};

/* Compiled code (every .pyc magic ends in "\r\n"): python tells it from
 * source by seeking back in the file, which it cannot do in a FIFO; leave
 * it to a cold start. */
static bool python_fits(const Sbx__SpawnRequest *req, const Sbx__File *script)
{
	(void)req;
	return !(script->content.len >= 4 && script->content.data[2] == '\r' &&
		 script->content.data[3] == '\n');
}

/* Node looks up /workspace/package.json (then /package.json, not the
 * request's) before it reads main.js: its "type" decides CommonJS or ES
 * module, and a pre-started node has looked already, when there was
 * none. A request that writes one (or a directory of that name) starts
 * cold; every other file is read only by the script's own code, after
 * the files are written. */
static bool node_fits(const Sbx__SpawnRequest *req, const Sbx__File *script)
{
	static const char pkg[] = "package.json";
	(void)script;
	for (size_t i = 0; i < req->n_files; i++) {
		const char *p = req->files[i]->path;
		if (strncmp(p, pkg, sizeof(pkg) - 1) == 0 &&
		    (p[sizeof(pkg) - 1] == '\0' || p[sizeof(pkg) - 1] == '/'))
			return false;
	}
	return true;
}

static const char *const python_argv[] = {"/usr/bin/python3", "-u", "main.py"};
static const char *const node_argv[] = {"/usr/bin/node", "main.js"};

/* Indexed by pool (warm.h). Memory: a ready python holds ~3 MB of cgroup
 * memory (Pss ~4.3 MB: python3.11 3.8 MB, the init 0.5 MB; the rest of
 * their 8 MB Rss is shared page cache), measured on Debian bookworm with
 * sandboxd --warm-pool-python 4; a ready node 20 ~5.8 MB (GetStats'
 * memory_kb, 11692 KB for 2, test-integration-warm-node). Node's cap is
 * twice python's: V8 sizes its start-up heap from the flags it starts
 * with (NODE_OPTIONS, learnt from the requests), and a start-up cut
 * short by the cap would be a pool that never serves; the cap bounds
 * only a sandbox nobody uses yet, never a request. */
static const struct kind kinds[SBX_WARM_N_POOLS] = {
	[SBX_WARM_PYTHON] = {"python", python_argv, SBX_ARRAY_SIZE(python_argv), "main.py",
			     python_fits, 64u * 1024},
	[SBX_WARM_NODE] = {"node", node_argv, SBX_ARRAY_SIZE(node_argv), "main.js", node_fits,
			   128u * 1024},
};

struct sbx_warm_rt {
	const struct kind *k;
	uint64_t gen; /* 0 = no request seen yet */
	char **env;   /* owned, NULL-terminated */
	size_t n_env;
	uint64_t stack_kb;
	/* The template the pool's sandboxes are built from. */
	Sbx__Limits limits;
	Sbx__SpawnRequest tmpl;
};

struct sbx_warm_rt *sbx_warm_rt_new(unsigned pool)
{
	if (pool >= SBX_WARM_N_POOLS || !kinds[pool].name)
		return NULL;
	struct sbx_warm_rt *rt = calloc(1, sizeof(*rt));
	if (rt)
		rt->k = &kinds[pool];
	return rt;
}

static void free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

void sbx_warm_rt_free(struct sbx_warm_rt *rt)
{
	if (!rt)
		return;
	free_env(rt->env);
	free(rt);
}

/* The file the interpreter would run: the last one written at the
 * script's path. NULL if there is none, or if a path needs it to be a
 * directory. */
static const Sbx__File *script_of(const struct kind *k, const Sbx__SpawnRequest *req)
{
	const Sbx__File *f = NULL;
	size_t n = strlen(k->script);
	for (size_t i = 0; i < req->n_files; i++) {
		const char *p = req->files[i]->path;
		if (strcmp(p, k->script) == 0)
			f = req->files[i];
		else if (strncmp(p, k->script, n) == 0 && p[n] == '/')
			return NULL;
	}
	return f;
}

bool sbx_warm_rt_shaped(const struct sbx_warm_rt *rt, const Sbx__SpawnRequest *req)
{
	const struct kind *k = rt->k;
	if (!req->limits || req->n_argv != k->argc ||
	    (req->cwd[0] && strcmp(req->cwd, SBX_WORKSPACE) != 0))
		return false;
	for (size_t i = 0; i < k->argc; i++)
		if (strcmp(req->argv[i], k->argv[i]) != 0)
			return false;
	const Sbx__File *f = script_of(k, req);
	return f && (!k->fits || k->fits(req, f));
}

bool sbx_warm_rt_match(const struct sbx_warm_rt *rt, const Sbx__SpawnRequest *req)
{
	if (rt->gen == 0 || req->n_env != rt->n_env || req->limits->stack_kb != rt->stack_kb)
		return false;
	for (size_t i = 0; i < req->n_env; i++)
		if (strcmp(req->env[i], rt->env[i]) != 0)
			return false;
	return true;
}

int sbx_warm_rt_learn(struct sbx_warm_rt *rt, const Sbx__SpawnRequest *req)
{
	char **env = calloc(req->n_env + 1, sizeof(char *));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_env; i++)
		if (!(env[i] = strdup(req->env[i]))) {
			free_env(env);
			return -ENOMEM;
		}
	free_env(rt->env);
	rt->env = env;
	rt->n_env = req->n_env;
	rt->stack_kb = req->limits->stack_kb;
	rt->gen++;
	return 0;
}

uint64_t sbx_warm_rt_gen(const struct sbx_warm_rt *rt)
{
	return rt->gen;
}

int sbx_warm_rt_prepare(struct sbx_warm_rt *rt, struct sbx_exec *w)
{
	const struct kind *k = rt->k;
	rt->limits = (Sbx__Limits)SBX__LIMITS__INIT;
	rt->limits.memory_kb = k->memory_kb;
	rt->limits.pids = POOLED_PIDS;
	rt->limits.stack_kb = rt->stack_kb;
	rt->tmpl = (Sbx__SpawnRequest)SBX__SPAWN_REQUEST__INIT;
	rt->tmpl.argv = (char **)k->argv;
	rt->tmpl.n_argv = k->argc;
	rt->tmpl.env = rt->env;
	rt->tmpl.n_env = rt->n_env;
	rt->tmpl.limits = &rt->limits;
	w->argv = calloc(k->argc + 1, sizeof(char *));
	w->envp = calloc(rt->n_env + 1, sizeof(char *));
	if (!w->argv || !w->envp)
		return -ENOMEM;
	memcpy(w->argv, k->argv, k->argc * sizeof(char *));
	memcpy(w->envp, rt->env, rt->n_env * sizeof(char *));
	w->warm_rt = (unsigned)(k - kinds);
	w->req = &rt->tmpl;
	return 0;
}

/* ---- in the child --------------------------------------------------- */

int sbx_warm_rt_fifo(const struct sbx_exec *ex)
{
	/* As the sandbox user, like every file of the workspace (files.c):
	 * its uid is the only one mapped. The payload inherits the cwd. */
	setfsgid(SBX_INSIDE_GID);
	setfsuid(SBX_INSIDE_UID);
	if (chdir(SBX_WORKSPACE) < 0)
		return -errno;
	return mkfifo(kinds[ex->warm_rt].script, 0600) < 0 ? -errno : 0;
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
	/* The init's cwd is /workspace (sbx_warm_rt_fifo). */
	for (;;) {
		int fd = open(kinds[ex->warm_rt].script, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
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

void sbx_warm_rt_go(const struct sbx_ctx *ctx, struct sbx_exec *ex, pid_t payload)
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
	const Sbx__File *script = script_of(&kinds[ex->warm_rt], ex->req);
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
