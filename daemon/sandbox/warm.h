/* Pre-built sandboxes (warm.c): the spawner's pools of sandboxes cloned and
 * set up ahead of time, each waiting for one request: "exec" for any
 * command, "python" and "node" with that runtime's interpreter already
 * started (warm_runtime.c). */
#ifndef SBX_WARM_H
#define SBX_WARM_H

#include <stdbool.h>
#include <stdint.h>

#include "spawner_state.h"

/* The largest packed request sent to a pre-built sandbox (through its go
 * pipe, grown to fit); bigger ones start cold. */
#define SBX_WARM_MAX_REQUEST (1u << 20)
/* The largest pool of one kind (the daemon's config bounds it too). */
#define SBX_WARM_MAX_SIZE 64u

int sbx_warm_init(struct sbx_ctx *ctx);
/* Kill and reap every pooled sandbox. */
void sbx_warm_fini(struct sbx_ctx *ctx);
/* Idle-time work: build one sandbox if a pool is short (or drop one
 * started for an environment no request uses any more). Returns true if
 * it did something. */
bool sbx_warm_refill(struct sbx_ctx *ctx);
/* Whether ex's request could run in a pre-built sandbox: a pool is on
 * that could take it, and the request needs nothing a pre-built one lacks
 * (a host workspace or /tmp, binds, the network, a service's
 * namespace). */
bool sbx_warm_fits(const struct sbx_ctx *ctx, const struct sbx_exec *ex);
/* Give ex a pre-built sandbox: its limits written, its request sent, its
 * fds, pid and cgroup moved into ex. 0 = taken; <0 = none fits (ex is
 * untouched: start it cold). */
int sbx_warm_take(struct sbx_ctx *ctx, struct sbx_exec *ex);

/* One pool's state, for Stats and the admin status (spawner → daemon). */
#define SBX_WARM_KIND_MAX 16
struct sbx_warm_stats {
	char kind[SBX_WARM_KIND_MAX]; /* "exec": any command; "python", "node" */
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

/* In the payload process (pid 2) of a pre-built "exec" sandbox
 * (child.c), or in the init (pid 1) of a runtime one (warm_runtime.c):
 * wait for the request on the go pipe and make it ex's. Exits quietly on
 * EOF (the spawner dropped the sandbox unused). */
void sbx_warm_child_wait(const struct sbx_ctx *ctx, struct sbx_exec *ex);

/* ---- warm_runtime.c: the runtime pools' requests and their child side ---- */

/* The pools, also what exec.warm_rt says: SBX_WARM_EXEC (0) for a
 * sandbox with nothing started, else the runtime whose interpreter its
 * payload runs. */
enum { SBX_WARM_EXEC, SBX_WARM_PYTHON, SBX_WARM_NODE, SBX_WARM_N_POOLS };

struct sbx_warm_rt;
/* A runtime pool's own state (pool: SBX_WARM_PYTHON or SBX_WARM_NODE):
 * the environment and stack limit its interpreters are started with
 * (learnt from the requests), and the request template its sandboxes are
 * built from. NULL on ENOMEM or if pool is not a runtime's. */
struct sbx_warm_rt *sbx_warm_rt_new(unsigned pool);
void sbx_warm_rt_free(struct sbx_warm_rt *rt);
/* Whether req runs rt's runtime's command in a way a pre-started
 * interpreter can take (argv, cwd, the script among the files, nothing
 * the interpreter reads before the script); the environment is checked
 * by sbx_warm_rt_match. */
bool sbx_warm_rt_shaped(const struct sbx_warm_rt *rt, const Sbx__SpawnRequest *req);
/* Whether the interpreters rt starts now read the same environment and
 * stack limit as req's would have. */
bool sbx_warm_rt_match(const struct sbx_warm_rt *rt, const Sbx__SpawnRequest *req);
/* Start interpreters for req's environment and stack limit from now on
 * (the generation goes up: the ready ones no longer match). 0 or -ENOMEM
 * (rt unchanged). */
int sbx_warm_rt_learn(struct sbx_warm_rt *rt, const Sbx__SpawnRequest *req);
/* The current generation; 0 = nothing learnt yet (build nothing). */
uint64_t sbx_warm_rt_gen(const struct sbx_warm_rt *rt);
/* Make w a sandbox to pre-build for rt's pool: its template request,
 * argv and environment (w keeps pointers into rt: w->req must be set to
 * NULL before w is freed). 0 or -ENOMEM. */
int sbx_warm_rt_prepare(struct sbx_warm_rt *rt, struct sbx_exec *w);

/* In the child, pid 1 before it forks the payload (pid.c): make the FIFO
 * the interpreter will block opening as its script, and enter the
 * workspace (the payload inherits it as its cwd). 0 or a negative errno. */
int sbx_warm_rt_fifo(const struct sbx_exec *ex);
/* In pid 1 after the fork: wait for the request (exit if the payload
 * dies first or the spawner drops the sandbox), write the request's files
 * over the FIFO, give the payload the request's rlimits, then feed the
 * script through the FIFO and return (pid 1 then becomes the init).
 * Failures are reported as set-up errors (sbx_child_fail). */
void sbx_warm_rt_go(const struct sbx_ctx *ctx, struct sbx_exec *ex, pid_t payload);

#endif
