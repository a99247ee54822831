/* Executions: admission (MAX_CONCURRENT_EXECUTIONS running, a bounded queue
 * behind them, RESOURCE_EXHAUSTED beyond), limits resolved against the
 * daemon's defaults and maxima, and one pipeline that every execution
 * (Run, Execute, objects' runs, services) takes from a spec to the
 * backend's SpawnRequest and its result. */
#ifndef SBX_EXECUTOR_H
#define SBX_EXECUTOR_H

#include "api.pb-c.h"
#include "backend.h"
#include "exec_status.h"
#include "runtimes.h"
#include "rpc_server.h"

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

/* Run / Execute, blocking until the result: each request as a spec through
 * sbx_executor_spawn. 0 with *ret (status may be any ExecStatus shown
 * outside the daemon, exec_status.h); -EINVAL (call->error says which
 * field), -EAGAIN when the queue is full, -ETIMEDOUT when the call's
 * deadline passed in the queue, -EIO when the backend failed. */
int sbx_executor_run(struct sbx_executor *x, struct sbx_rpc_call *call, const Sbx__RunRequest *req,
		     Sbx__ExecResult **ret);
int sbx_executor_execute(struct sbx_executor *x, struct sbx_rpc_call *call,
			 const Sbx__ExecuteRequest *req, Sbx__ExecResult **ret);

/* 0, or -EINVAL with "language python is disabled on this server" in
 * call->error when the configuration (ENABLE_<LANGUAGE>) disabled the
 * language, or, for a command (language NULL), the language whose name,
 * alias or binary argv0 names. Every execution path asks. */
int sbx_executor_check_language(struct sbx_executor *x, struct sbx_rpc_call *call,
				const char *language, const char *argv0);

/* One execution, whoever asks: Run and Execute translate their request
 * into a spec, objects (sandboxes, sessions, installs) and services fill
 * one, and sbx_executor_spawn runs it. A new request option is one field
 * here and one line where the spec becomes a SpawnRequest (exec_spec.c).
 * Everything is borrowed for the call. */
struct sbx_exec_spec {
	/* What runs: a final command (argv), or, when `code` is set, the code
	 * in `language`: the runtime row's run argv, `code` written to the
	 * row's source file (before the request's files, which cannot replace
	 * it) and the row's compile step with the row's compile limits. */
	const char *const *argv;
	size_t n_argv;
	const char *code;
	/* For a command: run first, in the same admission slot, with
	 * compile_limits (the runtime row's; NULL: the run's limits); a failed
	 * compile is the result. NULL: none. Without a workspace, the compile
	 * step and the run share a temporary one. */
	const char *const *compile;
	size_t n_compile;
	const struct sbx_runtime_limits *compile_limits;
	/* Written into the workspace before the run (or the compile step). */
	Sbx__File **files;
	size_t n_files;
	/* "KEY=value" over the base environment (a key given twice: the last
	 * wins); or instead, when env_map is set, a request's map entries
	 * (RunRequest.env), their names checked first. */
	const char *const *env;
	size_t n_env;
	Sbx__RunRequest__EnvEntry *const *env_map;
	size_t n_env_map;
	const Sbx__Limits *limits; /* NULL = the defaults; refused above the maxima */
	const char *cwd;	   /* inside the sandbox; NULL or "" = /workspace */
	ProtobufCBinaryData stdin;
	const char *workspace; /* host dir (SpawnRequest.workspace); NULL: the backend's own */
	const char *tmp_dir;   /* host dir for /tmp; NULL = private tmpfs */
	/* Outbound network: with NETWORK_MODE=bridge a link of its own under
	 * the egress policy (README "Network"); with none, refused, except
	 * for an install phase (install set), which then runs in the host's
	 * namespace as it always did. An install phase in bridge mode may
	 * also reach SANDBOX_INSTALL_ALLOW. */
	bool network, install;
	/* For the history, audit log and sbx_executor_cancel: what runs
	 * ("run", "execute", "sandbox", "session", "install"; NULL = "spawn"),
	 * the object's id (NULL: none) and its language (NULL = argv[0]). */
	const char *kind, *object_id, *language;
	/* A long-running service (daemon/service/): it takes no admission
	 * slot (its owner bounds how many run), its time limits are the
	 * engine's largest (a day; limits' own are ignored), its output goes
	 * to the live logs only, and it runs in the network namespace
	 * netns_fd (the service's, so the daemon can reach its port).
	 * Needs a backend with live output (native): -EOPNOTSUPP otherwise. */
	bool service;
	int netns_fd;
	/* A second live-log ring besides the object's, instead of the
	 * execution's (a deployment's id for its sandbox's service); NULL:
	 * the execution's. Without an object it is the execution's only ring
	 * and the client named it (ExecuteRequest.log_id): it must then be
	 * "live-" and 1 to 59 of [A-Za-z0-9-]. */
	const char *log_id;
	/* Execute's Piston and Judge0 options (proto/api.proto): arguments
	 * after the run argv; flags after the compile argv's argv[0]; the
	 * compile step's limits over the row's (NULL: the row's); stderr into
	 * stdout; the interleaved output in the result. */
	const char *const *args;
	size_t n_args;
	const char *const *compiler_options;
	size_t n_compiler_options;
	const Sbx__Limits *compile_request_limits;
	bool merge_stderr, want_output;
};

