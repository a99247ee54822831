/* Resource limits of the payload. CPU time is also enforced precisely by
 * the spawner through the cgroup's usage (RLIMIT_CPU has 1 s resolution
 * and counts per process). Memory is the cgroup's job: RLIMIT_AS counts
 * address space, not memory, and breaks runtimes that reserve large
 * arenas (and ASan). RLIMIT_NPROC backs up the pids cgroup: since 5.14 it
 * is counted per user namespace, so each sandbox has its own count. */
#include <errno.h>
#include <sys/resource.h>

#include "module.h"
#include "spawner_state.h"

static int set1(int res, uint64_t soft, uint64_t hard)
{
	struct rlimit cur, rl = {.rlim_cur = soft, .rlim_max = hard};
	/* The hard limit cannot be raised without host privileges: clamp. */
	if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
		if (rl.rlim_max > cur.rlim_max)
			rl.rlim_max = cur.rlim_max;
		if (rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
	}
	return setrlimit(res, &rl) < 0 ? -errno : 0;
}

static int rlimit_exec(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	const Sbx__Limits *l = ex->req->limits;
	uint64_t cpu_s = (l->cpu_time_ms + 999) / 1000;
	int r;
	/* SIGXCPU at the soft limit, SIGKILL one second later. */
	if ((r = set1(RLIMIT_CPU, cpu_s, cpu_s + 1)) < 0)
		return r;
	uint64_t fsize = l->fsize_kb * 1024;
	if ((r = set1(RLIMIT_FSIZE, fsize, fsize)) < 0)
		return r;
	if ((r = set1(RLIMIT_NOFILE, l->nofile, l->nofile)) < 0)
		return r;
	uint64_t stack = l->stack_kb * 1024;
	if ((r = set1(RLIMIT_STACK, stack, stack)) < 0)
		return r;
	if ((r = set1(RLIMIT_CORE, 0, 0)) < 0)
		return r;
	if ((r = set1(RLIMIT_NPROC, l->pids, l->pids)) < 0)
		return r;
	/* No locked memory: mlock would dodge nothing, but keep it at 0. */
	return set1(RLIMIT_MEMLOCK, 0, 0);
}

const struct sbx_module sbx_rlimit_module = {
	.name = "rlimit",
	.exec = rlimit_exec,
};
