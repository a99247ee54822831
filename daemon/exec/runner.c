#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "clock.h"
#include "engine.h"
#include "sentence.h"

#define KILL_GRACE_MS 2000
#define OUTPUT_DRAIN_BYTES (16ull << 20)
/* How often the CPU time of a run is looked at (the CPU limit covers every
 * process of the run, which RLIMIT_CPU, per process, does not). */
#define CPU_POLL_MS 50
/* The runner's own messages (its log fd): kept for the error sentence. */
#define LOG_KEEP 4096

static bool is_exec_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

bool sbx_runner_find_exec(const char *name, const char *path_var, char *ret, size_t len)
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
int sbx_runner_write_ids(struct sbx_runner *rn)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
				     "sandbox:x:1000:1000:sandbox:/workspace:/bin/sh\n"
				     "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
	static const char group[] = "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n";
	const char *files[][2] = {{rn->passwd, passwd}, {rn->group, group}};

	snprintf(rn->passwd, sizeof(rn->passwd), "%s/passwd", rn->work);
	snprintf(rn->group, sizeof(rn->group), "%s/group", rn->work);
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

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 ? -errno : 0;
}

int sbx_runner_rm_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int sbx_runner_open_cg(struct sbx_runner *rn, const char *kind, const char *path)
{
	int r = sbx_nsjail_cg_open(&rn->cg);

	if (r < 0)
		return r;
	snprintf(rn->describe, sizeof(rn->describe), "%s (%s, cgroup %s)", kind, path,
		 rn->cg.version == 1 ? "v1" : rn->cg.version == 2 ? "v2" : "none");
	return 0;
}

int sbx_runner_own_workspace(void *state, const char *dir)
{
	const struct sbx_runner *rn = state;

	return chown(dir, rn->owner, rn->owner) < 0 ? -errno : 0;
}

const char *sbx_runner_describe(void *state)
{
	return ((struct sbx_runner *)state)->describe;
}

void sbx_runner_close(void *state, bool rm_work)
{
	struct sbx_runner *rn = state;

	if (!rn)
		return;
	sbx_nsjail_cg_close(&rn->cg);
	if (rm_work)
		(void)sbx_runner_rm_tree(rn->work);
	free(state);
}

/* Write one request file below dirfd: components opened O_NOFOLLOW, the
 * file created O_EXCL after removing what was there, owned by the sandbox
 * user (the workspace may hold links planted by an earlier run). */
