#include "gvisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "daemon_config.h"
#include "log.h"
#include "gvisor_spec.h"
#include "nsjail_cg.h"
#include "runner.h"
#include "sentence.h"

#define SANDBOX_ID SBX_GVISOR_ID
/* The Sentry's and gofer's own memory and host tasks, on top of the
 * request's (both share the run's cgroups with the program). */
#define GVISOR_MEM_OVERHEAD_KB (96u << 10)
#define GVISOR_TASK_OVERHEAD 256u
/* The cgroup's CPU time includes runsc's, the Sentry's and the gofer's
 * start (about 0.7 s of CPU, on both cores at once): the CPU limit allows
 * for it, else a program that only sleeps would hit a 1 s CPU limit
 * before a 1 s wall limit. */
#define GVISOR_CPU_OVERHEAD_MS 1000u
/* runsc delete: bounded, the container is dead already. */
#define DELETE_WAIT_MS 5000

struct gvisor {
	/* First (runner.h); fresh workspaces and bundles live in rn.work. */
	struct sbx_runner rn;
	char path[PATH_MAX];
	char root[PATH_MAX + 8];  /* the read-only root of mount points */
	char state[PATH_MAX + 8]; /* runsc --root */
	/* sbx-gvisor-compat.so and the ld.so.preload naming it; "" when the
	 * library was not found. */
	char compat[PATH_MAX], preload[PATH_MAX + 16];
	unsigned seq; /* atomically incremented: container ids */
};

/* sbx-gvisor-compat.so next to the running binary (a build tree), or in
 * ../lib/sandboxd (an installed one); then the sandbox's ld.so.preload
 * naming it. Without it, say what fails. */
static int find_compat(struct gvisor *n)
{
	static const char *const where[] = {"%s/sbx-gvisor-compat.so",
					    "%s/../lib/sandboxd/sbx-gvisor-compat.so"};
	char self[PATH_MAX / 2];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	int fd, r = 0;

	self[len > 0 ? len : 0] = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	for (size_t i = 0; slash && i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(n->compat, sizeof(n->compat), where[i], self);
		if (access(n->compat, R_OK) == 0)
			break;
		n->compat[0] = 0;
	}
	if (!n->compat[0]) {
		log_warn("gvisor backend: sbx-gvisor-compat.so is not next to sandboxd nor in "
			 "../lib/sandboxd: coreutils' ls and stat fail with \"Invalid argument\" "
			 "in its sandboxes");
		return 0;
	}
	snprintf(n->preload, sizeof(n->preload), "%s/ld.so.preload", n->rn.work);
	fd = open(n->preload, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, SBX_GVISOR_COMPAT_SO "\n", sizeof(SBX_GVISOR_COMPAT_SO)) !=
			      (ssize_t)sizeof(SBX_GVISOR_COMPAT_SO))
		r = errno ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	return r;
}

int sbx_gvisor_open(const struct sbx_config *cfg, void **ret_state)
{
	const char *path = getenv("PATH");
	struct gvisor *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	if (!sbx_runner_find_exec("runsc", path ? path : "/usr/local/bin:/usr/bin:/bin", n->path,
				  sizeof(n->path))) {
		log_error("gvisor backend unavailable: runsc not found on PATH (Debian: apt-get "
			  "install runsc)");
		free(n);
		return -ENOENT;
	}
	n->rn.name = "runsc";
	n->rn.owner = SANDBOX_ID;
	n->rn.cpu_extra_ms = GVISOR_CPU_OVERHEAD_MS;
	/* The Sentry and the gofer hold the pipes: not runsc's children. */
	n->rn.kill_cgroup = true;
	snprintf(n->rn.work, sizeof(n->rn.work), "%s/gvisor", cfg->state_dir);
	snprintf(n->root, sizeof(n->root), "%s/root", n->rn.work);
	snprintf(n->state, sizeof(n->state), "%s/runsc", n->rn.work);
	/* What a killed daemon left: its containers are dead (their
	 * processes were in its cgroups), their state is not. */
	(void)sbx_runner_rm_tree(n->rn.work);
	r = mkdir(n->rn.work, 0711) < 0 ? -errno : sbx_runner_write_ids(&n->rn);
	if (r == 0)
		r = mkdir(n->state, 0700) < 0 ? -errno : sbx_gvisor_make_root(n->root);
	if (r == 0)
		r = find_compat(n);
	if (r == 0)
		r = sbx_runner_open_cg(&n->rn, "gvisor", n->path);
	if (r < 0) {
		log_error("gvisor backend: cannot prepare %s: %s", n->rn.work, strerror(-r));
		free(n);
		return r;
	}
	*ret_state = n;
	return 0;
}

