/* Executions: admission (MAX_CONCURRENT_EXECUTIONS running, a bounded queue
 * behind them, RESOURCE_EXHAUSTED beyond), limits resolved against the
 * daemon's defaults and maxima, and Run / Execute requests turned into the
 * backend's SpawnRequest. */
#ifndef SBX_EXECUTOR_H
#define SBX_EXECUTOR_H

#include "api.pb-c.h"
#include "backend.h"
#include "runtimes.h"
#include "server.h"

struct sbx_config;
struct sbx_executor;

struct sbx_executor_stats {
	unsigned running, queued;
	unsigned long long total, failed, rejected;
};

/* Open the backend named by cfg->backend (before any thread exists) and
 * probe the runtimes. */
int sbx_executor_new(const struct sbx_config *cfg, struct sbx_executor **ret);
void sbx_executor_free(struct sbx_executor *x);

/* Run / Execute, blocking until the result. 0 with *ret (status may be any
 * ExecStatus); -EINVAL (call->error says which field), -EAGAIN when the
 * queue is full, -ETIMEDOUT when the call's deadline passed in the queue,
 * -EIO when the backend failed. */
int sbx_executor_run(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__RunRequest *req,
		 Sbx__ExecResult **ret);
int sbx_executor_execute(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__ExecuteRequest *req,
		     Sbx__ExecResult **ret);

struct sbx_runtimes *sbx_executor_runtimes(struct sbx_executor *x);
const char *sbx_executor_describe(struct sbx_executor *x);
void sbx_executor_stats(struct sbx_executor *x, struct sbx_executor_stats *ret);

#endif
