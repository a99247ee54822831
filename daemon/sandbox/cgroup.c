/* Control groups: memory, processes and CPU accounting of one execution,
 * cgroup v1 here and v2 in cgroup2.c behind the same module hooks.
 *
 * Every execution gets its own, fresh cgroup (one per v1 controller)
 * under <own cgroup>/sandboxd/<spawner pid>/; it is never reused, so no
 * counter (peak, OOM kills, CPU usage) or charged page of one run shows up
 * in the next. mkdir is taken off the critical path by a small pool made
 * while the spawner is idle; rmdir is deferred the same way. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cgroup.h"
#include "cleanup.h"
#include "fdio.h"
#include "module.h"
#include "spawner_state.h"

static const char *const v1_names[SBX_V1_N] = {"memory", "pids", "cpuacct"};

int sbx_cg_write(int dfd, const char *file, const char *val)
{
	_cleanup_close_ int fd = openat(dfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = strlen(val);
	return write(fd, val, n) == (ssize_t)n ? 0 : -errno;
}

int sbx_cg_read(int dfd, const char *file, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

int sbx_cg_read_u64(int dfd, const char *file, uint64_t *ret)
{
	char buf[64];
	int r = sbx_cg_read(dfd, file, buf, sizeof(buf));
	if (r < 0)
		return r;
	*ret = strtoull(buf, NULL, 10);
	return 0;
}

int sbx_cg_rmdir(int parent_dfd, const char *name)
{
	for (int i = 0; i < 100; i++) {
		if (unlinkat(parent_dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		usleep(1000);
	}
	return -EBUSY;
}

static bool is_fs(const char *path, long magic)
{
	struct statfs s;
	return statfs(path, &s) == 0 && (long)s.f_type == magic;
}

static const char *v2_mount(void)
{
	if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
		return "/sys/fs/cgroup";
	if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
		return "/sys/fs/cgroup/unified";
	return NULL;
}

/* v1's memory hierarchy, mounted where we may write (a container, e.g.
 * systemd-nspawn on a hybrid host, sees it read-only and must use v2). */
static bool v1_usable(void)
{
	char own[PATH_MAX / 2], dir[PATH_MAX];
	if (!is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC) ||
	    access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) < 0)
		return false;
	if (sbx_engine_own_cgroup("memory", own, sizeof(own)) < 0)
		return false;
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory%s", own);
	return access(dir, W_OK) == 0 || access("/sys/fs/cgroup/memory", W_OK) == 0;
}

enum sbx_cgroup_mode sbx_cgroup_detect(enum sbx_cgroup_pref pref)
{
	switch (pref) {
	case SBX_CGROUP_V1:
		return v1_usable() ? SBX_CG_V1 : SBX_CG_NONE;
	case SBX_CGROUP_V2:
		return v2_mount() ? SBX_CG_V2 : SBX_CG_NONE;
	case SBX_CGROUP_NONE:
		return SBX_CG_NONE;
	default:
		/* Where a v1 memory hierarchy is mounted, the memory controller
		 * cannot also be on v2: v1 is the one that can enforce limits. */
		if (v1_usable())
			return SBX_CG_V1;
		return v2_mount() ? SBX_CG_V2 : SBX_CG_NONE;
	}
}

const char *sbx_cgroup_mode_name(enum sbx_cgroup_mode m)
{
	return m == SBX_CG_V2 ? "v2" : m == SBX_CG_V1 ? "v1" : "none";
}

