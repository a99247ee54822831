/* The execution history and its counters (seed sandbox-executor:
 * "Execution History", /api/v1/executions, /api/v1/stats): every Run,
 * Execute, sandbox and session execution becomes a row of the state store
 * (bounded by history_max and the max age, its output capped by
 * HISTORY_OUTPUT_BYTES) and moves the persistent counters the stats are
 * made of; every request, run or refused, becomes a line of the audit log
 * when that is enabled.
 *
 * The history is fed by the executor's observer (sbx_history_record) and
 * read by the RPC handlers of history/rpc.c. Thread-safe. */
#ifndef SBX_HISTORY_H
#define SBX_HISTORY_H

#include "admin.pb-c.h"
#include "executor.h"
#include "rpc_server.h"

struct sbx_config;
struct sbx_store;
struct sbx_history;

/* Counter names in the store. Per-language counters are "lang/<name>":
 * the runtime of Execute, sandboxes and installs, and "command" for argv
 * runs (Run, sessions), so that their number stays bounded by the
 * runtimes table. */
#define SBX_HISTORY_PREFIX_LANG "lang/"

/* Use `store` (not owned; it outlives the history) and open the audit log
 * state_dir/audit.log when cfg->enable_audit_log. 0 or -errno (logged). */
int sbx_history_open(const struct sbx_config *cfg, struct sbx_store *store,
		     struct sbx_history **ret);
/* NULL is a no-op. */
void sbx_history_close(struct sbx_history *h);

/* Record one request (an sbx_exec_observer_fn). Failures are logged, not
 * returned: the execution happened either way. */
void sbx_history_record(struct sbx_history *h, const struct sbx_exec_report *rep);

/* ListExecutions: newest first; -EINVAL above 1000, -ENOENT unknown
 * `before`. GetExecution: -ENOENT when unknown. call->error is set. */
int sbx_history_list(struct sbx_history *h, struct sbx_rpc_call *call,
		     const Sbx__ListExecutionsRequest *req, Sbx__ListExecutionsReply **ret);
int sbx_history_get(struct sbx_history *h, struct sbx_rpc_call *call, const char *id,
		    Sbx__Execution **ret);

#endif
