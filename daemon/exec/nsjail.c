#include "nsjail.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "clock.h"
#include "daemon_config.h"
#include "engine.h"
#include "log.h"
#include "sentence.h"

/* The sandbox user: 1000 inside, this uid/gid outside (as native). */
#define OUTSIDE_ID 100000
#define MAX_ARGS 4096 + 512
#define KILL_GRACE_MS 2000
#define OUTPUT_DRAIN_BYTES (16ull << 20)

struct nsjail {
	char path[PATH_MAX];
	char work[PATH_MAX]; /* fresh workspaces live here */
	char describe[PATH_MAX + 32];
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

int sbx_nsjail_open(const struct sbx_config *cfg, void **ret_state)
{
	const char *path = getenv("PATH");
	struct nsjail *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	if (!find_exec(cfg->nsjail_path, path ? path : "/usr/local/bin:/usr/bin:/bin", n->path,
		       sizeof(n->path))) {
		if (strchr(cfg->nsjail_path, '/'))
			log_error("nsjail backend unavailable: %s is not an executable file",
				  cfg->nsjail_path);
		else
			log_error("nsjail backend unavailable: %s not found on PATH",
				  cfg->nsjail_path);
		free(n);
		return -ENOENT;
	}
	snprintf(n->work, sizeof(n->work), "%s/nsjail", cfg->state_dir);
	if (mkdir(n->work, 0711) < 0 && errno != EEXIST) {
		int r = -errno;

		free(n);
		return r;
	}
	snprintf(n->describe, sizeof(n->describe), "nsjail (%s)", n->path);
	*ret_state = n;
	return 0;
}

void sbx_nsjail_close(void *state)
{
	free(state);
}

int sbx_nsjail_own_workspace(void *state, const char *dir)
{
	(void)state;
	return chown(dir, OUTSIDE_ID, OUTSIDE_ID) < 0 ? -errno : 0;
}

const char *sbx_nsjail_describe(void *state)
{
	return ((struct nsjail *)state)->describe;
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
			(void)fchownat(dfd, comp, OUTSIDE_ID, OUTSIDE_ID, AT_SYMLINK_NOFOLLOW);
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
	if (r == 0 && fchown(fd, OUTSIDE_ID, OUTSIDE_ID) < 0)
		r = -errno;
	close(fd);
	return r;
}

struct args {
	char *v[MAX_ARGS];
	size_t n;
	bool oom;
};

static void add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (a->n + 1 >= MAX_ARGS) {
		a->oom = true;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		s = NULL;
		a->oom = true;
	}
	va_end(ap);
	a->v[a->n++] = s;
}

static uint64_t mib_up(uint64_t kb)
{
	return (kb + 1023) / 1024;
}