/* See engine.h. */
int sbx_engine_own_cgroup(const char *ctrl, char *buf, size_t size)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	int r = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = 0;
		*c2 = 0;
		char *ctrls = c1 + 1, *path = c2 + 1;
		path[strcspn(path, "\n")] = 0;
		bool match = false;
		if (!ctrl)
			match = strcmp(line, "0") == 0 && ctrls[0] == 0;
		else
			for (char *t = strtok(ctrls, ","); t && !match; t = strtok(NULL, ","))
				match = strcmp(t, ctrl) == 0;
		if (match) {
			/* A process moved into the supervisor leaf (below) still
			 * calls the cgroup it left its own. */
			size_t n = strlen(path), l = strlen("/" SBX_CG_SUPERVISOR);
			if (!ctrl && n >= l && strcmp(path + n - l, "/" SBX_CG_SUPERVISOR) == 0)
				path[n - l] = 0;
			snprintf(buf, size, "%s", strcmp(path, "/") == 0 ? "" : path);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

static bool pid_listed(pid_t pid, const pid_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

int sbx_engine_cgroup2_vacate(const char *dir, const pid_t *pids, size_t n_pids)
{
	char p[PATH_MAX], buf[4096];
	int r = 0;

	/* Only the hierarchy's real root lacks cgroup.type; a cgroup
	 * namespace's root (a container's) has it and obeys the rule. */
	if ((size_t)snprintf(p, sizeof(p), "%s/cgroup.type", dir) >= sizeof(p))
		return -ENAMETOOLONG;
	if (access(p, F_OK) < 0)
		return 0;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if ((r = sbx_cg_read(dfd, "cgroup.procs", buf, sizeof(buf))) < 0)
		return r;
	for (char *line = buf, *next; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = 0;
		if (!pid_listed((pid_t)atoi(line), pids, n_pids)) {
			r = -EBUSY; /* not ours to move: the controllers stay off */
			continue;
		}
		if (mkdirat(dfd, SBX_CG_SUPERVISOR, 0755) < 0 && errno != EEXIST)
			return -errno;
		int w = sbx_cg_write(dfd, SBX_CG_SUPERVISOR "/cgroup.procs", line);
		if (w < 0 && w != -ESRCH)
			r = w;
	}
	return r;
}

/* SIGKILL every process in the cgroup dfd/name: a dead spawner's
 * sandboxes die with it (their inits have PDEATHSIG), but under load some
 * are still exiting when the next spawner comes to remove their cgroups,
 * and nothing of theirs may outlive it anyway. */
static void kill_procs(int dfd, const char *name)
{
	char file[NAME_MAX + 16], buf[4096];
	snprintf(file, sizeof(file), "%s/cgroup.procs", name);
	if (sbx_cg_read(dfd, file, buf, sizeof(buf)) < 0)
		return;
	for (char *p = buf; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
		if (atoi(p) > 0)
			kill((pid_t)atoi(p), SIGKILL);
}

/* Is the spawner that made sandboxd/<pid> gone? Dead, a zombie nobody
 * reaped yet (its daemon killed, it went with PDEATHSIG a moment ago), or
 * the pid now another program's. */
static bool spawner_gone(pid_t pid)
{
	char p[64], buf[128];
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return fd < 0 && errno == ENOENT;
	buf[n] = 0;
	/* "pid (comm) S ...": comm may hold anything, so from the last ')'. */
	const char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren[1] != ' ')
		return false;
	char state = close_paren[2];
	bool ours = close_paren - open_paren - 1 == (ptrdiff_t)strlen("sbx-spawner") &&
		    strncmp(open_paren + 1, "sbx-spawner", strlen("sbx-spawner")) == 0;
	return state == 'Z' || state == 'X' || !ours;
}

/* Remove what a spawner that died without cleaning up left behind. */
static void remove_stale(const char *base)
{
	_cleanup_close_ int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = bfd < 0 ? NULL : fdopendir(dup(bfd));
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid == getpid() || !spawner_gone(pid))
			continue;
		int sfd = openat(bfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *sd = sfd < 0 ? NULL : fdopendir(sfd);
		for (struct dirent *se; sd && (se = readdir(sd));)
			if (se->d_name[0] == 'x') {
				kill_procs(dirfd(sd), se->d_name);
				sbx_cg_rmdir(dirfd(sd), se->d_name);
			}
		if (sd)
			closedir(sd);
		sbx_cg_rmdir(bfd, de->d_name);
	}
	closedir(d);
}

/* <mount><own>/sandboxd/<pid>: created, opened into *ret_fd. */
int sbx_cgroup_make_parent(const char *mount, const char *ctrl, char *path, size_t size,
			   int *ret_fd)
{
	char own[PATH_MAX / 2], base[PATH_MAX];
	int r = sbx_engine_own_cgroup(ctrl, own, sizeof(own));
	if (r < 0)
		return r;
	if ((size_t)snprintf(base, sizeof(base), "%.64s%s/sandboxd", mount, own) >= sizeof(base) ||
	    (size_t)snprintf(path, size, "%s/%d", base, (int)getpid()) >= size)
		return -ENAMETOOLONG;
	if ((r = sbx_mkdir_p(path, 0755)) < 0)
		return r;
	remove_stale(base);
	*ret_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return *ret_fd < 0 ? -errno : 0;
}

static int v1_init(struct sbx_ctx *ctx)
{
	for (int c = 0; c < SBX_V1_N; c++) {
		char mount[64];
		snprintf(mount, sizeof(mount), "/sys/fs/cgroup/%s", v1_names[c]);
		if (!is_fs(mount, CGROUP_SUPER_MAGIC)) {
			if (c == SBX_V1_MEMORY)
				return -ENOENT;
			continue;
		}
		int r = sbx_cgroup_make_parent(mount, v1_names[c], ctx->cg_parent_path[c],
					       sizeof(ctx->cg_parent_path[c]), &ctx->cg_parent[c]);
		if (r < 0 && c == SBX_V1_MEMORY)
			return r;
	}
	ctx->cg_has_memsw = faccessat(ctx->cg_parent[SBX_V1_MEMORY],
				      "memory.memsw.limit_in_bytes", F_OK, 0) == 0;
	return 0;
}

static void slot_reset(struct sbx_cgroup_slot *s)
{
	for (int c = 0; c < SBX_V1_N; c++)
		s->dfd[c] = -1;
}

static void slot_destroy(struct sbx_ctx *ctx, struct sbx_cgroup_slot *s)
{
	char name[32];
	snprintf(name, sizeof(name), "x%u", s->id);
	for (int c = 0; c < SBX_V1_N; c++) {
		if (s->dfd[c] < 0)
			continue;
		close(s->dfd[c]);
		sbx_cg_rmdir(ctx->cg_parent[c], name);
	}
	slot_reset(s);
}

void sbx_cgroup_release(struct sbx_ctx *ctx, struct sbx_cgroup_slot *slot)
{
	if (ctx->cg_mode != SBX_CG_NONE)
		slot_destroy(ctx, slot);
}

static int slot_create(struct sbx_ctx *ctx, struct sbx_cgroup_slot *s)
{
	char name[32];
	slot_reset(s);
	s->id = ctx->cg_next_id++;
	snprintf(name, sizeof(name), "x%u", s->id);
	for (int c = 0; c < SBX_V1_N; c++) {
		if (ctx->cg_parent[c] < 0)
			continue;
		int fd = -1;
		if (mkdirat(ctx->cg_parent[c], name, 0755) == 0)
			fd = openat(ctx->cg_parent[c], name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			int r = -errno;
			slot_destroy(ctx, s);
			return r;
		}
		s->dfd[c] = fd;
	}
	return 0;
}

/* Called by the spawner when idle: top the pool up, or finish one
 * deferred removal. Returns true if it did some work. */
bool sbx_cgroup_refill(struct sbx_ctx *ctx)
{
	if (ctx->cg_mode == SBX_CG_NONE || ctx->cfg.no_cgroup_pool)
		return false;
	if (ctx->cg_pool_len >= ctx->cfg.cgroup_pool)
		return false;
	if (slot_create(ctx, &ctx->cg_pool[ctx->cg_pool_len]) < 0)
		return false;
	ctx->cg_pool_len++;
	return true;
}

static int cgroup_init(struct sbx_ctx *ctx)
{
	for (int c = 0; c < SBX_V1_N; c++)
		ctx->cg_parent[c] = -1;
	if (ctx->cg_mode == SBX_CG_NONE)
		return 0;
	int r = ctx->cg_mode == SBX_CG_V1 ? v1_init(ctx) : sbx_cgroup2_init(ctx);
	if (r < 0)
		return r;
	if (!ctx->cfg.no_cgroup_pool) {
		ctx->cg_pool = calloc(ctx->cfg.cgroup_pool, sizeof(*ctx->cg_pool));
		if (!ctx->cg_pool)
			return -ENOMEM;
	}
	return 0;
}

static void cgroup_fini(struct sbx_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->cg_pool_len; i++)
		slot_destroy(ctx, &ctx->cg_pool[i]);
	free(ctx->cg_pool);
	for (int c = 0; c < SBX_V1_N; c++) {
		if (ctx->cg_parent[c] < 0)
			continue;
		close(ctx->cg_parent[c]);
		rmdir(ctx->cg_parent_path[c]);
		/* The shared "sandboxd" dir goes too once no engine uses it. */
		char *slash = strrchr(ctx->cg_parent_path[c], '/');
		*slash = 0;
		rmdir(ctx->cg_parent_path[c]);
	}
}

