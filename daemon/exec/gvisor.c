#include "gvisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "clock.h"
#include "daemon_config.h"
#include "engine.h"
#include "log.h"
#include "gvisor_spec.h"
#include "nsjail_cg.h"
#include "sentence.h"

#define SANDBOX_ID SBX_GVISOR_ID
#define KILL_GRACE_MS 2000
#define OUTPUT_DRAIN_BYTES (16ull << 20)
/* How often the CPU time of a run is looked at. */
#define CPU_POLL_MS 50
/* runsc's own messages (--log-fd): kept for the error sentence. */
#define LOG_KEEP 4096
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
	char path[PATH_MAX];
	char work[PATH_MAX];  /* fresh workspaces and bundles live here */
	char root[PATH_MAX + 8];  /* the read-only root of mount points */
	char state[PATH_MAX + 8]; /* runsc --root */
	char describe[PATH_MAX + 64];
	char passwd[PATH_MAX + 16], group[PATH_MAX + 16]; /* the sandbox's own */
	struct sbx_nsjail_cg cg;
	unsigned seq; /* atomically incremented: container ids */
};

static bool is_exec_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* `name` with a '/' as is, else the first match on `path_var`. */
static bool find_exec(const char *name, const char *path_var, char *ret, size_t len)
{
	if (strchr(name, '/')) {
		snprintf(ret, len, "%s", name);
		return is_exec_file(ret);
	}
	for (const char *p = path_var; p && *p;) {
		const char *e = strchrnul(p, ':');

		if (e > p && (size_t)snprintf(ret, len, "%.*s/%s", (int)(e - p), p, name) < len &&
		    is_exec_file(ret))
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* The sandbox's own user list, as native's, instead of the host's. */
static int write_ids(struct gvisor *n)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
				     "sandbox:x:1000:1000:sandbox:/workspace:/bin/sh\n"
				     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
	static const char group[] = "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n";
	const char *files[][2] = {{n->passwd, passwd}, {n->group, group}};

	snprintf(n->passwd, sizeof(n->passwd), "%s/passwd", n->work);
	snprintf(n->group, sizeof(n->group), "%s/group", n->work);
	for (size_t i = 0; i < 2; i++) {
		int fd = open(files[i][0], O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			      0644);
		ssize_t len = (ssize_t)strlen(files[i][1]);

		if (fd < 0)
			return -errno;
		if (write(fd, files[i][1], (size_t)len) != len) {
			close(fd);
			return -EIO;
		}
		close(fd);
	}
	return 0;
}

/* Write one request file below dirfd: components opened O_NOFOLLOW, the
 * file created O_EXCL after removing what was there, owned by the sandbox
 * user (the workspace may hold links planted by an earlier run). */
static int put_file(int dirfd, const Sbx__File *f)
{
	char path[1025];
	_cleanup_close_ int dfd = dup(dirfd);
	char *comp = path;
	int fd, r = 0;

	if (dfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s", f->path);
	for (char *slash; (slash = strchr(comp, '/')); comp = slash + 1) {
		int nfd;

		*slash = 0;
		if (mkdirat(dfd, comp, 0755) == 0)
			(void)fchownat(dfd, comp, SANDBOX_ID, SANDBOX_ID, AT_SYMLINK_NOFOLLOW);
		else if (errno != EEXIST)
			return -errno;
		nfd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			return -errno;
		close(dfd);
		dfd = nfd;
	}
	if (unlinkat(dfd, comp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dfd, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    f->is_executable ? 0755 : 0644);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < f->content.len && r == 0;) {
		ssize_t w = write(fd, f->content.data + off, f->content.len - off);

		if (w < 0 && errno != EINTR)
			r = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (r == 0 && fchown(fd, SANDBOX_ID, SANDBOX_ID) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 ? -errno : 0;
}

enum kill_why { KILL_NONE, KILL_WALL, KILL_CPU, KILL_OUTPUT };

struct io {
	struct sbx_buf out[2], log; /* stdout, stderr; runsc's messages */
	bool truncated[2];
	uint64_t dropped;
	enum kill_why kill;
	bool oom;
};

struct job {
	pid_t pid;
	const struct gvisor *n;
	const struct sbx_nsjail_cg_run *cg;
	const Sbx__SpawnRequest *req;
	long long t0;
};

/* Whether the run must be killed now, and why. */
static enum kill_why over_limit(const struct job *j, const struct io *io, long long now)
{
	uint64_t ns;

	if (now - j->t0 >= (long long)j->req->limits->wall_time_ms)
		return KILL_WALL;
	if (io->dropped > OUTPUT_DRAIN_BYTES)
		return KILL_OUTPUT;
	if (sbx_nsjail_cg_cpu_ns(&j->n->cg, j->cg, &ns) == 0 &&
	    ns >= (j->req->limits->cpu_time_ms + GVISOR_CPU_OVERHEAD_MS) * 1000000ull)
		return KILL_CPU;
	return KILL_NONE;
}

/* One read from pipe p[s]: into the output (s 0, 1) or the log (2). */
static void take_some(struct pollfd *p, int s, struct io *io)
{
	char buf[65536];
	ssize_t got = read(p->fd, buf, sizeof(buf));
	size_t kept;

	if (got <= 0) {
		if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
			close(p->fd);
			p->fd = -1;
		}
		return;
	}
	if (s == 2) {
		(void)sbx_buf_append_some(&io->log, buf, (size_t)got);
		return;
	}
	kept = sbx_buf_append_some(&io->out[s], buf, (size_t)got);
	if (kept < (size_t)got) {
		io->truncated[s] = true;
		io->dropped += (size_t)got - kept;
	}
}

/* Feed stdin, collect output until the pipes close, killing runsc and
 * everything in the run's cgroups (the Sentry and the gofer hold the
 * pipes) at a limit. After a kill, waits KILL_GRACE_MS at most. */
static void pump(const struct job *j, int in, int out, int err, int log, struct io *io)
{
	struct pollfd p[4] = {{.fd = out, .events = POLLIN},
			      {.fd = err, .events = POLLIN},
			      {.fd = log, .events = POLLIN},
			      {.fd = in, .events = POLLOUT}};
	const Sbx__SpawnRequest *req = j->req;
	long long grace_end = 0;
	size_t in_off = 0;

	if (req->stdin.len == 0) {
		close(in);
		p[3].fd = -1;
	}
	while (p[0].fd >= 0 || p[1].fd >= 0 || p[2].fd >= 0) {
		long long now = sbx_clock_mono_ms();

		if (!io->kill && (io->kill = over_limit(j, io, now))) {
			kill(j->pid, SIGKILL);
			sbx_nsjail_cg_kill(&j->n->cg, j->cg);
			grace_end = now + KILL_GRACE_MS;
		}
		if (io->kill && now >= grace_end)
			break;
		if (poll(p, 4, CPU_POLL_MS) < 0 && errno != EINTR)
			break;
		if (p[3].fd >= 0 && p[3].revents) {
			ssize_t w = write(in, req->stdin.data + in_off, req->stdin.len - in_off);

			if (w > 0)
				in_off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    in_off == req->stdin.len) {
				close(in);
				p[3].fd = -1;
			}
		}
		for (int s = 0; s < 3; s++)
			if (p[s].fd >= 0 && p[s].revents)
				take_some(&p[s], s, io);
	}
	for (int i = 0; i < 4; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
}

static void close_pipes(int (*fds)[2], int n)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			if (fds[i][k] >= 0)
				close(fds[i][k]);
}

static uint8_t *take(struct sbx_buf *b, size_t *len)
{
	if (b->data)
		return (uint8_t *)sbx_buf_steal(b, len);
	*len = 0;
	return calloc(1, 1);
}

/* The run's directory: the request's workspace, or a fresh one under the
 * work directory (*fresh is set once it exists, so that it is removed even
 * when a later step fails). */
static int workspace(const struct gvisor *n, const Sbx__SpawnRequest *req, char *ws, size_t len,
		     bool *fresh)
{
	if (req->workspace[0]) {
		snprintf(ws, len, "%s", req->workspace);
		return 0;
	}
	if ((size_t)snprintf(ws, len, "%s/%s", n->work,
			     req->execution_id[0] ? req->execution_id : "run") >= len)
		return -ENAMETOOLONG;
	if (mkdir(ws, 0700) < 0)
		return -errno;
	*fresh = true;
	if (chown(ws, SANDBOX_ID, SANDBOX_ID) < 0)
		return -errno;
	return 0;
}

static int put_files(const char *ws, const Sbx__SpawnRequest *req)
{
	int r = 0, dirfd = open(ws, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dirfd < 0)
		return -errno;
	for (size_t i = 0; i < req->n_files && r == 0; i++)
		r = put_file(dirfd, req->files[i]);
	close(dirfd);
	return r;
}

/* Hands the captured output, the sentence and the id to res. */
static int fill_result(Sbx__ExecResult *res, const Sbx__SpawnRequest *req, struct io *io,
		       const char *err)
{
	res->stdout.data = take(&io->out[0], &res->stdout.len);
	res->stderr.data = take(&io->out[1], &res->stderr.len);
	res->stdout_truncated = io->truncated[0];
	res->stderr_truncated = io->truncated[1];
	res->error = strdup(err);
	res->execution_id = strdup(req->execution_id ? req->execution_id : "");
	if (!res->stdout.data || !res->stderr.data || !res->error || !res->execution_id)
		return -ENOMEM;
	return 0;
}

/* argv[0] as the spec must name it: a bare name resolved on the
 * request's PATH (the host's /usr is the sandbox's); a path as is, looked
 * up inside. False when a bare name is found nowhere. */
static bool resolve(const Sbx__SpawnRequest *req, char *exe, size_t len)
{
	const char *path_var = "/usr/local/bin:/usr/bin:/bin";

	for (size_t i = 0; i < req->n_env; i++)
		if (strncmp(req->env[i], "PATH=", 5) == 0)
			path_var = req->env[i] + 5;
	if (strchr(req->argv[0], '/')) {
		snprintf(exe, len, "%s", req->argv[0]);
		return true;
	}
	return find_exec(req->argv[0], path_var, exe, len);
}


static int rm_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int sbx_gvisor_open(const struct sbx_config *cfg, void **ret_state)
{
	const char *path = getenv("PATH");
	struct gvisor *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	if (!find_exec("runsc", path ? path : "/usr/local/bin:/usr/bin:/bin", n->path,
		       sizeof(n->path))) {
		log_error("gvisor backend unavailable: runsc not found on PATH (Debian: apt-get "
			  "install runsc)");
		free(n);
		return -ENOENT;
	}
	snprintf(n->work, sizeof(n->work), "%s/gvisor", cfg->state_dir);
	snprintf(n->root, sizeof(n->root), "%s/root", n->work);
	snprintf(n->state, sizeof(n->state), "%s/runsc", n->work);
	/* What a killed daemon left: its containers are dead (their
	 * processes were in its cgroups), their state is not. */
	(void)rm_tree(n->work);
	r = mkdir(n->work, 0711) < 0 ? -errno : write_ids(n);
	if (r == 0)
		r = mkdir(n->state, 0700) < 0 ? -errno : sbx_gvisor_make_root(n->root);
	if (r == 0)
		r = sbx_nsjail_cg_open(&n->cg);
	if (r < 0) {
		log_error("gvisor backend: cannot prepare %s: %s", n->work, strerror(-r));
		free(n);
		return r;
	}
	snprintf(n->describe, sizeof(n->describe), "gvisor (%s, cgroup %s)", n->path,
		 n->cg.version == 1 ? "v1" : n->cg.version == 2 ? "v2" : "none");
	*ret_state = n;
	return 0;
}

void sbx_gvisor_close(void *state)
{
	struct gvisor *n = state;

	if (!n)
		return;
	sbx_nsjail_cg_close(&n->cg);
	(void)rm_tree(n->work);
	free(n);
}

int sbx_gvisor_own_workspace(void *state, const char *dir)
{
	(void)state;
	return chown(dir, SANDBOX_ID, SANDBOX_ID) < 0 ? -errno : 0;
}

const char *sbx_gvisor_describe(void *state)
{
	return ((struct gvisor *)state)->describe;
}

/* In the forked child (async-signal-safe calls only): into every one of
 * the run's cgroups, so that runsc, the Sentry and the gofer count. */
static void join_cgroups(const int *procs, int n)
{
	for (int i = 0; i < n; i++)
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

/* Start runsc with stdin, stdout, stderr and its log (fd 3) on pipes,
 * collect, reap. fds: [0] stdin, [1] stdout, [2] stderr, [3] log. */
static int spawn_and_wait(char **argv, struct job *j, struct io *io, int *ret_status,
			  uint64_t *ret_wall)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	int fds[4][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}}, procs[SBX_NJ_N], st = 0, r;
	pid_t parent;

	r = open_procs(j->cg, procs);
	for (int i = 0; i < 4 && r == 0; i++)
		if (pipe2(fds[i], O_CLOEXEC) < 0)
			r = -errno;
	if (r == 0) {
		fcntl(fds[0][1], F_SETFL, O_NONBLOCK);
		j->t0 = sbx_clock_mono_ms();
		parent = getpid();
		j->pid = fork();
		if (j->pid == 0) {
			/* runsc dies with the daemon; what it started is in
			 * the cgroups, which the next start empties. */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
				_exit(127);
			join_cgroups(procs, SBX_NJ_N);
			if (dup2(fds[0][0], 0) < 0 || dup2(fds[1][1], 1) < 0 ||
			    dup2(fds[2][1], 2) < 0 || dup2(fds[3][1], 3) < 0)
				_exit(127);
			execve(argv[0], argv, envp);
			_exit(127);
		}
		r = j->pid < 0 ? -errno : 0;
	}
	for (int c = 0; c < SBX_NJ_N; c++)
		if (procs[c] >= 0)
			close(procs[c]);
	for (int i = 0; i < 4; i++) {
		if (fds[i][i == 0 ? 0 : 1] >= 0)
			close(fds[i][i == 0 ? 0 : 1]);
		fds[i][i == 0 ? 0 : 1] = -1;
	}
	if (r < 0) {
		close_pipes(fds, 4);
		return r;
	}
	pump(j, fds[0][1], fds[1][0], fds[2][0], fds[3][0], io);
	if (io->kill)
		kill(j->pid, SIGKILL);
	while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR)
		;
	*ret_wall = (uint64_t)(sbx_clock_mono_ms() - j->t0);
	*ret_status = st;
	return 0;
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
static const char *runsc_failure(const struct io *io, char *buf, size_t len)
{
	const char *log = io->log.data ? io->log.data : "", *e = strstr(log, "FATAL ERROR");

	if (!e)
		e = strstr(log, "error");
	if (!e)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(e, "\n"), e);
	return buf;
}