static void build_args(const struct nsjail *n, const Sbx__SpawnRequest *req, const char *ws,
		       struct args *a)
{
	static const char *const ro[] = {"/usr", "/bin", "/lib", "/lib64", "/lib32", "/etc"};
	const Sbx__Limits *l = req->limits;
	const char *path_var = "/usr/local/bin:/usr/bin:/bin";
	char exe[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < req->n_env; i++)
		if (strncmp(req->env[i], "PATH=", 5) == 0)
			path_var = req->env[i] + 5;
	add(a, "%s", n->path);
	add(a, "--mode");
	add(a, "o");
	add(a, "--really_quiet");
	add(a, "--time_limit=%" PRIu64, (l->wall_time_ms + 999) / 1000);
	add(a, "--rlimit_cpu=%" PRIu64, (l->cpu_time_ms + 999) / 1000);
	add(a, "--rlimit_fsize=%" PRIu64, mib_up(l->fsize_kb));
	add(a, "--rlimit_nofile=%u", l->nofile);
	add(a, "--rlimit_stack=%" PRIu64, mib_up(l->stack_kb));
	add(a, "--rlimit_as=max");
	add(a, "--rlimit_core=0");
	add(a, "--cgroup_mem_max=%" PRIu64, l->memory_kb * 1024);
	add(a, "--cgroup_pids_max=%u", l->pids);
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		add(a, "--use_cgroupv2");
	add(a, "--user=1000:%d:1", OUTSIDE_ID);
	add(a, "--group=1000:%d:1", OUTSIDE_ID);
	add(a, "--hostname=sandbox");
	if (req->network)
		add(a, "--disable_clone_newnet");
	for (size_t i = 0; i < SBX_ARRAY_SIZE(ro); i++)
		if (lstat(ro[i], &st) == 0 && S_ISDIR(st.st_mode))
			add(a, "--bindmount_ro=%s", ro[i]);
	for (size_t i = 0; i < req->n_binds; i++)
		add(a, "--bindmount_ro=%s:%s", req->binds[i]->source,
		    req->binds[i]->target[0] ? req->binds[i]->target : req->binds[i]->source);
	add(a, "--bindmount=%s:/workspace", ws);
	if (req->tmp_dir[0])
		add(a, "--bindmount=%s:/tmp", req->tmp_dir);
	else
		add(a, "--mount=none:/tmp:tmpfs:size=67108864");
	add(a, "--cwd=%s", req->cwd[0] ? req->cwd : "/workspace");
	for (size_t i = 0; i < req->n_env; i++)
		add(a, "--env=%s", req->env[i]);
	add(a, "--");
	/* nsjail execve()s argv[0] as a path: resolve it like execvp would. */
	add(a, "%s", find_exec(req->argv[0], path_var, exe, sizeof(exe)) ? exe : req->argv[0]);
	for (size_t i = 1; i < req->n_argv; i++)
		add(a, "%s", req->argv[i]);
	a->v[a->n] = NULL;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 ? -errno : 0;
}

struct io {
	struct sbx_buf out[2];
	bool truncated[2];
	uint64_t dropped;
};

/* Feed stdin, collect output until both pipes close or the deadline; the
 * return value says whether we killed nsjail. */
static bool pump(pid_t pid, int in, int out, int err, const Sbx__SpawnRequest *req,
		 long long deadline, struct io *io)
{
	struct pollfd p[3] = {{.fd = out, .events = POLLIN},
			      {.fd = err, .events = POLLIN},
			      {.fd = in, .events = POLLOUT}};
	size_t in_off = 0;
	bool killed = false;
	char buf[65536];

	if (req->stdin.len == 0) {
		close(in);
		p[2].fd = -1;
	}
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		long long left = deadline - sbx_clock_mono_ms();

		if ((left <= 0 || io->dropped > OUTPUT_DRAIN_BYTES) && !killed) {
			kill(pid, SIGKILL);
			killed = true;
			deadline = sbx_clock_mono_ms() + KILL_GRACE_MS;
			continue;
		}
		if (left <= 0)
			break;
		if (poll(p, 3, (int)left) < 0 && errno != EINTR)
			break;
		if (p[2].fd >= 0 && p[2].revents) {
			ssize_t w = write(in, req->stdin.data + in_off, req->stdin.len - in_off);

			if (w > 0)
				in_off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    in_off == req->stdin.len) {
				close(in);
				p[2].fd = -1;
			}
		}
		for (int s = 0; s < 2; s++) {
			ssize_t got;
			size_t kept;

			if (p[s].fd < 0 || !p[s].revents)
				continue;
			got = read(p[s].fd, buf, sizeof(buf));
			if (got <= 0) {
				if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
					close(p[s].fd);
					p[s].fd = -1;
				}
				continue;
			}
			kept = sbx_buf_append_some(&io->out[s], buf, (size_t)got);
			if (kept < (size_t)got) {
				io->truncated[s] = true;
				io->dropped += (size_t)got - kept;
			}
		}
	}
	for (int i = 0; i < 3; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	return killed;
}

