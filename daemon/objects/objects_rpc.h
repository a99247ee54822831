/* RPC handlers of the object methods (rows of rpc/handlers.c's table).
 * `state` is the struct sbx_daemon; a daemon without objects (in-process
 * test daemons have no backend) answers UNAVAILABLE. */
#ifndef SBX_OBJECTS_RPC_H
#define SBX_OBJECTS_RPC_H

#include "rpc_server.h"

#define SBX_OBJECTS_HANDLER(name)                                                                  \
	int name(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,              \
		 ProtobufCMessage **ret)

SBX_OBJECTS_HANDLER(sbx_rpc_create_sandbox);
SBX_OBJECTS_HANDLER(sbx_rpc_get_sandbox);
SBX_OBJECTS_HANDLER(sbx_rpc_list_sandboxes);
SBX_OBJECTS_HANDLER(sbx_rpc_delete_sandbox);
SBX_OBJECTS_HANDLER(sbx_rpc_execute_sandbox);
SBX_OBJECTS_HANDLER(sbx_rpc_upload_files);
SBX_OBJECTS_HANDLER(sbx_rpc_list_sandbox_files);
SBX_OBJECTS_HANDLER(sbx_rpc_download_sandbox_file);
SBX_OBJECTS_HANDLER(sbx_rpc_create_session);
SBX_OBJECTS_HANDLER(sbx_rpc_get_session);
SBX_OBJECTS_HANDLER(sbx_rpc_list_sessions);
SBX_OBJECTS_HANDLER(sbx_rpc_delete_session);
SBX_OBJECTS_HANDLER(sbx_rpc_session_run);
SBX_OBJECTS_HANDLER(sbx_rpc_set_session_env);
SBX_OBJECTS_HANDLER(sbx_rpc_set_session_cwd);
SBX_OBJECTS_HANDLER(sbx_rpc_list_session_files);
SBX_OBJECTS_HANDLER(sbx_rpc_download_session_file);
SBX_OBJECTS_HANDLER(sbx_rpc_deploy);
SBX_OBJECTS_HANDLER(sbx_rpc_get_deployment);
SBX_OBJECTS_HANDLER(sbx_rpc_list_deployments);
SBX_OBJECTS_HANDLER(sbx_rpc_delete_deployment);
SBX_OBJECTS_HANDLER(sbx_rpc_update_deployment_files);
SBX_OBJECTS_HANDLER(sbx_rpc_open_proxy);

#endif