static int v1_setup(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	const Sbx__Limits *l = ex->req->limits;
	char v[32];
	int r;
	snprintf(v, sizeof(v), "%" PRIu64, l->memory_kb * 1024);
	int m = ex->cg.dfd[SBX_V1_MEMORY];
	/* memory+swap = memory: the sandbox may not swap its way past. The
	 * kernel keeps memory <= memory+swap at every step: raising limits
	 * already set (a warm python sandbox's) takes memsw first. */
	r = sbx_cg_write(m, "memory.limit_in_bytes", v);
	if (r == -EINVAL && ctx->cg_has_memsw &&
	    (r = sbx_cg_write(m, "memory.memsw.limit_in_bytes", v)) == 0)
		r = sbx_cg_write(m, "memory.limit_in_bytes", v);
	if (r < 0)
		return r;
	if (ctx->cg_has_memsw && (r = sbx_cg_write(m, "memory.memsw.limit_in_bytes", v)) < 0)
		return r;
	if (ex->cg.dfd[SBX_V1_PIDS] >= 0) {
		/* +1: the engine's init is in the cgroup too. */
		snprintf(v, sizeof(v), "%u", l->pids + 1);
		if ((r = sbx_cg_write(ex->cg.dfd[SBX_V1_PIDS], "pids.max", v)) < 0)
			return r;
	}
	return 0;
}

