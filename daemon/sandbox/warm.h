/* Pre-built sandboxes (warm.c): the spawner's pool of sandboxes cloned and
 * set up ahead of time, each waiting for one request. */
#ifndef SBX_WARM_H
#define SBX_WARM_H

#include <stdbool.h>

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

/* In the payload process (pid 2) of a pre-built sandbox (child.c): wait for the request on
 * the go pipe and make it ex's. Exits quietly on EOF (the spawner dropped
 * the sandbox unused). */
void sbx_warm_child_wait(const struct sbx_ctx *ctx, struct sbx_exec *ex);

#endif
