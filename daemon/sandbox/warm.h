/* Pre-built sandboxes (warm.c): the spawner's pool of sandboxes cloned and
 * set up ahead of time, each waiting for one request. */
#ifndef SBX_WARM_H
#define SBX_WARM_H

#include <stdbool.h>
#include <stdint.h>

#include "spawner_state.h"

/* The largest packed request sent to a pre-built sandbox (through its go
 * pipe, grown to fit); bigger ones start cold. */
#define SBX_WARM_MAX_REQUEST (1u << 20)

int sbx_warm_init(struct sbx_ctx *ctx);
/* Kill and reap every pooled sandbox. */
void sbx_warm_fini(struct sbx_ctx *ctx);
/* Idle-time work: build one sandbox if the pool is short. Returns true if
 * it did something. */
bool sbx_warm_refill(struct sbx_ctx *ctx);
/* Whether ex's request could run in a pre-built sandbox: the pool is on,
 * and the request needs nothing a pre-built one lacks (a host workspace
 * or /tmp, binds, the network, a service's namespace). */
bool sbx_warm_fits(const struct sbx_ctx *ctx, const struct sbx_exec *ex);
/* Give ex a pre-built sandbox: its limits written, its request sent, its
 * fds, pid and cgroup moved into ex. 0 = taken; <0 = none fits (ex is
 * untouched: start it cold). */
int sbx_warm_take(struct sbx_ctx *ctx, struct sbx_exec *ex);

/* One pool's state, for Stats and the admin status (spawner → daemon). */
#define SBX_WARM_KIND_MAX 16
struct sbx_warm_stats {
	char kind[SBX_WARM_KIND_MAX]; /* "exec": any command */
	unsigned size;		      /* configured; 0 = off */
	unsigned ready;		      /* built, waiting for a request */
	unsigned in_use;	      /* executions running in a pooled sandbox */
	uint64_t built, taken;	      /* since start; taken = hits */
	uint64_t misses;	      /* fitting executions that found it empty */
	uint64_t failed;	      /* builds or takes that failed */
	double refill_per_s;	      /* builds per second over the last minute */
	uint64_t memory_kb;	      /* the ready sandboxes' cgroup memory */
};
#define SBX_WARM_MAX_POOLS 4

/* Fill out[0..max) with each configured pool's state; returns how many. */
unsigned sbx_warm_stats(const struct sbx_ctx *ctx, struct sbx_warm_stats *out, unsigned max);
/* ex (which took a pooled sandbox) has ended: it no longer counts in use. */
void sbx_warm_done(struct sbx_ctx *ctx, struct sbx_exec *ex);

/* In the payload process (pid 2) of a pre-built sandbox (child.c): wait for the request on
 * the go pipe and make it ex's. Exits quietly on EOF (the spawner dropped
 * the sandbox unused). */
void sbx_warm_child_wait(const struct sbx_ctx *ctx, struct sbx_exec *ex);

#endif