int sbx_cgroup_limits(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (ctx->cg_mode == SBX_CG_NONE || ex->cg.dfd[0] < 0)
		return 0;
	if (ctx->cg_mode == SBX_CG_V2)
		return sbx_cgroup2_setup(ctx, ex);
	return v1_setup(ctx, ex);
}

static int cgroup_prepare(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	slot_reset(&ex->cg);
	if (ctx->cg_mode == SBX_CG_NONE)
		return 0;
	int r;
	if (ctx->cg_pool_len > 0)
		ex->cg = ctx->cg_pool[--ctx->cg_pool_len];
	else if ((r = slot_create(ctx, &ex->cg)) < 0)
		return r;
	/* A pre-built sandbox has no request yet: its limits are written
	 * when an execution takes it, before it is told what to run. One
	 * that runs something before (warm python) has its template's. */
	if (ex->warm && !ex->req->limits)
		return 0;
	return sbx_cgroup_limits(ctx, ex);
}

/* v1: the child moves itself. Writing "0" to a v1 "tasks" file moves the
 * calling thread without taking the global cgroup_threadgroup_rwsem for
 * writing; the spawner writing the child's pid to cgroup.procs would take
 * it, which waits for an RCU grace period (milliseconds) and stalls every
 * fork() on the host meanwhile. The child is single-threaded, so moving
 * the thread moves the process; it is still only running engine code.
 * (v2 needs none of this: the child is born in place, CLONE_INTO_CGROUP.) */