/* Run a spec, blocking, with the admission and errors of
 * sbx_executor_run: check it and build the SpawnRequest, take a slot,
 * compile, run, release, tell the observer. *ret's execution_id is the
 * history's id; its status is the daemon's own (STOPPED when
 * sbx_executor_cancel stopped it): sbx_exec_result_show before a reply. */
int sbx_executor_spawn(struct sbx_executor *x, struct sbx_rpc_call *call,
		       const struct sbx_exec_spec *spec, Sbx__ExecResult **ret);
/* Make a host directory usable by the sandbox user (the backend's
 * own_workspace). */
int sbx_executor_own(struct sbx_executor *x, const char *dir);

/* Stop every execution, running or waiting for a slot, whose object id or
 * execution id is `id`: its result becomes STOPPED (shown outside the
 * daemon as SIGNALED with error "stopped", exec_status.h).
 * Returns how many were stopped (0: none in flight), or -EOPNOTSUPP when
 * one was found but the backend cannot stop executions. Non-blocking. */
int sbx_executor_cancel(struct sbx_executor *x, const char *id);

/* What the executor tells its observer about every request it handled,
 * run or refused. Pointers are valid during the callback only. */
struct sbx_exec_report {
	const char *method;	   /* the RPC method */
	const char *client;	   /* the RPC's client, "" = unknown */
	const char *kind;	   /* "run", "execute", or the spec's kind */
	const char *object_id;	   /* "" for Run and Execute */
	const char *language;	   /* runtime name or argv[0]; "" when unknown */
	const char *execution_id;  /* "" when refused before one was made */
	const Sbx__Limits *limits; /* as resolved; fields 0 when refused before */
	int64_t started_ms;	   /* wall clock, ms since the epoch */
	/* The result, or NULL when the request was refused or failed
	 * (`error` then says why: -EINVAL bad input, -EAGAIN or -ETIMEDOUT
	 * not admitted, -EIO backend failure). */
	const Sbx__ExecResult *res;
	int error;
	/* Durations in µs (CLOCK_MONOTONIC; -1: the phase did not happen):
	 * waiting for a slot; with a slot but not in the program (sandbox
	 * creation, workspace, teardown); the program's own wall time (a
	 * compile step's included; the engine's figure); the whole call. */
	int64_t queue_us, setup_us, run_us, total_us;
	uint64_t log_dropped_bytes; /* output the live-log rings could not keep */
};

/* Called on the RPC's thread after each Run, Execute and spawn, before
 * the result goes back; must not block for long. Setting (NULL = none)
 * waits until calls of the previous observer in progress have returned,
 * so that what it used can then be freed. */
typedef void (*sbx_exec_observer_fn)(void *arg, const struct sbx_exec_report *rep);
void sbx_executor_set_observer(struct sbx_executor *x, sbx_exec_observer_fn fn, void *arg);

/* Where executions of objects send their output as it comes (live logs,
 * daemon/logs/); NULL = nowhere. Executions already running keep the
 * previous one, which must outlive them. */
struct sbx_logs;
void sbx_executor_set_logs(struct sbx_executor *x, struct sbx_logs *logs);

struct sbx_runtimes *sbx_executor_runtimes(struct sbx_executor *x);
const char *sbx_executor_describe(struct sbx_executor *x);
void sbx_executor_stats(struct sbx_executor *x, struct sbx_executor_stats *ret);
/* The backend's pools of pre-built sandboxes that are on, for Stats and
 * the admin status (the repeated WarmPool field of their reply): none for
 * a backend without pools, when they are off, or when the backend could
 * not tell (its spawner gone or not answering yet: the reply still goes
 * out). 0, or -ENOMEM. Bounded in time (sbx_engine_warm_pools). */
int sbx_executor_warm_pools(struct sbx_executor *x, Sbx__WarmPool ***ret, size_t *ret_n);

#endif
