/* RPC handlers of ListExecutions, GetExecution and GetStats (rows of
 * rpc/handlers.c's table; `state` is the struct sbx_daemon). Without a
 * state store (in-process test daemons have no backend) they answer
 * UNAVAILABLE. */
#ifndef SBX_HISTORY_RPC_H
#define SBX_HISTORY_RPC_H

#include "rpc_server.h"

#define SBX_HISTORY_HANDLER(name)                                                                  \
	int name(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,              \
		 ProtobufCMessage **ret)

SBX_HISTORY_HANDLER(sbx_rpc_list_executions);
SBX_HISTORY_HANDLER(sbx_rpc_get_execution);
SBX_HISTORY_HANDLER(sbx_rpc_get_stats);
/* GetMetrics (history/metrics_rpc.c): answers without a state store too. */
SBX_HISTORY_HANDLER(sbx_rpc_get_metrics);

#endif