static int cgroup_child(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	if (ctx->cg_mode == SBX_CG_V1) {
		for (int c = 0; c < SBX_V1_N; c++) {
			char p[PATH_MAX];
			if (ex->cg.dfd[c] < 0)
				continue;
			snprintf(p, sizeof(p), "%s/x%u/tasks", ctx->cg_parent_path[c], ex->cg.id);
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd < 0)
				return -errno;
			ssize_t n = write(fd, "0", 1);
			int r = n == 1 ? 0 : -errno;
			close(fd);
			if (r < 0)
				return r;
		}
	}
	/* Now that we are placed, our cgroup becomes the root of what the
	 * sandbox could see of the hierarchy. */
	return unshare(CLONE_NEWCGROUP) < 0 ? -errno : 0;
}

int sbx_cgroup_cpu_ns(const struct sbx_ctx *ctx, const struct sbx_exec *ex, uint64_t *ret_ns)
{
	if (ctx->cg_mode == SBX_CG_V2)
		return sbx_cgroup2_cpu_ns(ex->cg.dfd[0], ret_ns);
	if (ctx->cg_mode == SBX_CG_V1 && ex->cg.dfd[SBX_V1_CPUACCT] >= 0)
		return sbx_cg_read_u64(ex->cg.dfd[SBX_V1_CPUACCT], "cpuacct.usage", ret_ns);
	return -ENOENT;
}

/* "key value" lines: the value of `key`, 0 if absent. */
uint64_t sbx_cg_keyed(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

static void v1_collect(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res)
{
	uint64_t v;
	char buf[512];
	int m = ex->cg.dfd[SBX_V1_MEMORY];
	if (sbx_cg_read_u64(m, "memory.max_usage_in_bytes", &v) == 0) {
		res->memory_peak_kb = v / 1024;
		ex->have_peak = true;
	}
	if (sbx_cg_read(m, "memory.oom_control", buf, sizeof(buf)) == 0)
		ex->oom = sbx_cg_keyed(buf, "oom_kill") > 0;
	if (sbx_cgroup_cpu_ns(ctx, ex, &v) == 0) {
		ex->cpu_used_ns = v;
		ex->have_cpu = true;
	}
}

void sbx_cgroup_collect(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res)
{
	if (ctx->cg_mode == SBX_CG_V1 && ex->cg.dfd[0] >= 0)
		v1_collect(ctx, ex, res);
	else if (ctx->cg_mode == SBX_CG_V2 && ex->cg.dfd[0] >= 0)
		sbx_cgroup2_collect(ctx, ex, res);
}

bool sbx_cgroup_alone(const struct sbx_ctx *ctx, const struct sbx_exec *ex)
{
	uint64_t n;
	int dfd = ctx->cg_mode == SBX_CG_V1 ? ex->cg.dfd[SBX_V1_PIDS]
		  : ctx->cg_mode == SBX_CG_V2 && ctx->cg_v2_pids ? ex->cg.dfd[0]
								 : -1;
	return dfd >= 0 && sbx_cg_read_u64(dfd, "pids.current", &n) == 0 && n <= 1;
}

static void cgroup_teardown(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res)
{
	if (ctx->cg_mode == SBX_CG_NONE || ex->cg.dfd[0] < 0)
		return;
	if (res)
		sbx_cgroup_collect(ctx, ex, res);
	slot_destroy(ctx, &ex->cg);
}

const struct sbx_module sbx_cgroup_module = {
	.name = "cgroup",
	.init = cgroup_init,
	.fini = cgroup_fini,
	.prepare = cgroup_prepare,
	.child = cgroup_child,
	.teardown = cgroup_teardown,
};
