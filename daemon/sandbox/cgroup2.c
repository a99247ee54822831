/* cgroup v2 behind cgroup.c: one directory per execution under
 * <own cgroup>/sandboxd/<spawner pid>/, the child born into it with
 * CLONE_INTO_CGROUP (no window where it runs unaccounted).
 *
 * Controllers are enabled top-down from our own cgroup. A non-root cgroup
 * holding processes may not delegate controllers ("no internal
 * processes"), and under systemd (Delegate=yes) or in a container ours
 * holds the daemon and this spawner: the two move into a leaf first
 * (sbx_engine_cgroup2_vacate). Whatever is still missing is recorded and
 * that limit is not applied by the cgroup (RLIMIT_NPROC still caps
 * processes). cgroup.kill and cpu.stat exist without any
 * controller, so killing the tree and CPU accounting always work. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "engine.h"
#include "spawner_state.h"

static const char *v2_mount_path(void)
{
	static const char *const cands[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	for (size_t i = 0; i < 2; i++) {
		char p[64];
		snprintf(p, sizeof(p), "%s/cgroup.controllers", cands[i]);
		if (access(p, F_OK) == 0)
			return cands[i];
	}
	return NULL;
}

static void enable(const char *dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", dir);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* One write per controller: a write naming an unavailable one fails
	 * as a whole. */
	static const char *const ctl[] = {"+memory", "+pids", "+cpu"};
	for (size_t i = 0; i < 3; i++)
		if (write(fd, ctl[i], strlen(ctl[i])) < 0) {
			/* unavailable here: recorded by the caller */
		}
	close(fd);
}

int sbx_cgroup2_init(struct sbx_ctx *ctx)
{
	const char *mount = v2_mount_path();
	if (!mount)
		return -ENOENT;
	char *path = ctx->cg_parent_path[0];
	int r = sbx_cgroup_make_parent(mount, NULL, path, sizeof(ctx->cg_parent_path[0]),
				       &ctx->cg_parent[0]);
	if (r < 0)
		return r;
	/* own, own/sandboxd, own/sandboxd/<pid>: enable down the chain, own
	 * once this spawner and its daemon have left it for a leaf. */
	char *s1 = strrchr(path, '/'), *s2;
	*s1 = 0;
	s2 = strrchr(path, '/');
	*s2 = 0;
	const pid_t ours[] = {getpid(), getppid()};
	int vacated = sbx_engine_cgroup2_vacate(path, ours, 2);
	enable(path);
	*s2 = '/';
	enable(path);
	*s1 = '/';
	enable(path);
	char buf[256];
	if (sbx_cg_read(ctx->cg_parent[0], "cgroup.subtree_control", buf, sizeof(buf)) == 0) {
		ctx->cg_v2_memory = strstr(buf, "memory") != NULL;
		ctx->cg_v2_pids = strstr(buf, "pids") != NULL;
	}
	ctx->cg_v2_kill = faccessat(ctx->cg_parent[0], "cgroup.kill", F_OK, 0) == 0;
	if (!ctx->cg_v2_memory || !ctx->cg_v2_pids)
		fprintf(stderr,
			"sbx-spawner: cgroup v2: no %s controller for the sandboxes under %s%s "
			"(processes are still capped by RLIMIT_NPROC; memory by nothing)\n",
			!ctx->cg_v2_memory ? "memory" : "pids", path,
			vacated == -EBUSY ? " (processes that are not sandboxd's share its cgroup: "
					    "run it in one of its own, e.g. systemd's Delegate=yes)"
					  : "");
	return 0;
}

int sbx_cgroup2_setup(struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	const Sbx__Limits *l = ex->req->limits;
	int dfd = ex->cg.dfd[0];
	char v[32];
	int r;
	if (ctx->cg_v2_memory) {
		snprintf(v, sizeof(v), "%" PRIu64, l->memory_kb * 1024);
		if ((r = sbx_cg_write(dfd, "memory.max", v)) < 0)
			return r;
		/* No swap: memory.max must mean memory. */
		sbx_cg_write(dfd, "memory.swap.max", "0");
		/* An OOM kills the whole sandbox, not one random process. */
		sbx_cg_write(dfd, "memory.oom.group", "1");
	}
	if (ctx->cg_v2_pids) {
		snprintf(v, sizeof(v), "%u", l->pids + 1);
		if ((r = sbx_cg_write(dfd, "pids.max", v)) < 0)
			return r;
	}
	return 0;
}

int sbx_cgroup2_cpu_ns(int dfd, uint64_t *ret_ns)
{
	char buf[512];
	int r = sbx_cg_read(dfd, "cpu.stat", buf, sizeof(buf));
	if (r < 0)
		return r;
	*ret_ns = sbx_cg_keyed(buf, "usage_usec") * 1000;
	return 0;
}

int sbx_cgroup2_kill(int dfd)
{
	return sbx_cg_write(dfd, "cgroup.kill", "1");
}

void sbx_cgroup2_collect(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res)
{
	int dfd = ex->cg.dfd[0];
	uint64_t v;
	char buf[512];
	if (sbx_cg_read_u64(dfd, "memory.peak", &v) == 0) {
		res->memory_peak_kb = v / 1024;
		ex->have_peak = true;
	}
	if (sbx_cg_read(dfd, "memory.events", buf, sizeof(buf)) == 0)
		ex->oom = sbx_cg_keyed(buf, "oom_kill") > 0 || sbx_cg_keyed(buf, "oom_group_kill") > 0;
	if (sbx_cgroup2_cpu_ns(dfd, &v) == 0) {
		ex->cpu_used_ns = v;
		ex->have_cpu = true;
	}
}
