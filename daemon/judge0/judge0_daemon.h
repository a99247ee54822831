/* Judge0 submissions kept by this daemon (proto/judge0.proto): a bounded
 * queue, worker threads that run each through the executor pipeline
 * (Execute number_of_runs times, Judge0's rules in common/judge0.h), and
 * the state store, where each is an object row of kind "judge0" (status
 * "queued", "running" or "done", the record a packed Judge0Submission).
 * A submission queued or running when the daemon stopped is queued again
 * when it starts. Finished ones are kept up to JUDGE0_KEEP_MAX and for
 * JUDGE0_KEEP_SECONDS. */
#ifndef SBX_JUDGE0_DAEMON_H
#define SBX_JUDGE0_DAEMON_H

#include "daemon_config.h"
#include "rpc_server.h"

struct sbx_executor;
struct sbx_store;
struct sbx_judge0;

/* Load the queued submissions of store and start cfg->judge0_workers
 * threads. cfg, exec and store must outlive the result. 0 or -errno. */
int sbx_judge0_open(const struct sbx_config *cfg, struct sbx_executor *exec,
		    struct sbx_store *store, struct sbx_judge0 **ret);
/* Stop taking work, let the workers finish their current run (it stays
 * queued in the store when cut short) and free. NULL is a no-op. */
void sbx_judge0_close(struct sbx_judge0 *j);

/* RPC handlers (rows of daemon/rpc/handlers.c; state: the sbx_daemon).
 * Judge0Submit: RESOURCE_EXHAUSTED when the queue has no room for all;
 * Judge0Get/Delete: NOT_FOUND for an unknown token, Delete
 * FAILED_PRECONDITION while queued or running. */
int sbx_rpc_judge0_submit(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			  ProtobufCMessage **ret);
int sbx_rpc_judge0_get(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
		       ProtobufCMessage **ret);
int sbx_rpc_judge0_list(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			ProtobufCMessage **ret);
int sbx_rpc_judge0_delete(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			  ProtobufCMessage **ret);

#endif