void sbx_gvisor_close(void *state)
{
	/* Its bundles and runsc's state with it: no container outlives us. */
	sbx_runner_close(state, true);
}

/* In the forked child (async-signal-safe calls only): into every one of
 * the run's cgroups (j->arg: their cgroup.procs, opened before the fork),
 * so that runsc, the Sentry and the gofer count. */
static void join_cgroups(const struct sbx_runner_job *j)
{
	const int *procs = j->arg;

	for (int i = 0; i < SBX_NJ_N; i++)
		if (procs[i] >= 0)
			(void)!write(procs[i], "0", 1);
}

/* The run's cgroup.procs files, opened before the fork. */
static int open_procs(const struct sbx_nsjail_cg_run *cg, int *procs)
{
	char p[PATH_MAX + 16];

	for (int c = 0; c < SBX_NJ_N; c++) {
		procs[c] = -1;
		if (!cg->path[c][0])
			continue;
		snprintf(p, sizeof(p), "%s/cgroup.procs", cg->path[c]);
		procs[c] = open(p, O_WRONLY | O_CLOEXEC);
		if (procs[c] < 0)
			return -errno;
	}
	return 0;
}

/* runsc with its cgroups joined in the child; the cgroup.procs
 * descriptors are the parent's until runsc is reaped. */
static int spawn_and_wait(char **argv, struct sbx_runner_job *j, struct sbx_runner_io *io,
			  int *ret_status, uint64_t *ret_wall)
{
	int procs[SBX_NJ_N], r;

	for (int c = 0; c < SBX_NJ_N; c++)
		procs[c] = -1; /* all closable, whichever open fails */
	r = open_procs(j->cg, procs);
	j->child = join_cgroups;
	j->arg = procs;
	if (r == 0)
		r = sbx_runner_spawn_wait(argv, j, io, ret_status, ret_wall);
	for (int c = 0; c < SBX_NJ_N; c++)
		if (procs[c] >= 0)
			close(procs[c]);
	return r;
}

/* Whether runsc left state of container `id` (files named after it):
 * `runsc run` removes its own when the container exits, not when killed. */
static bool has_state(const struct gvisor *n, const char *id)
{
	DIR *d = opendir(n->state);
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d)))
		found = strstr(e->d_name, id) != NULL;
	if (d)
		closedir(d);
	return found;
}

/* `runsc delete --force id` when its state is left: it goes (the
 * processes are dead or killed with the cgroups). Bounded by
 * DELETE_WAIT_MS. */
static void delete_container(const struct gvisor *n, const char *id)
{
	char root[PATH_MAX + 16];
	char *argv[] = {(char *)n->path, root, "delete", "--force", (char *)id, NULL};
	static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	long long end = sbx_clock_mono_ms() + DELETE_WAIT_MS;
	int st;
	pid_t pid;

	if (!has_state(n, id))
		return;
	snprintf(root, sizeof(root), "--root=%s", n->state);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0 && (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0))
			_exit(127);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &st, WNOHANG) == 0) {
		if (sbx_clock_mono_ms() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		nanosleep(&(struct timespec){0, 10000000L}, NULL);
	}
}

/* runsc's own failure: the first line of its log with "error" or, when
 * the log is empty, NULL (the program ran and exited). */
static const char *runsc_failure(const struct sbx_runner_io *io, char *buf, size_t len)
{
	const char *log = io->log.data ? io->log.data : "", *e = strstr(log, "FATAL ERROR");

	if (!e)
		e = strstr(log, "error");
	if (!e)
		return NULL;
	return sbx_runner_log_line(e, buf, len);
}

