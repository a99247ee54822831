/* The docker backend's accounting (docker_cg.c): a container's CPU time
 * and peak memory, read from cgroups.
 *
 * The engine removes a container's cgroup as soon as its processes have
 * exited, before sandboxd could read it, and keeps no accounting after
 * that. So every container is created under a parent cgroup of its own,
 * HostConfig.CgroupParent = /sandboxd-docker.<pid>/e<n>, which runc makes in
 * each hierarchy: the kernel charges a cgroup's CPU time (v1 cpuacct.usage,
 * v2 cpu.stat) and memory high-water mark (v1 memory.max_usage_in_bytes,
 * v2 memory.peak) to its ancestors as well, and the parent's counters
 * outlive the container's cgroup. They are read once the container has
 * stopped; the parent goes when the container has been removed, from every
 * hierarchy; the daemon's directory at close, a dead daemon's at open.
 *
 * Only under the engine's cgroupfs driver (Docker's default on cgroup v1):
 * under the systemd driver a parent must be a systemd slice, which would
 * stay behind (one per execution) unless the daemon talked to systemd. There,
 * and where the engine's cgroups are not in this process's view (a daemon in
 * a container of its own), the figures stay 0, and the log says why once. */
#ifndef SBX_DOCKER_CG_H
#define SBX_DOCKER_CG_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common.pb-c.h"

#define SBX_DOCKER_CG_MOUNTS 16

struct sbx_docker_cg {
	int version; /* the engine's cgroup version, 1 or 2; 0: accounting off */
	/* Every cgroup hierarchy mounted here (the parent is removed from
	 * each); mem and cpu index the ones read (v2: both the unified one). */
	char mounts[SBX_DOCKER_CG_MOUNTS][128];
	int n_mounts, mem, cpu;
	char name[40]; /* sandboxd-docker.<pid> */
	atomic_uint seq;
	atomic_bool warned;
};

/* Accounting for an engine that reports `driver` ("cgroupfs", "systemd")
 * and cgroup `version` ("1", "2"), either NULL when it did not say. Never
 * fails: where it cannot work, cg->version is 0 and the log says why. */
void sbx_docker_cg_open(struct sbx_docker_cg *cg, const char *driver, const char *version);
/* Remove the daemon's directory from every hierarchy. */
void sbx_docker_cg_close(struct sbx_docker_cg *cg);
/* The CgroupParent of a new container into buf ("" when accounting is
 * off). */
void sbx_docker_cg_parent(struct sbx_docker_cg *cg, char *buf, size_t size);
/* CPU time and peak memory under `parent` into res, once the container
 * has stopped. -ENOENT (logged once) when the parent is not to be seen. */
int sbx_docker_cg_collect(struct sbx_docker_cg *cg, const char *parent, Sbx__ExecResult *res);
/* Remove `parent` from every hierarchy, once the container is removed. */
void sbx_docker_cg_remove(const struct sbx_docker_cg *cg, const char *parent);

#endif
