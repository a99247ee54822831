/* Resource limits of the payload. CPU time is also enforced precisely by
 * the spawner through the cgroup's usage (RLIMIT_CPU has 1 s resolution
 * and counts per process). Memory is the cgroup's job: RLIMIT_AS counts
 * address space, not memory, and breaks runtimes that reserve large
 * arenas (and ASan). RLIMIT_NPROC backs up the pids cgroup: since 5.14 it
 * is counted per user namespace, so each sandbox has its own count. */
#include <errno.h>
#include <sys/resource.h>

#include "module.h"
#include "rlimit.h"
#include "spawner_state.h"

static int set1(pid_t pid, int res, uint64_t soft, uint64_t hard)
{
	struct rlimit cur, rl = {.rlim_cur = soft, .rlim_max = hard};
	/* The hard limit cannot be raised without host privileges: clamp. */
	if (prlimit(pid, res, NULL, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
		if (rl.rlim_max > cur.rlim_max)
			rl.rlim_max = cur.rlim_max;
		if (rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
	}
	return prlimit(pid, res, &rl, NULL) < 0 ? -errno : 0;
}

/* The limits that shape a program's start: the stack limit at execve()
 * places the memory map and sizes glibc's thread stacks; no core dumps,
 * no locked memory. */
static int set_startup(pid_t pid, const Sbx__Limits *l)
{
	uint64_t stack = l->stack_kb * 1024;
	int r;
	if ((r = set1(pid, RLIMIT_STACK, stack, stack)) < 0)
		return r;
	if ((r = set1(pid, RLIMIT_CORE, 0, 0)) < 0)
		return r;
	/* No locked memory: mlock would dodge nothing, but keep it at 0. */
	return set1(pid, RLIMIT_MEMLOCK, 0, 0);
}

int sbx_rlimit_apply(pid_t pid, const Sbx__Limits *l, uint64_t spent_ms)
{
	uint64_t cpu_s = (l->cpu_time_ms + spent_ms + 999) / 1000;
	int r;
	/* SIGXCPU at the soft limit, SIGKILL one second later. */
	if ((r = set1(pid, RLIMIT_CPU, cpu_s, cpu_s + 1)) < 0)
		return r;
	uint64_t fsize = l->fsize_kb * 1024;
	if ((r = set1(pid, RLIMIT_FSIZE, fsize, fsize)) < 0)
		return r;
	if ((r = set1(pid, RLIMIT_NOFILE, l->nofile, l->nofile)) < 0)
		return r;
	if ((r = set1(pid, RLIMIT_NPROC, l->pids, l->pids)) < 0)
		return r;
	return set_startup(pid, l);
}

static int rlimit_exec(const struct sbx_ctx *ctx, struct sbx_exec *ex)
{
	/* A pooled interpreter starts before its request: the limits that
	 * shape its start now (its template has the stack limit it must
	 * match), the request's when it comes (warm_runtime.c). */
	if (ex->warm && ex->warm_rt)
		return set_startup(0, ex->req->limits);
	return sbx_rlimit_apply(0, ex->req->limits, 0);
}

const struct sbx_module sbx_rlimit_module = {
	.name = "rlimit",
	.exec = rlimit_exec,
};
