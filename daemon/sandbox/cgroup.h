/* cgroups (cgroup.c, and cgroup2.c for the v2 half): detection, the
 * per-execution cgroup, its pool, and small file helpers on a dir fd. */
#ifndef SBX_CGROUP_H
#define SBX_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct sbx_ctx;
struct sbx_exec;

enum sbx_cgroup_mode { SBX_CG_NONE, SBX_CG_V1, SBX_CG_V2 };

/* cgroup v1 controllers the engine uses, one hierarchy each. */
enum { SBX_V1_MEMORY, SBX_V1_PIDS, SBX_V1_CPUACCT, SBX_V1_N };

/* One execution's cgroup (struct sbx_exec.cg), taken from the pool. */
struct sbx_cgroup_slot {
	int dfd[SBX_V1_N]; /* v1: one dir per controller; v2: dfd[0] only; -1 = absent */
	unsigned id;
};

/* cgroup.c: dispatch to v1 / v2. Detection runs before the spawner forks
 * (so the daemon can answer sbx_engine_cgroup_mode() without a round trip). */
enum sbx_cgroup_mode sbx_cgroup_detect(enum sbx_cgroup_pref pref);
const char *sbx_cgroup_mode_name(enum sbx_cgroup_mode m);
/* Current usage of the execution's cgroup, for CPU-limit polling;
 * -ENOENT without cgroups. */
int sbx_cgroup_cpu_ns(const struct sbx_ctx *ctx, const struct sbx_exec *ex, uint64_t *ret_ns);

/* Write the request's limits to the execution's cgroup (prepare does it
 * for a cold start; warm.c when an execution takes a pre-built sandbox). */
int sbx_cgroup_limits(struct sbx_ctx *ctx, struct sbx_exec *ex);
/* The numbers of an execution whose payload ended: CPU, memory peak,
 * OOM (the cgroup teardown does it too, when given a result). */
void sbx_cgroup_collect(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res);
/* Whether the execution's cgroup holds one process at most (its init,
 * which exits once its payload has ended); false when unknown. */
bool sbx_cgroup_alone(const struct sbx_ctx *ctx, const struct sbx_exec *ex);
/* Remove a cgroup no execution will use (a discarded pre-built sandbox's). */
void sbx_cgroup_release(struct sbx_ctx *ctx, struct sbx_cgroup_slot *slot);

/* cgroup2.c: the v2 half behind cgroup.c. */
int sbx_cgroup2_init(struct sbx_ctx *ctx);
int sbx_cgroup2_setup(struct sbx_ctx *ctx, struct sbx_exec *ex);
int sbx_cgroup2_cpu_ns(int dfd, uint64_t *ret_ns);
void sbx_cgroup2_collect(struct sbx_ctx *ctx, struct sbx_exec *ex, Sbx__ExecResult *res);
int sbx_cgroup2_kill(int dfd);

/* Idle-time work (spawner.c calls it when epoll has nothing): top up the
 * cgroup pool. Returns true if it did something. */
bool sbx_cgroup_refill(struct sbx_ctx *ctx);

/* Create <mount><own cgroup>/sandboxd/<pid> (ctrl: v1 controller name, or
 * NULL for v2), removing leftovers of dead spawners. */
int sbx_cgroup_make_parent(const char *mount, const char *ctrl, char *path, size_t size,
			   int *ret_fd);
/* The value of `key` in "key value" lines, 0 if absent. */
uint64_t sbx_cg_keyed(const char *text, const char *key);

/* cgroup_util (in cgroup.c): small file helpers on a dir fd. */
int sbx_cg_write(int dfd, const char *file, const char *val);
int sbx_cg_read(int dfd, const char *file, char *buf, size_t size);
int sbx_cg_read_u64(int dfd, const char *file, uint64_t *ret);
/* rmdir that retries briefly: a cgroup whose last task just exited may
 * still be busy for a moment. */
int sbx_cg_rmdir(int parent_dfd, const char *name);

#endif
