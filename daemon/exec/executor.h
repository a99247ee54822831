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

/* One execution in a persistent host workspace, prepared by the objects
 * layer (sandboxes, sessions): the argv is final, files are already on
 * disk. */
struct sbx_exec_spec {
	const char *const *argv;
	size_t n_argv;
	/* Run first, in the same admission slot, with the compiler limits of
	 * Execute; a failed compile is the result. NULL: none. */
	const char *const *compile;
	size_t n_compile;
	/* "KEY=value" over the base environment (a key given twice: the last
	 * wins); checked like RunRequest.env. */
	const char *const *env;
	size_t n_env;
	const Sbx__Limits *limits;    /* NULL = the defaults; refused above the maxima */
	const char *cwd;              /* inside the sandbox; NULL or "" = /workspace */
	ProtobufCBinaryData stdin;
	const char *workspace;        /* host dir, required (SpawnRequest.workspace) */
	const char *tmp_dir;          /* host dir for /tmp; NULL = private tmpfs */
	bool network;                 /* install phases only */
};

/* Run a spec, blocking, with the admission and errors of
 * sbx_executor_run. *ret's execution_id is the history's id. */
int sbx_executor_spawn(struct sbx_executor *x, struct sbx_rpc_call *call, const struct sbx_exec_spec *spec,
		       Sbx__ExecResult **ret);
/* Make a host directory usable by the sandbox user (the backend's
 * own_workspace). */
int sbx_executor_own(struct sbx_executor *x, const char *dir);

struct sbx_runtimes *sbx_executor_runtimes(struct sbx_executor *x);
const char *sbx_executor_describe(struct sbx_executor *x);
void sbx_executor_stats(struct sbx_executor *x, struct sbx_executor_stats *ret);

#endif