static void decide(const Sbx__SpawnRequest *req, int st, const struct io *io,
		   Sbx__ExecResult *res, char *err, size_t len)
{
	const Sbx__Limits *l = req->limits;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* runsc exits 128+N when the program died of signal N. */
	int sig = code > 128 && code <= 128 + 64 ? code - 128 : 0;
	char why[256];
	const char *fail = io->kill || io->oom ? NULL : runsc_failure(io, why, sizeof(why));

	res->exit_code = code;
	res->signal = sig;
	if (fail && code != 0 && code < 128) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		sbx_sentence(err, len, "runsc failed: %s", fail);
	} else if (io->kill == KILL_CPU || sig == SIGXCPU) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT;
		snprintf(err, len, "CPU time limit exceeded (%" PRIu64 " ms)", l->cpu_time_ms);
	} else if (io->kill == KILL_WALL) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
		snprintf(err, len, "wall time limit exceeded (%" PRIu64 " ms)", l->wall_time_ms);
	} else if (io->oom) {
		/* The host's OOM killer may pick the Sentry: the run ends
		 * either way. */
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_MEMORY_LIMIT;
		snprintf(err, len, "memory limit exceeded (%" PRIu64 " KB)", l->memory_kb);
	} else if (io->kill == KILL_OUTPUT || io->truncated[0] || io->truncated[1]) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_OUTPUT_LIMIT;
		snprintf(err, len, "output limit exceeded (%" PRIu64 " bytes)", l->output_bytes);
	} else if (sig) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_SIGNALED;
		snprintf(err, len, "killed by signal %d (SIG%s)%s", sig, sigabbrev_np(sig),
			 sig == SIGXFSZ ? ": file size limit exceeded" : "");
	} else if (code != 0) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		snprintf(err, len, "exited with code %d", code);
	} else {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_OK;
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
static int run_sandbox(struct gvisor *n, const Sbx__SpawnRequest *req, const char *ws,
		       struct io *io, Sbx__ExecResult *res, char *err, size_t len)
{
	struct sbx_nsjail_cg_run cg;
	struct job j = {.n = n, .cg = &cg, .req = req};
	Sbx__Limits hl = host_limits(req->limits);
	char exe[PATH_MAX], bundle[PATH_MAX + 80], id[64], root[PATH_MAX + 16], b[PATH_MAX + 96];
	char *argv[] = {n->path, root, "--ignore-cgroups", "--network=none", "--log-fd=3",
			"run", b, id, NULL};
	int r, st = 0;

	if (!resolve(req, exe, sizeof(exe))) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		res->exit_code = 127;
		sbx_sentence(err, len, "%s: command not found", req->argv[0]);
		return 0;
	}
	snprintf(id, sizeof(id), "sbx-%d-%010u", (int)getpid(),
		 __atomic_fetch_add(&n->seq, 1, __ATOMIC_RELAXED));
	snprintf(bundle, sizeof(bundle), "%s/b-%s", n->work, id);
	snprintf(root, sizeof(root), "--root=%s", n->state);
	snprintf(b, sizeof(b), "--bundle=%s", bundle);
	r = sbx_gvisor_write_bundle(n->root, &(struct sbx_gvisor_ids){n->passwd, n->group}, req,
				    ws, exe, bundle);
	if (r == 0)
		r = sbx_nsjail_cg_make(&n->cg, &hl, &cg);
	if (r < 0) {
		(void)rm_tree(bundle);
		return r;
	}
	r = spawn_and_wait(argv, &j, io, &st, &res->wall_time_ms);
	if (r == 0) {
		sbx_nsjail_cg_kill(&n->cg, &cg);
		sbx_nsjail_cg_collect(&n->cg, &cg, res, &io->oom);
		decide(req, st, io, res, err, len);
	}
	sbx_nsjail_cg_remove(&n->cg, &cg);
	delete_container(n, id);
	(void)rm_tree(bundle);
	return r;
}

