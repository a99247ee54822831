/* The cgroups the nsjail backend prepares for nsjail (nsjail_cg.c).
 *
 * nsjail 3.x puts each sandbox in a cgroup it creates (NSJAIL.<pid>) under
 * a parent that must already exist: on v1 one per controller
 * (--cgroup_mem_parent, --cgroup_pids_parent, relative to
 * /sys/fs/cgroup/<controller>), on v2 the directory --cgroupv2_mount names,
 * with the controllers on in its cgroup.subtree_control. Without them every
 * run fails with "Launching child process failed".
 *
 * The daemon makes, under its own cgroup, a directory sandboxd-nsjail.<pid>
 * (per v1 controller: memory, pids, cpuacct; or one on v2) and in it one
 * parent per execution, e<n>. The execution's limits are written to e<n>
 * itself, so that its counters (peak memory, CPU time, OOM kills) cover
 * everything nsjail ran and survive nsjail removing NSJAIL.<pid>; nsjail
 * gets looser limits of its own only because it creates NSJAIL.<pid> only
 * when given one. The execution's parent goes after the run, the daemon's
 * directory at close (leftovers of dead daemons at open). */
#ifndef SBX_NSJAIL_CG_H
#define SBX_NSJAIL_CG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "common.pb-c.h"
#include "limits.pb-c.h"

enum { SBX_NJ_MEM, SBX_NJ_PIDS, SBX_NJ_CPUACCT, SBX_NJ_N };

struct sbx_nsjail_cg {
	int version; /* 1, 2; 0: no cgroups, memory and pids limits unenforced */
	bool memsw;  /* v1: memory.memsw.* exists (swap accounted) */
	/* v1: per controller (SBX_NJ_*); v2: [0] only. Absolute paths. */
	char base[SBX_NJ_N][PATH_MAX];
	unsigned seq; /* atomically incremented: the next e<n> */
};

/* One execution's parent cgroups. `rel` is relative to the controller's
 * mount (what nsjail's --cgroup_*_parent wants); on v2 path[0] is what
 * --cgroupv2_mount wants. */
struct sbx_nsjail_cg_run {
	char path[SBX_NJ_N][PATH_MAX];
	char rel[SBX_NJ_N][PATH_MAX];
	int procs_fd; /* v1: cpuacct's cgroup.procs, for nsjail to join; -1 */
	int oom_fd;   /* v1: eventfd of our memory cgroup's OOM notification; -1 */
};

/* Detect cgroups and create the daemon's directory. 0 (also when there are
 * none: version 0) or -errno with a sentence in log. */
int sbx_nsjail_cg_open(struct sbx_nsjail_cg *cg);
void sbx_nsjail_cg_close(struct sbx_nsjail_cg *cg);
/* Create an execution's parents with its limits. 0 or -errno. */
int sbx_nsjail_cg_make(struct sbx_nsjail_cg *cg, const Sbx__Limits *l,
		       struct sbx_nsjail_cg_run *run);
/* CPU time used so far, for the CPU limit; -ENOENT when unknown. */
int sbx_nsjail_cg_cpu_ns(const struct sbx_nsjail_cg *cg, const struct sbx_nsjail_cg_run *run,
			 uint64_t *ret);
/* CPU time, peak memory and whether the memory limit was reached (the OOM
 * killer acted), once ended. */
void sbx_nsjail_cg_collect(const struct sbx_nsjail_cg *cg, const struct sbx_nsjail_cg_run *run,
			   Sbx__ExecResult *res, bool *ret_oom);
/* SIGKILL every task in the execution's cgroups (not removing them): a
 * backend whose runner leaves processes of its own behind (gvisor.c). */
void sbx_nsjail_cg_kill(const struct sbx_nsjail_cg *cg, const struct sbx_nsjail_cg_run *run);
/* Kill what is left in the execution's cgroups (a killed nsjail leaves
 * NSJAIL.<pid> behind) and remove them. */
void sbx_nsjail_cg_remove(const struct sbx_nsjail_cg *cg, struct sbx_nsjail_cg_run *run);

#endif
