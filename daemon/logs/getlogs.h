/* The GetLogs RPC handler (a row of daemon/rpc/handlers.c). */
#ifndef SBX_LOGS_GETLOGS_H
#define SBX_LOGS_GETLOGS_H

#include "rpc_server.h"

/* GetLogsRequest → GetLogsReply from the daemon's rings: NOT_FOUND when
 * the id has no ring (no output yet, or dropped), UNAVAILABLE when the
 * daemon keeps no logs. Non-blocking: fit for SBX_RPC_INLINE. */
int sbx_rpc_get_logs(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
		     ProtobufCMessage **ret);

#endif