static int spawn_and_wait(struct args *a, const Sbx__SpawnRequest *req, struct io *io,
			  int *ret_status, bool *ret_killed, uint64_t *ret_wall)
{
	int pin[2], pout[2], perr[2], st = 0, r;
	posix_spawn_file_actions_t fa;
	long long t0;
	pid_t pid;

	if (pipe2(pin, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pout, O_CLOEXEC) < 0) {
		r = -errno;
		close(pin[0]);
		close(pin[1]);
		return r;
	}
	if (pipe2(perr, O_CLOEXEC) < 0) {
		r = -errno;
		close(pin[0]);
		close(pin[1]);
		close(pout[0]);
		close(pout[1]);
		return r;
	}
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	t0 = sbx_clock_mono_ms();
	r = -posix_spawn(&pid, a->v[0], &fa, NULL, a->v, (char *[]){"PATH=/usr/bin:/bin", NULL});
	posix_spawn_file_actions_destroy(&fa);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (r < 0) {
		close(pin[1]);
		close(pout[0]);
		close(perr[0]);
		return r;
	}
	*ret_killed = pump(pid, pin[1], pout[0], perr[0], req,
			   t0 + (long long)req->limits->wall_time_ms + 1000, io);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*ret_wall = (uint64_t)(sbx_clock_mono_ms() - t0);
	*ret_status = st;
	return 0;
}

static void decide(const Sbx__SpawnRequest *req, int st, bool killed, const struct io *io,
		   Sbx__ExecResult *res, char *err, size_t len)
{
	const Sbx__Limits *l = req->limits;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* nsjail exits 128+N when the program died of signal N. */
	int sig = code > 128 && code <= 128 + 64 ? code - 128 : 0;

	res->exit_code = code;
	res->signal = sig;
	if (sig == SIGXCPU) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT;
		snprintf(err, len, "CPU time limit exceeded (%" PRIu64 " ms)", l->cpu_time_ms);
	} else if ((killed && io->dropped <= OUTPUT_DRAIN_BYTES) ||
		   (sig == SIGKILL && res->wall_time_ms >= l->wall_time_ms)) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
		snprintf(err, len, "wall time limit exceeded (%" PRIu64 " ms)", l->wall_time_ms);
	} else if (killed || io->truncated[0] || io->truncated[1]) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_OUTPUT_LIMIT;
		snprintf(err, len, "output limit exceeded (%" PRIu64 " bytes)", l->output_bytes);
	} else if (sig) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_SIGNALED;
		snprintf(err, len, "killed by signal %d%s", sig,
			 sig == SIGKILL ? " (memory limit?)" : "");
	} else if (code != 0) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		snprintf(err, len, "exited with code %d", code);
	} else {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_OK;
	}
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
static int workspace(const struct nsjail *n, const Sbx__SpawnRequest *req, char *ws, size_t len,
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
	if (chown(ws, OUTSIDE_ID, OUTSIDE_ID) < 0)
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

int sbx_nsjail_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret)
{
	struct nsjail *n = state;
	Sbx__ExecResult *res = calloc(1, sizeof(*res));
	struct args *a = calloc(1, sizeof(*a));
	struct io io = {0};
	char ws[PATH_MAX] = "", err[SBX_SENTENCE_MAX] = "";
	bool fresh = false, killed = false;
	const char *why;
	int r, st = 0;

	if (!res || !a) {
		free(res);
		free(a);
		return -ENOMEM;
	}
	sbx__exec_result__init(res);
	sbx_buf_init(&io.out[0], req->limits ? req->limits->output_bytes : 0);
	sbx_buf_init(&io.out[1], req->limits ? req->limits->output_bytes : 0);
	r = sbx_engine_check(req, &why);
	if (r < 0) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, sizeof(err), "%s", why);
		goto done;
	}
	r = workspace(n, req, ws, sizeof(ws), &fresh);
	if (r == 0)
		r = put_files(ws, req);
	if (r < 0)
		goto done;
	build_args(n, req, ws, a);
	if (a->oom) {
		r = -ENOMEM;
		goto done;
	}
	r = spawn_and_wait(a, req, &io, &st, &killed, &res->wall_time_ms);
	if (r == 0)
		decide(req, st, killed, &io, res, err, sizeof(err));
done:
	if (r < 0 && r != -EINVAL) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, sizeof(err), "nsjail could not run: %s", strerror(-r));
	}
	if (fresh)
		nftw(ws, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a);
	if (fill_result(res, req, &io, err) < 0) {
		sbx__exec_result__free_unpacked(res, NULL);
		return -ENOMEM;
	}
	*ret = res;
	return r == -EINVAL ? -EINVAL : 0;
}