int sbx_gvisor_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret)
{
	struct gvisor *n = state;
	Sbx__ExecResult *res = calloc(1, sizeof(*res));
	struct io io = {0};
	char ws[PATH_MAX] = "", err[SBX_SENTENCE_MAX] = "";
	bool fresh = false;
	const char *why;
	int r;

	if (!res)
		return -ENOMEM;
	sbx__exec_result__init(res);
	sbx_buf_init(&io.out[0], req->limits ? req->limits->output_bytes : 0);
	sbx_buf_init(&io.out[1], req->limits ? req->limits->output_bytes : 0);
	sbx_buf_init(&io.log, LOG_KEEP);
	r = sbx_engine_check(req, &why);
	if (r < 0) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, sizeof(err), "%s", why);
		goto done;
	}
	r = workspace(n, req, ws, sizeof(ws), &fresh);
	if (r == 0)
		r = put_files(ws, req);
	if (r == 0)
		r = run_sandbox(n, req, ws, &io, res, err, sizeof(err));
done:
	if (r < 0 && r != -EINVAL) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, sizeof(err), "runsc could not run: %s", strerror(-r));
	}
	if (fresh)
		(void)rm_tree(ws);
	sbx_buf_fini(&io.log);
	if (fill_result(res, req, &io, err) < 0) {
		sbx__exec_result__free_unpacked(res, NULL);
		return -ENOMEM;
	}
	*ret = res;
	return r == -EINVAL ? -EINVAL : 0;
}