static int put_file(int dirfd, const Sbx__File *f, uid_t owner)
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
			(void)fchownat(dfd, comp, owner, owner, AT_SYMLINK_NOFOLLOW);
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
	if (r == 0 && fchown(fd, owner, owner) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int put_files(const char *ws, const Sbx__SpawnRequest *req, uid_t owner)
{
	int r = 0, dirfd = open(ws, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dirfd < 0)
		return -errno;
	for (size_t i = 0; i < req->n_files && r == 0; i++)
		r = put_file(dirfd, req->files[i], owner);
	close(dirfd);
	return r;
}

/* Whether the run must be killed now, and why. */
static enum sbx_runner_kill over_limit(const struct sbx_runner_job *j,
				       const struct sbx_runner_io *io, long long now)
{
	const Sbx__Limits *l = j->req->limits;
	uint64_t ns;

	if (now - j->t0 >= (long long)l->wall_time_ms)
		return SBX_RUNNER_KILL_WALL;
	if (io->dropped > OUTPUT_DRAIN_BYTES)
		return SBX_RUNNER_KILL_OUTPUT;
	if (sbx_nsjail_cg_cpu_ns(&j->rn->cg, j->cg, &ns) == 0 &&
	    ns >= (l->cpu_time_ms + j->rn->cpu_extra_ms) * 1000000ull)
		return SBX_RUNNER_KILL_CPU;
	return SBX_RUNNER_KILL_NONE;
}

/* One read from pipe p[s]: into the output (s 0, 1) or the log (2). */
static void take_some(struct pollfd *p, int s, struct sbx_runner_io *io)
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

/* Feed stdin, collect output until the pipes close, killing the runner
 * (and, with kill_cgroup, everything in the run's cgroups) at a limit.
 * After a kill, waits KILL_GRACE_MS at most for the pipes. */
static void pump(const struct sbx_runner_job *j, int in, int out, int err, int log,
		 struct sbx_runner_io *io)
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
			if (j->rn->kill_cgroup)
				sbx_nsjail_cg_kill(&j->rn->cg, j->cg);
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

/* fds: [0] stdin, [1] stdout, [2] stderr, [3] log. */
int sbx_runner_spawn_wait(char **argv, struct sbx_runner_job *j, struct sbx_runner_io *io,
			  int *ret_status, uint64_t *ret_wall)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	int fds[4][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}}, st = 0, r;
	pid_t parent;

	for (int i = 0; i < 4; i++)
		if (pipe2(fds[i], O_CLOEXEC) < 0) {
			r = -errno;
			close_pipes(fds, 4);
			return r;
		}
	fcntl(fds[0][1], F_SETFL, O_NONBLOCK);
	j->t0 = sbx_clock_mono_ms();
	parent = getpid();
	j->pid = fork();
	if (j->pid == 0) {
		/* The runner dies with the daemon; the forking thread waits
		 * for it, so it cannot end first. What it started is in the
		 * cgroups or its PID namespace. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		if (j->child)
			j->child(j);
		if (dup2(fds[0][0], 0) < 0 || dup2(fds[1][1], 1) < 0 || dup2(fds[2][1], 2) < 0 ||
		    dup2(fds[3][1], 3) < 0)
			_exit(127);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	r = j->pid < 0 ? -errno : 0;
	for (int i = 0; i < 4; i++) {
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
static int workspace(const struct sbx_runner *rn, const Sbx__SpawnRequest *req, char *ws,
		     size_t len, bool *fresh)
{
	if (req->workspace[0]) {
		snprintf(ws, len, "%s", req->workspace);
		return 0;
	}
	if ((size_t)snprintf(ws, len, "%s/%s", rn->work,
			     req->execution_id[0] ? req->execution_id : "run") >= len)
		return -ENAMETOOLONG;
	if (mkdir(ws, 0700) < 0)
		return -errno;
	*fresh = true;
	if (chown(ws, rn->owner, rn->owner) < 0)
		return -errno;
	return 0;
}

/* Hands the captured output, the sentence and the id to res. */
static int fill_result(Sbx__ExecResult *res, const Sbx__SpawnRequest *req,
		       struct sbx_runner_io *io, const char *err)
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

bool sbx_runner_resolve(const Sbx__SpawnRequest *req, char *exe, size_t len)
{
	const char *path_var = "/usr/local/bin:/usr/bin:/bin";

	for (size_t i = 0; i < req->n_env; i++)
		if (strncmp(req->env[i], "PATH=", 5) == 0)
			path_var = req->env[i] + 5;
	if (strchr(req->argv[0], '/')) {
		snprintf(exe, len, "%s", req->argv[0]);
		return true;
	}
	return sbx_runner_find_exec(req->argv[0], path_var, exe, len);
}

int sbx_runner_run(const struct sbx_runner *rn, const Sbx__SpawnRequest *req, sbx_runner_fn run,
		   void *state, Sbx__ExecResult **ret)
{
	Sbx__ExecResult *res = calloc(1, sizeof(*res));
	struct sbx_runner_io io = {0};
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
	r = workspace(rn, req, ws, sizeof(ws), &fresh);
	if (r == 0)
		r = put_files(ws, req, rn->owner);
	if (r == 0)
		r = run(state, req, ws, &io, res, err, sizeof(err));
done:
	if (r < 0 && r != -EINVAL) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, sizeof(err), "%s could not run: %s", rn->name, strerror(-r));
	}
	if (fresh)
		(void)sbx_runner_rm_tree(ws);
	sbx_buf_fini(&io.log);
	if (fill_result(res, req, &io, err) < 0) {
		sbx__exec_result__free_unpacked(res, NULL);
		return -ENOMEM;
	}
	*ret = res;
	return r == -EINVAL ? -EINVAL : 0;
}

const char *sbx_runner_log_line(const char *e, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(e, "\n"), e);
	return buf;
}

int sbx_runner_exit_code(int st, Sbx__ExecResult *res)
{
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

	res->exit_code = code;
	res->signal = code > 128 && code <= 128 + 64 ? code - 128 : 0;
	return code;
}

/* The sentences of a run's end, the same for every runner; each backend
 * decides which applies (how its runner reports a signal differs). */
void sbx_runner_not_found(const Sbx__SpawnRequest *req, Sbx__ExecResult *res, char *err,
			  size_t len)
{
	res->status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
	res->exit_code = 127;
	sbx_sentence(err, len, "%s: command not found", req->argv[0]);
}

void sbx_runner_cpu_limit(const Sbx__Limits *l, Sbx__ExecResult *res, char *err, size_t len)
{
	res->status = SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT;
	snprintf(err, len, "CPU time limit exceeded (%" PRIu64 " ms)", l->cpu_time_ms);
}

void sbx_runner_wall_limit(const Sbx__Limits *l, Sbx__ExecResult *res, char *err, size_t len)
{
	res->status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
	snprintf(err, len, "wall time limit exceeded (%" PRIu64 " ms)", l->wall_time_ms);
}

void sbx_runner_memory_limit(const Sbx__Limits *l, Sbx__ExecResult *res, char *err, size_t len)
{
	res->status = SBX__EXEC_STATUS__EXEC_STATUS_MEMORY_LIMIT;
	snprintf(err, len, "memory limit exceeded (%" PRIu64 " KB)", l->memory_kb);
}

void sbx_runner_decide_exit(const Sbx__Limits *l, int code, int sig,
			    const struct sbx_runner_io *io, Sbx__ExecResult *res, char *err,
			    size_t len)
{
	if (io->kill == SBX_RUNNER_KILL_OUTPUT || io->truncated[0] || io->truncated[1]) {
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
