#include "nsjail.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon_config.h"
#include "log.h"
#include "nsjail_cg.h"
#include "runner.h"
#include "sentence.h"

/* The sandbox user: 1000 inside, this uid/gid outside (as native). */
#define OUTSIDE_ID 100000
#define MAX_ARGS 4096 + 512

struct nsjail {
	/* First (runner.h); fresh workspaces live in rn.work. */
	struct sbx_runner rn;
	char path[PATH_MAX];
};

int sbx_nsjail_open(const struct sbx_config *cfg, void **ret_state)
{
	const char *path = getenv("PATH");
	struct nsjail *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	if (!sbx_runner_find_exec(cfg->nsjail_path, path ? path : "/usr/local/bin:/usr/bin:/bin",
				  n->path, sizeof(n->path))) {
		if (strchr(cfg->nsjail_path, '/'))
			log_error("nsjail backend unavailable: %s is not an executable file",
				  cfg->nsjail_path);
		else
			log_error("nsjail backend unavailable: %s not found on PATH",
				  cfg->nsjail_path);
		free(n);
		return -ENOENT;
	}
	n->rn.name = "nsjail";
	n->rn.owner = OUTSIDE_ID;
	snprintf(n->rn.work, sizeof(n->rn.work), "%s/nsjail", cfg->state_dir);
	r = mkdir(n->rn.work, 0711) < 0 && errno != EEXIST ? -errno
							   : sbx_runner_write_ids(&n->rn);
	if (r == 0)
		r = sbx_runner_open_cg(&n->rn, "nsjail", n->path);
	if (r < 0) {
		free(n);
		return r;
	}
	*ret_state = n;
	return 0;
}

void sbx_nsjail_close(void *state)
{
	sbx_runner_close(state, false);
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
	add(a, "--bindmount_ro=%s:/etc/passwd", n->rn.passwd);
	add(a, "--bindmount_ro=%s:/etc/group", n->rn.group);
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
	if (!n->rn.cg.version)
		return;
	add(a, "--cgroup_mem_max=%" PRIu64, l->memory_kb * 2048);
	add(a, "--cgroup_pids_max=%u", l->pids);
	if (n->rn.cg.version == 2) {
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

/* In the forked child (async-signal-safe calls only): the limits nsjail
 * hands on as "soft" (build_args), then into the CPU-accounting cgroup. */
static void set_rlimits(const struct sbx_runner_job *j)
{
	const Sbx__Limits *l = j->req->limits;
	/* With cgroups the daemon enforces the CPU limit (all processes, to
	 * the runner's poll): the rlimit, per process and in whole seconds,
	 * is a backstop a second later, not to race it. */
	rlim_t secs = (l->cpu_time_ms + 999) / 1000 + (j->rn->cg.version != 0 ? 1 : 0);
	struct rlimit cpu = {secs, secs};
	struct rlimit fsize = {l->fsize_kb * 1024, l->fsize_kb * 1024};
	struct rlimit stack = {l->stack_kb * 1024, l->stack_kb * 1024};
	struct rlimit nproc = {RLIM_INFINITY, RLIM_INFINITY};

	(void)setrlimit(RLIMIT_CPU, &cpu);
	(void)setrlimit(RLIMIT_FSIZE, &fsize);
	(void)setrlimit(RLIMIT_STACK, &stack);
	(void)setrlimit(RLIMIT_NPROC, &nproc);
	/* A failure leaves the CPU time unmeasured (0), nothing else. */
	if (j->cg->procs_fd >= 0)
		(void)!write(j->cg->procs_fd, "0", 1);
}

/* nsjail's own failure (it exits 255 then, having logged why): the first
 * error line of its log, or NULL when the program ran. */
static const char *nsjail_failure(const struct sbx_runner_io *io, int code, char *buf,
				  size_t len)
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
	return sbx_runner_log_line(e, buf, len);
}

/* nsjail's own failures first; a SIGKILL past a limit is that limit's
 * (nsjail's --time_limit backstop or the rlimit may have killed first). */
static void decide(const Sbx__SpawnRequest *req, int st, const struct sbx_runner_io *io,
		   Sbx__ExecResult *res, char *err, size_t len)
{
	const Sbx__Limits *l = req->limits;
	int code = sbx_runner_exit_code(st, res), sig = res->signal;
	char why[256];
	const char *fail = nsjail_failure(io, code, why, sizeof(why));

	if (fail && strstr(fail, "execve(")) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR;
		res->exit_code = 127;
		res->signal = 0;
		sbx_sentence(err, len, "%s: cannot execute: %s", req->argv[0], fail);
	} else if (fail) {
		res->status = SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR;
		sbx_sentence(err, len, "nsjail failed: %s", fail);
	} else if (io->kill == SBX_RUNNER_KILL_CPU || sig == SIGXCPU ||
		   (sig == SIGKILL && res->cpu_time_ms >= l->cpu_time_ms)) {
		sbx_runner_cpu_limit(l, res, err, len);
	} else if (io->kill == SBX_RUNNER_KILL_WALL ||
		   (sig == SIGKILL && res->wall_time_ms >= l->wall_time_ms)) {
		sbx_runner_wall_limit(l, res, err, len);
	} else if (io->oom && sig == SIGKILL) {
		sbx_runner_memory_limit(l, res, err, len);
	} else {
		sbx_runner_decide_exit(l, code, sig, io, res, err, len);
	}
}

/* Prepare, run nsjail, decide. The cgroups are the run's own and go
 * with it. */
static int run_jail(void *state, const Sbx__SpawnRequest *req, const char *ws,
		    struct sbx_runner_io *io, Sbx__ExecResult *res, char *err, size_t len)
{
	struct nsjail *n = state;
	struct sbx_nsjail_cg_run cg;
	struct args *a = NULL;
	struct sbx_runner_job j = {.rn = &n->rn, .cg = &cg, .req = req, .child = set_rlimits};
	char exe[PATH_MAX];
	int r, st = 0;

	if (!sbx_runner_resolve(req, exe, sizeof(exe))) {
		sbx_runner_not_found(req, res, err, len);
		return 0;
	}
	r = sbx_nsjail_cg_make(&n->rn.cg, req->limits, &cg);
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (a)
		build_args(n, req, ws, &cg, exe, a);
	if (!a || a->oom)
		r = -ENOMEM;
	else
		r = sbx_runner_spawn_wait(a->v, &j, io, &st, &res->wall_time_ms);
	if (r == 0) {
		sbx_nsjail_cg_collect(&n->rn.cg, &cg, res, &io->oom);
		decide(req, st, io, res, err, len);
	}
	sbx_nsjail_cg_remove(&n->rn.cg, &cg);
	for (size_t i = 0; a && i < a->n; i++)
		free(a->v[i]);
	free(a);
	return r;
}

int sbx_nsjail_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret)
{
	return sbx_runner_run(&((struct nsjail *)state)->rn, req, run_jail, state, ret);
}
