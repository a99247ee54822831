#include "nsjail.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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
#include "nsjail_cg.h"
#include "sentence.h"

/* The sandbox user: 1000 inside, this uid/gid outside (as native). */
#define OUTSIDE_ID 100000
#define MAX_ARGS 4096 + 512
#define KILL_GRACE_MS 2000
#define OUTPUT_DRAIN_BYTES (16ull << 20)
/* How often the CPU time of a run is looked at (the CPU limit covers every
 * process of the run, which RLIMIT_CPU, per process, does not). */
#define CPU_POLL_MS 50
/* nsjail's own messages (--log_fd): kept for the error sentence. */
#define LOG_KEEP 4096

struct nsjail {
	char path[PATH_MAX];
	char work[PATH_MAX]; /* fresh workspaces live here */
	char describe[PATH_MAX + 64];
	char passwd[PATH_MAX + 16], group[PATH_MAX + 16]; /* the sandbox's own */
	struct sbx_nsjail_cg cg;
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
static int write_ids(struct nsjail *n)
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

int sbx_nsjail_open(const struct sbx_config *cfg, void **ret_state)
{
	const char *path = getenv("PATH");
	struct nsjail *n = calloc(1, sizeof(*n));
	int r;

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
	r = mkdir(n->work, 0711) < 0 && errno != EEXIST ? -errno : write_ids(n);
	if (r == 0)
		r = sbx_nsjail_cg_open(&n->cg);
	if (r < 0) {
		free(n);
		return r;
	}
	snprintf(n->describe, sizeof(n->describe), "nsjail (%s, cgroup %s)", n->path,
		 n->cg.version == 1 ? "v1" : n->cg.version == 2 ? "v2" : "none");
	*ret_state = n;
	return 0;
}

void sbx_nsjail_close(void *state)
{
	struct nsjail *n = state;

	if (!n)
		return;
	sbx_nsjail_cg_close(&n->cg);
	free(n);
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

/* The seccomp policy (kafel, nsjail's --seccomp_string): native's
 * (daemon/sandbox/seccomp.c) as far as kafel names the calls: refused with
 * EPERM the mount, namespace, tracing, keyring, BPF, perf, io_uring,
 * module, kexec, clock, handle-open, NUMA and LDT calls, clone() with a
 * namespace flag (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
 * and NEWTIME: 0x7e020080) and the TIOCSTI, TIOCLINUX and TIOCSETD ioctls;
 * ENOSYS for clone3 (glibc falls back to clone, whose flags the filter can
 * read) and memfd_secret. Not native's socket-family filter. kafel's
 * "umount" is umount2. */
#if defined(__x86_64__)
#define SECCOMP_ARCH_CALLS "iopl, ioperm, modify_ldt, uselib, "
#else
#define SECCOMP_ARCH_CALLS ""
#endif
static const char seccomp_policy[] =
	"POLICY sbx { ERRNO(1) { mount, umount, pivot_root, chroot, fsopen, fsconfig, "
	"fsmount, fspick, move_mount, open_tree, mount_setattr, unshare, setns, ptrace, "
	"process_vm_readv, process_vm_writev, process_madvise, pidfd_getfd, kcmp, bpf, "
	"perf_event_open, userfaultfd, fanotify_init, keyctl, add_key, request_key, "
	"io_uring_setup, io_uring_enter, io_uring_register, kexec_load, kexec_file_load, "
	"init_module, finit_module, delete_module, reboot, swapon, swapoff, acct, syslog, "
	"quotactl, vhangup, settimeofday, clock_settime, clock_adjtime, open_by_handle_at, "
	"name_to_handle_at, mbind, set_mempolicy, get_mempolicy, migrate_pages, move_pages, "
	SECCOMP_ARCH_CALLS "clone { (clone_flags & 0x7e020080) != 0 }, "
	"ioctl { cmd == 0x5412 || cmd == 0x541c || cmd == 0x5423 } }, "
	"ERRNO(38) { clone3, memfd_secret } } USE sbx DEFAULT ALLOW";

/* The read-only root, as native's (daemon/sandbox/mnt.c): the host's /usr
 * and merged-usr links, a few /etc files, our passwd and group, the five
 * device nodes. Not the rest of /etc (no /etc/shadow). */
static void add_root(const struct nsjail *n, struct args *a)
{
	static const char *const ro[] = {
		"/usr",		    "/bin",	     "/sbin",		 "/lib",
		"/lib32",	    "/lib64",	     "/libx32",		 "/etc/hosts",
		"/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/ld.so.cache", "/etc/ld.so.conf",
		"/etc/ld.so.conf.d", "/etc/alternatives", "/etc/ssl/certs", "/etc/localtime",
		"/etc/mime.types"};
	static const char *const dev[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
					  "/dev/urandom"};
	char link[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < SBX_ARRAY_SIZE(ro); i++) {
		ssize_t len = readlink(ro[i], link, sizeof(link) - 1);

		if (len > 0) {
			link[len] = 0;
			add(a, "--symlink=%s:%s", link, ro[i]);
		} else if (lstat(ro[i], &st) == 0) {
			add(a, "--bindmount_ro=%s", ro[i]);
		}
	}
	add(a, "--bindmount_ro=%s:/etc/passwd", n->passwd);
	add(a, "--bindmount_ro=%s:/etc/group", n->group);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(dev); i++)
		add(a, "--bindmount=%s", dev[i]);
}

/* The cgroup flags: nsjail creates NSJAIL.<pid> under our per-execution
 * parents. Its own limits are looser than the parents' (which are the
 * request's) so that an OOM kill is counted in the parent's
 * memory.oom_control on v1, which does not count a child's. */
static void add_cgroups(const struct nsjail *n, const struct sbx_nsjail_cg_run *cg,
			const Sbx__Limits *l, struct args *a)
{
	if (!n->cg.version)
		return;
	add(a, "--cgroup_mem_max=%" PRIu64, l->memory_kb * 2048);
	add(a, "--cgroup_pids_max=%u", l->pids);
	if (n->cg.version == 2) {
		add(a, "--use_cgroupv2");
		add(a, "--cgroupv2_mount=%s", cg->path[0]);
		return;
	}
	add(a, "--cgroup_mem_parent=%s", cg->rel[SBX_NJ_MEM]);
	add(a, "--cgroup_pids_parent=%s", cg->rel[SBX_NJ_PIDS]);
}

/* argv for nsjail. The sizes (fsize, stack) and CPU seconds are the
 * "soft" values nsjail inherits, set in the child before exec
 * (set_rlimits): exact, where nsjail's flags take whole MiB. nofile is a
 * flag: nsjail itself needs more descriptors than a small limit leaves. `exe` is argv[0] resolved on the request's PATH. */
static void build_args(const struct nsjail *n, const Sbx__SpawnRequest *req, const char *ws,
		       const struct sbx_nsjail_cg_run *cg, const char *exe, struct args *a)
{
	const Sbx__Limits *l = req->limits;

	add(a, "%s", n->path);
	add(a, "--mode=o");
	add(a, "--quiet");
	add(a, "--log_fd=3");
	/* A backstop only: the daemon kills at the exact wall limit. */
	add(a, "--time_limit=%" PRIu64, (l->wall_time_ms + 999) / 1000 + 2);
	add(a, "--rlimit_cpu=soft");
	add(a, "--rlimit_fsize=soft");
	add(a, "--rlimit_nofile=%u", l->nofile);
	add(a, "--rlimit_stack=soft");
	add(a, "--rlimit_as=inf");
	add(a, "--rlimit_core=0");
	add(a, "--rlimit_nproc=soft");
	add_cgroups(n, cg, l, a);
	add(a, "--user=1000:%d:1", OUTSIDE_ID);
	add(a, "--group=1000:%d:1", OUTSIDE_ID);
	add(a, "--hostname=sandbox");
	add(a, "--seccomp_string=%s", seccomp_policy);
	if (req->network)
		add(a, "--disable_clone_newnet");
	add_root(n, a);
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
	add(a, "%s", exe);
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

enum kill_why { KILL_NONE, KILL_WALL, KILL_CPU, KILL_OUTPUT };

struct io {
	struct sbx_buf out[2], log; /* stdout, stderr; nsjail's messages */
	bool truncated[2];
	uint64_t dropped;
	enum kill_why kill;
	bool oom;
};

struct job {
	pid_t pid;
	const struct nsjail *n;
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
	    ns >= j->req->limits->cpu_time_ms * 1000000ull)
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

/* Feed stdin, collect output until the pipes close, killing nsjail (its
 * sandbox dies with it: PR_SET_PDEATHSIG, then the PID namespace) at a
 * limit. After a kill, waits KILL_GRACE_MS at most for the pipes. */
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

/* In the forked child (async-signal-safe calls only): the limits nsjail
 * hands on as "soft" (build_args), then into the CPU-accounting cgroup. */
static void set_rlimits(const Sbx__Limits *l, bool polled, int procs_fd)
{
	/* With cgroups the daemon enforces the CPU limit (all processes, to
	 * the CPU_POLL_MS): the rlimit, per process and in whole seconds, is
	 * a backstop a second later, not to race it. */
	rlim_t secs = (l->cpu_time_ms + 999) / 1000 + (polled ? 1 : 0);
	struct rlimit cpu = {secs, secs};
	struct rlimit fsize = {l->fsize_kb * 1024, l->fsize_kb * 1024};
	struct rlimit stack = {l->stack_kb * 1024, l->stack_kb * 1024};
	struct rlimit nproc = {RLIM_INFINITY, RLIM_INFINITY};

	(void)setrlimit(RLIMIT_CPU, &cpu);
	(void)setrlimit(RLIMIT_FSIZE, &fsize);
	(void)setrlimit(RLIMIT_STACK, &stack);
	(void)setrlimit(RLIMIT_NPROC, &nproc);
	/* A failure leaves the CPU time unmeasured (0), nothing else. */
	if (procs_fd >= 0)
		(void)!write(procs_fd, "0", 1);
}

static void close_pipes(int (*fds)[2], int n)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			if (fds[i][k] >= 0)
				close(fds[i][k]);
}

/* Start nsjail with stdin, stdout, stderr and its log (fd 3) on pipes,
 * collect, reap. fds: [0] stdin, [1] stdout, [2] stderr, [3] log. */
static int spawn_and_wait(struct args *a, struct job *j, struct io *io, int *ret_status,
			  uint64_t *ret_wall)
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
		/* nsjail (and with it the sandbox) dies with the daemon; the
		 * forking thread waits for it, so it cannot end first. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
		set_rlimits(j->req->limits, j->n->cg.version != 0, j->cg->procs_fd);
		if (dup2(fds[0][0], 0) < 0 || dup2(fds[1][1], 1) < 0 || dup2(fds[2][1], 2) < 0 ||
		    dup2(fds[3][1], 3) < 0)
			_exit(127);
		execve(a->v[0], a->v, envp);
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

/* nsjail's own failure (it exits 255 then, having logged why): the first
 * error line of its log, or NULL when the program ran. */
static const char *nsjail_failure(const struct io *io, int code, char *buf, size_t len)
{
	const char *log = io->log.data ? io->log.data : "", *e, *sp;

	if (code != 255 || (!(e = strstr(log, "[E]")) && !(e = strstr(log, "[F]"))))
		return NULL;
	/* "[E][time][pid] func():line message": the message. */
	while (*e == '[' && strchr(e, ']'))
		e = strchr(e, ']') + 1;
	e += strspn(e, " ");
	sp = strchr(e, ' ');
	if (sp && memmem(e, (size_t)(sp - e), "():", 3))
		e = sp + 1;
	snprintf(buf, len, "%.*s", (int)strcspn(e, "\n"), e);
	return buf;
}

static void decide(const Sbx__SpawnRequest *req, int st, const struct io *io,
		   Sbx__ExecResult *res, char *err, size_t len)
{
	const Sbx__Limits *l = req->limits;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* nsjail exits 128+N when the program died of signal N. */
	int sig = code > 128 && code <= 128 + 64 ? code - 128 : 0;
	char why[256];
	const char *fail = nsjail_failure(io, code, why, sizeof(why));

	res->exit_code = code;
	res->signal = sig;
	if (fail && strstr(fail, "execve(")) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		res->exit_code = 127;
		res->signal = 0;
		sbx_sentence(err, len, "%s: cannot execute: %s", req->argv[0], fail);
	} else if (fail) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		sbx_sentence(err, len, "nsjail failed: %s", fail);
	} else if (io->kill == KILL_CPU || sig == SIGXCPU ||
		   (sig == SIGKILL && res->cpu_time_ms >= l->cpu_time_ms)) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT;
		snprintf(err, len, "CPU time limit exceeded (%" PRIu64 " ms)", l->cpu_time_ms);
	} else if (io->kill == KILL_WALL || (sig == SIGKILL && res->wall_time_ms >= l->wall_time_ms)) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
		snprintf(err, len, "wall time limit exceeded (%" PRIu64 " ms)", l->wall_time_ms);
	} else if (io->oom && sig == SIGKILL) {
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

/* argv[0] as nsjail must execve() it: a bare name resolved on the
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

/* Prepare, run nsjail, decide. The cgroups are the run's own and go
 * with it. */
static int run_jail(struct nsjail *n, const Sbx__SpawnRequest *req, const char *ws,
		    struct io *io, Sbx__ExecResult *res, char *err, size_t len)
{
	struct sbx_nsjail_cg_run cg;
	struct args *a = NULL;
	struct job j = {.n = n, .cg = &cg, .req = req};
	char exe[PATH_MAX];
	int r, st = 0;

	if (!resolve(req, exe, sizeof(exe))) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		res->exit_code = 127;
		sbx_sentence(err, len, "%s: command not found", req->argv[0]);
		return 0;
	}
	r = sbx_nsjail_cg_make(&n->cg, req->limits, &cg);
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (a)
		build_args(n, req, ws, &cg, exe, a);
	if (!a || a->oom)
		r = -ENOMEM;
	else
		r = spawn_and_wait(a, &j, io, &st, &res->wall_time_ms);
	if (r == 0) {
		sbx_nsjail_cg_collect(&n->cg, &cg, res, &io->oom);
		decide(req, st, io, res, err, len);
	}
	sbx_nsjail_cg_remove(&n->cg, &cg);
	for (size_t i = 0; a && i < a->n; i++)
		free(a->v[i]);
	free(a);
	return r;
}

int sbx_nsjail_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret)
{
	struct nsjail *n = state;
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
		r = run_jail(n, req, ws, &io, res, err, sizeof(err));
done:
	if (r < 0 && r != -EINVAL) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		snprintf(err, sizeof(err), "nsjail could not run: %s", strerror(-r));
	}
	if (fresh)
		nftw(ws, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	sbx_buf_fini(&io.log);
	if (fill_result(res, req, &io, err) < 0) {
		sbx__exec_result__free_unpacked(res, NULL);
		return -ENOMEM;
	}
	*ret = res;
	return r == -EINVAL ? -EINVAL : 0;
}