/* runsc's own failure first (not when it was killed: its log says why
 * then); runsc reports the program's signal in its exit code only. */
static void decide(const Sbx__SpawnRequest *req, int st, const struct sbx_runner_io *io,
		   Sbx__ExecResult *res, char *err, size_t len)
{
	char why[256];
	const char *fail = io->kill || io->oom ? NULL : runsc_failure(io, why, sizeof(why));
	int code = sbx_runner_exit_code(st, res), sig = res->signal;
	const Sbx__Limits *l = req->limits;

	if (fail && code != 0 && code < 128) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		sbx_sentence(err, len, "runsc failed: %s", fail);
	} else if (io->kill == SBX_RUNNER_KILL_CPU || sig == SIGXCPU) {
		sbx_runner_cpu_limit(l, res, err, len);
	} else if (io->kill == SBX_RUNNER_KILL_WALL) {
		sbx_runner_wall_limit(l, res, err, len);
	} else if (io->oom) {
		/* The host's OOM killer may pick the Sentry: the run ends
		 * either way. */
		sbx_runner_memory_limit(l, res, err, len);
	} else {
		sbx_runner_decide_exit(l, code, sig, io, res, err, len);
	}
}

/* The host cgroups' limits: the request's plus the Sentry's share. */
static Sbx__Limits host_limits(const Sbx__Limits *l)
{
	Sbx__Limits h = *l;

	h.memory_kb += GVISOR_MEM_OVERHEAD_KB;
	h.pids += GVISOR_TASK_OVERHEAD;
	return h;
}

/* Bundle, cgroups, runsc, decide; the container, bundle and cgroups go
 * with the run. */
static int run_sandbox(void *state, const Sbx__SpawnRequest *req, const char *ws,
		       struct sbx_runner_io *io, Sbx__ExecResult *res, char *err, size_t len)
{
	struct gvisor *n = state;
	struct sbx_nsjail_cg_run cg;
	struct sbx_runner_job j = {.rn = &n->rn, .cg = &cg, .req = req};
	Sbx__Limits hl = host_limits(req->limits);
	char exe[PATH_MAX], bundle[PATH_MAX + 80], id[64], root[PATH_MAX + 16], b[PATH_MAX + 96];
	char *argv[] = {n->path, root, "--ignore-cgroups", "--network=none", "--log-fd=3",
			"run", b, id, NULL};
	int r, st = 0;

	if (!sbx_runner_resolve(req, exe, sizeof(exe))) {
		sbx_runner_not_found(req, res, err, len);
		return 0;
	}
	snprintf(id, sizeof(id), "sbx-%d-%010u", (int)getpid(),
		 __atomic_fetch_add(&n->seq, 1, __ATOMIC_RELAXED));
	snprintf(bundle, sizeof(bundle), "%s/b-%s", n->rn.work, id);
	snprintf(root, sizeof(root), "--root=%s", n->state);
	snprintf(b, sizeof(b), "--bundle=%s", bundle);
	r = sbx_gvisor_write_bundle(n->root,
				    &(struct sbx_gvisor_ids){n->rn.passwd, n->rn.group,
							     n->compat[0] ? n->preload : NULL,
							     n->compat},
				    req, ws, exe, bundle);
	if (r == 0)
		r = sbx_nsjail_cg_make(&n->rn.cg, &hl, &cg);
	if (r < 0) {
		(void)sbx_runner_rm_tree(bundle);
		return r;
	}
	r = spawn_and_wait(argv, &j, io, &st, &res->wall_time_ms);
	if (r == 0) {
		sbx_nsjail_cg_kill(&n->rn.cg, &cg);
		sbx_nsjail_cg_collect(&n->rn.cg, &cg, res, &io->oom);
		decide(req, st, io, res, err, len);
	}
	sbx_nsjail_cg_remove(&n->rn.cg, &cg);
	delete_container(n, id);
	(void)sbx_runner_rm_tree(bundle);
	return r;
}

int sbx_gvisor_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret)
{
	return sbx_runner_run(&((struct gvisor *)state)->rn, req, run_sandbox, state, ret);
}
