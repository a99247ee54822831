#include "nsjail_cg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgdir.h"
#include "engine.h"
#include "fdio.h"
#include "log.h"

#define PREFIX "sandboxd-nsjail."
/* A cgroup whose last task just died may stay busy for a moment. */
#define RMDIR_TRIES 50
#define RMDIR_PAUSE_NS 10000000L

static const char *const v1_names[SBX_NJ_N] = {"memory", "pids", "cpuacct"};

static int cg_write(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX + 64];
	int fd, r = 0;
	size_t n = strlen(val);

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, n) != (ssize_t)n)
		r = -errno;
	close(fd);
	return r;
}

static int cg_read(const char *dir, const char *file, char *buf, size_t size)
{
	char p[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* The number after `key ` in "key value" lines (or the file's first
 * number when key is NULL); 0 when absent. */
static uint64_t cg_u64(const char *dir, const char *file, const char *key)
{
	char buf[4096];
	const char *p = buf;
	size_t kl = key ? strlen(key) : 0;

	if (cg_read(dir, file, buf, sizeof(buf)) < 0)
		return 0;
	if (key)
		for (p = buf; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
				break;
	return p ? strtoull(key ? p + kl + 1 : p, NULL, 10) : 0;
}

/* Kill every task in the cgroup tree at `path`, then remove it leaves
 * first. Bounded: depth by the kernel's path length, time by RMDIR_TRIES. */
static void rm_tree(const char *path, int depth)
{
	char buf[65536], sub[PATH_MAX];
	DIR *d = depth < 8 ? opendir(path) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.' &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < sizeof(sub))
			rm_tree(sub, depth + 1);
	if (d)
		closedir(d);
	for (int i = 0; i < RMDIR_TRIES; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return;
		if (cg_read(path, "cgroup.procs", buf, sizeof(buf)) == 0)
			for (char *p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
				kill((pid_t)atoi(p), SIGKILL);
		nanosleep(&(struct timespec){0, RMDIR_PAUSE_NS}, NULL);
	}
	log_warn("nsjail backend: could not remove cgroup %s: %s", path, strerror(errno));
}

/* Remove the directories of daemons that are gone. */
static void remove_stale(const char *dir)
{
	sbx_cgdir_remove_stale(dir, PREFIX, rm_tree, 0);
}

/* <mount><own cgroup>/sandboxd-nsjail.<pid> into ret (PATH_MAX). */
static int make_base(const char *mount, const char *ctrl, char *ret)
{
	char own[PATH_MAX / 2], dir[PATH_MAX];
	int r = sbx_engine_own_cgroup(ctrl, own, sizeof(own));

	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%.64s%s", mount, own);
	remove_stale(dir);
	if ((size_t)snprintf(ret, PATH_MAX, "%s/" PREFIX "%d", dir, (int)getpid()) >= PATH_MAX)
		return -ENAMETOOLONG;
	return sbx_mkdir_p(ret, 0755);
}

/* v2: memory and pids on for dir's children (cpu too when it can be: its
 * cpu.stat, which we read, exists without it). */
static int v2_enable(const char *dir)
{
	int r = cg_write(dir, "cgroup.subtree_control", "+memory +pids");

	if (r == 0)
		(void)cg_write(dir, "cgroup.subtree_control", "+cpu");
	return r;
}

/* v2: the controllers on for our directory's children, the daemon's own
 * cgroup first emptied of the daemon (sbx_engine_cgroup2_vacate: the "no
 * internal processes" rule). */
static int v2_delegate(char *base)
{
	char *slash = strrchr(base, '/');
	const pid_t self = getpid();
	int r;

	*slash = 0;
	r = sbx_engine_cgroup2_vacate(base, &self, 1);
	if (r == 0 || r == -EBUSY)
		r = v2_enable(base);
	*slash = '/';
	return r < 0 ? r : v2_enable(base);
}

int sbx_nsjail_cg_open(struct sbx_nsjail_cg *cg)
{
	char buf[512] = "";
	struct stat st;
	int r;

	memset(cg, 0, sizeof(*cg));
	if (stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0) {
		for (int c = 0; c < SBX_NJ_N; c++) {
			char mount[64];

			snprintf(mount, sizeof(mount), "/sys/fs/cgroup/%s", v1_names[c]);
			r = make_base(mount, v1_names[c], cg->base[c]);
			if (r < 0) {
				log_error("nsjail backend: cannot create its %s cgroup under %s: %s",
					  v1_names[c], mount, strerror(-r));
				sbx_nsjail_cg_close(cg);
				return r;
			}
		}
		cg->memsw = stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", &st) == 0;
		cg->version = 1;
		return 0;
	}
	if (cg_read("/sys/fs/cgroup", "cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !strstr(buf, "memory") || !strstr(buf, "pids")) {
		log_warn("nsjail backend: no memory and pids cgroup controllers; memory and "
			 "process limits are not enforced");
		return 0;
	}
	r = make_base("/sys/fs/cgroup", NULL, cg->base[0]);
	if (r == 0)
		r = v2_delegate(cg->base[0]);
	if (r < 0) {
		log_error("nsjail backend: cannot delegate a cgroup v2 subtree at %s: %s",
			  cg->base[0], strerror(-r));
		sbx_nsjail_cg_close(cg);
		return r;
	}
	cg->version = 2;
	return 0;
}

void sbx_nsjail_cg_close(struct sbx_nsjail_cg *cg)
{
	for (int c = 0; c < SBX_NJ_N; c++)
		if (cg->base[c][0])
			rm_tree(cg->base[c], 0);
	memset(cg->base, 0, sizeof(cg->base));
}

static int write_limits(const struct sbx_nsjail_cg *cg, const Sbx__Limits *l,
			const struct sbx_nsjail_cg_run *run)
{
	char mem[32], pids[32];
	int r;

	snprintf(mem, sizeof(mem), "%" PRIu64, l->memory_kb * 1024);
	snprintf(pids, sizeof(pids), "%u", l->pids);
	if (cg->version == 2) {
		r = v2_enable(run->path[0]);
		if (r == 0)
			r = cg_write(run->path[0], "memory.max", mem);
		if (r == 0)
			r = cg_write(run->path[0], "pids.max", pids);
		/* No swap: a limit that swapping cannot stretch (as native). */
		(void)cg_write(run->path[0], "memory.swap.max", "0");
		return r;
	}
	r = cg_write(run->path[SBX_NJ_MEM], "memory.limit_in_bytes", mem);
	if (r == 0 && cg->memsw)
		r = cg_write(run->path[SBX_NJ_MEM], "memory.memsw.limit_in_bytes", mem);
	if (r == 0)
		r = cg_write(run->path[SBX_NJ_PIDS], "pids.max", pids);
	return r;
}

/* v1: an eventfd the kernel signals when our memory cgroup runs out
 * (cgroup.event_control on memory.oom_control), read without blocking. */
static int oom_watch(struct sbx_nsjail_cg_run *run)
{
	char p[PATH_MAX + 32], line[32];
	int ctl, r = 0;

	run->oom_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(p, sizeof(p), "%s/memory.oom_control", run->path[SBX_NJ_MEM]);
	ctl = open(p, O_RDONLY | O_CLOEXEC);
	if (run->oom_fd < 0 || ctl < 0)
		r = -errno;
	if (r == 0) {
		snprintf(line, sizeof(line), "%d %d", run->oom_fd, ctl);
		r = cg_write(run->path[SBX_NJ_MEM], "cgroup.event_control", line);
	}
	if (ctl >= 0)
		close(ctl);
	return r;
}

int sbx_nsjail_cg_make(struct sbx_nsjail_cg *cg, const Sbx__Limits *l,
		       struct sbx_nsjail_cg_run *run)
{
	unsigned n = __atomic_fetch_add(&cg->seq, 1, __ATOMIC_RELAXED);
	int r = 0;

	memset(run, 0, sizeof(*run));
	run->procs_fd = run->oom_fd = -1;
	if (!cg->version)
		return 0;
	for (int c = 0; c < SBX_NJ_N && r == 0; c++) {
		size_t mlen;

		if (!cg->base[c][0])
			continue;
		snprintf(run->path[c], PATH_MAX, "%.*s/e%u", PATH_MAX - 16, cg->base[c], n);
		if (mkdir(run->path[c], 0755) < 0) {
			r = -errno;
			run->path[c][0] = 0;
			break;
		}
		mlen = strlen("/sys/fs/cgroup/") + (cg->version == 1 ? strlen(v1_names[c]) : 0);
		snprintf(run->rel[c], PATH_MAX, "%s", run->path[c] + mlen);
	}
	if (r == 0)
		r = write_limits(cg, l, run);
	if (r == 0 && cg->version == 1)
		r = oom_watch(run);
	if (r == 0 && cg->version == 1) {
		char p[PATH_MAX + 16];

		snprintf(p, sizeof(p), "%s/cgroup.procs", run->path[SBX_NJ_CPUACCT]);
		run->procs_fd = open(p, O_WRONLY | O_CLOEXEC);
		if (run->procs_fd < 0)
			r = -errno;
	}
	if (r < 0)
		sbx_nsjail_cg_remove(cg, run);
	return r;
}

int sbx_nsjail_cg_cpu_ns(const struct sbx_nsjail_cg *cg, const struct sbx_nsjail_cg_run *run,
			 uint64_t *ret)
{
	char buf[32];

	if (cg->version == 1 && cg_read(run->path[SBX_NJ_CPUACCT], "cpuacct.usage", buf,
					sizeof(buf)) == 0) {
		*ret = strtoull(buf, NULL, 10);
		return 0;
	}
	if (cg->version == 2 && cg_read(run->path[0], "cpu.stat", buf, 2) == 0) {
		*ret = cg_u64(run->path[0], "cpu.stat", "usage_usec") * 1000;
		return 0;
	}
	return -ENOENT;
}

void sbx_nsjail_cg_collect(const struct sbx_nsjail_cg *cg, const struct sbx_nsjail_cg_run *run,
			   Sbx__ExecResult *res, bool *ret_oom)
{
	uint64_t ns = 0, n = 0;

	*ret_oom = false;
	if (sbx_nsjail_cg_cpu_ns(cg, run, &ns) == 0)
		res->cpu_time_ms = ns / 1000000;
	if (cg->version == 1) {
		res->memory_peak_kb =
			cg_u64(run->path[SBX_NJ_MEM], "memory.max_usage_in_bytes", NULL) / 1024;
		/* v1 counts an OOM kill in the victim's cgroup (nsjail's
		 * NSJAIL.<pid>, gone by now), not in ours; its OOM
		 * notification is ours, though. */
		*ret_oom = run->oom_fd >= 0 && read(run->oom_fd, &n, sizeof(n)) == sizeof(n) && n;
	} else if (cg->version == 2) {
		res->memory_peak_kb = cg_u64(run->path[0], "memory.peak", NULL) / 1024;
		*ret_oom = cg_u64(run->path[0], "memory.events", "oom_kill") > 0;
	}
}

void sbx_nsjail_cg_kill(const struct sbx_nsjail_cg *cg, const struct sbx_nsjail_cg_run *run)
{
	char buf[65536];

	(void)cg;
	for (int c = 0; c < SBX_NJ_N; c++)
		if (run->path[c][0] && cg_read(run->path[c], "cgroup.procs", buf, sizeof(buf)) == 0)
			for (char *p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
				if (atoi(p) > 0)
					kill((pid_t)atoi(p), SIGKILL);
}

void sbx_nsjail_cg_remove(const struct sbx_nsjail_cg *cg, struct sbx_nsjail_cg_run *run)
{
	(void)cg;
	if (run->procs_fd >= 0)
		close(run->procs_fd);
	if (run->oom_fd >= 0)
		close(run->oom_fd);
	run->procs_fd = run->oom_fd = -1;
	for (int c = 0; c < SBX_NJ_N; c++)
		if (run->path[c][0])
			rm_tree(run->path[c], 0);
}
