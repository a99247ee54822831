/* Private to daemon/exec/: the executor's state (executor.c) and one job,
 * a spec on its way through the pipeline: exec_spec.c turns the spec into
 * a SpawnRequest (parse), pipeline.c runs it (act). */
#ifndef SBX_EXECUTOR_INTERNAL_H
#define SBX_EXECUTOR_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "engine.h"
#include "executor.h"

struct sbx_executor {
	const struct sbx_config *cfg;
	const struct sbx_backend_ops *ops;
	void *backend;
	struct sbx_runtimes *rt;
	char *work_dir;

	pthread_mutex_t lock; /* guards the counters and `inflight` */
	pthread_cond_t cond;
	struct sbx_executor_stats stats;
	/* Requests between registration and their end, for
	 * sbx_executor_cancel; nodes live on their callers' stacks, so the
	 * list is bounded by the RPC threads. */
	struct inflight *inflight;

	struct sbx_logs *logs; /* live logs of object executions; NULL = none */
	struct sbx_bridge *bridge; /* NETWORK_MODE=bridge; NULL = none */

	sbx_exec_observer_fn observer;
	void *observer_arg;
	unsigned observing;	 /* observer calls in progress */
	pthread_cond_t observed; /* signalled when `observing` drops to 0 */
};

/* One request that sbx_executor_cancel can stop. */
struct inflight {
	struct inflight *next;
	const char *object_id, *execution_id;
	const char *log_id; /* a second live-output ring; NULL: none */
	struct sbx_engine_cancel token;
};

/* Register `f` (object_id NULL: none) until exec_inflight_remove; its
 * execution id is set once known. */
void exec_inflight_add(struct sbx_executor *x, struct inflight *f, const char *object_id);
void exec_inflight_set_id(struct sbx_executor *x, struct inflight *f, const char *execution_id);
void exec_inflight_remove(struct sbx_executor *x, struct inflight *f);

/* Take a running slot, waiting in the bounded queue until the call's
 * deadline: 0, or -EAGAIN / -ETIMEDOUT with call->error set. Each 0 is
 * followed by one exec_release with the result (NULL: none). */
int exec_admit(struct sbx_executor *x, struct sbx_rpc_call *call, struct inflight *f);
void exec_release(struct sbx_executor *x, const Sbx__ExecResult *res);

/* Hand `rep` to the observer, if any. */
void exec_notify(struct sbx_executor *x, const struct sbx_exec_report *rep);

/* The live logs set by sbx_executor_set_logs (NULL: none). */
struct sbx_logs *exec_logs(struct sbx_executor *x);

/* One spec through the pipeline. */
struct exec_job {
	const struct sbx_exec_spec *spec;
	const struct sbx_runtime *rt; /* spec->code: its language's row */
	/* The compile step (NULL: none) and its limits (NULL: the run's). */
	const char *const *compile;
	size_t n_compile;
	const struct sbx_runtime_limits *compile_limits;
	const Sbx__Limits *compile_request; /* checked; its fields win */
	const char **compile_own;	    /* compile with compiler options, owned */
	Sbx__ExecResult *compile_res;	    /* a compile step that succeeded */
	Sbx__File src;	   /* spec->code as the row's source file */
	Sbx__File **files; /* src, then the spec's; the array is owned */
	/* Owns copies of everything but files and stdin (the spec's). */
	Sbx__SpawnRequest *s;
	struct inflight f;
	char *ws; /* a temporary workspace for the compile step; NULL: none */
	int64_t started_ms;
	/* CLOCK_MONOTONIC µs, 0 until reached: the call began, it asked for a
	 * slot, it had one, its steps ended. */
	int64_t t_begin, t_ask, t_slot, t_steps_end;
	uint64_t log_dropped_bytes;
	Sbx__ExecResult *res;
	/* Bridge mode: the link held from prepare to fini (NULL: none). */
	struct sbx_bridge *bridge;
	Sbx__BridgeNet *net;
};

/* Allocate j->s and register j->f: 0 or -ENOMEM. */
int exec_job_init(struct sbx_executor *x, struct exec_job *j);
/* Check the spec and fill j->s from it; 0, or a negative errno with
 * call->error set (the report then shows what was filled). */
int exec_job_prepare(struct sbx_executor *x, struct sbx_rpc_call *call, struct exec_job *j);
/* Set each field of `out` that `in` has (Limits are proto2: has_*). */
void exec_limits_overlay(Sbx__Limits *out, const Sbx__Limits *in);
/* Free what init and prepare made (not j->res). */
void exec_job_fini(struct exec_job *j);

#endif
