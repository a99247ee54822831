/* RPC handlers of the admin methods (rows of rpc/handlers.c's table;
 * `state` is the struct sbx_daemon). Without objects (in-process test
 * daemons have no backend) they answer UNAVAILABLE. */
#ifndef SBX_ADMIN_RPC_H
#define SBX_ADMIN_RPC_H

#include "rpc_server.h"

#define SBX_ADMIN_HANDLER(name)                                                                    \
	int name(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,              \
		 ProtobufCMessage **ret)

SBX_ADMIN_HANDLER(sbx_rpc_admin_status);
SBX_ADMIN_HANDLER(sbx_rpc_admin_list_sandboxes);
SBX_ADMIN_HANDLER(sbx_rpc_admin_get_sandbox);
/* Blocks up to ~2 s while the stopped execution winds down. */
SBX_ADMIN_HANDLER(sbx_rpc_admin_force_stop);
/* Walks the sandbox's workspace (bounded). */
SBX_ADMIN_HANDLER(sbx_rpc_admin_sandbox_resources);
SBX_ADMIN_HANDLER(sbx_rpc_admin_logs);
SBX_ADMIN_HANDLER(sbx_rpc_admin_sandbox_logs);

#endif
