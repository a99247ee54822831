#include "objects_rpc.h"

#include <errno.h>

#include "api.pb-c.h"
#include "daemon.h"
#include "envelope.h"
#include "objects.h"
#include "deployment.h"
#include "kind.h"
#include "sandbox_obj.h"
#include "session.h"
#include "tunnel/tunnel.h"

/* Each handler: find the objects, keep them from closing while in use,
 * call the typed function with the request and reply of its method. */
#define WRAP(name, expr)                                                                           \
	SBX_OBJECTS_HANDLER(name)                                                                  \
	{                                                                                          \
		struct sbx_objects *o =                                                            \
			sbx_objects_enter_call(((struct sbx_daemon *)state)->objects, call,        \
					       "sandboxes and sessions are not available");        \
		int r;                                                                             \
                                                                                                   \
		if (!o)                                                                            \
			return -ESHUTDOWN;                                                         \
		r = (expr);                                                                        \
		sbx_objects_leave(o);                                                              \
		return r;                                                                          \
	}

/* Replies without fields (deletes): an empty heap message. */
static int empty_reply(int r, const ProtobufCMessageDescriptor *d, ProtobufCMessage **ret)
{
	if (r < 0)
		return r;
	*ret = sbx_message_new(d);
	return *ret ? 0 : -ENOMEM;
}

WRAP(sbx_rpc_create_sandbox,
     sbx_sandbox_create(o, call, (const Sbx__CreateSandboxRequest *)req, (Sbx__Sandbox **)ret))
WRAP(sbx_rpc_get_sandbox,
     sbx_sandbox_get(o, call, ((const Sbx__GetSandboxRequest *)req)->id, (Sbx__Sandbox **)ret))
WRAP(sbx_rpc_list_sandboxes, sbx_sandbox_list(o, call, (Sbx__ListSandboxesReply **)ret))
WRAP(sbx_rpc_delete_sandbox,
     empty_reply(sbx_sandbox_delete(o, call, ((const Sbx__DeleteSandboxRequest *)req)->id),
		 &sbx__delete_sandbox_reply__descriptor, ret))
WRAP(sbx_rpc_execute_sandbox,
     sbx_sandbox_execute(o, call, ((const Sbx__ExecuteSandboxRequest *)req)->id,
			 (Sbx__SandboxExecution **)ret))
WRAP(sbx_rpc_upload_files, sbx_sandbox_upload(o, call, (const Sbx__UploadFilesRequest *)req,
					      (Sbx__UploadFilesReply **)ret))
WRAP(sbx_rpc_list_sandbox_files,
     sbx_objects_list_files(o, &sbx_sandbox_kind, call,
			    ((const Sbx__ListSandboxFilesRequest *)req)->id,
			    ((const Sbx__ListSandboxFilesRequest *)req)->path,
			    ((const Sbx__ListSandboxFilesRequest *)req)->max_depth,
			    (Sbx__ListFilesReply **)ret))
WRAP(sbx_rpc_download_sandbox_file,
     sbx_objects_download(o, &sbx_sandbox_kind, call,
			  ((const Sbx__DownloadSandboxFileRequest *)req)->id,
			  ((const Sbx__DownloadSandboxFileRequest *)req)->path,
			  (Sbx__FileContent **)ret))
WRAP(sbx_rpc_create_session,
     sbx_session_create(o, call, (const Sbx__CreateSessionRequest *)req, (Sbx__Session **)ret))
WRAP(sbx_rpc_get_session,
     sbx_session_get(o, call, ((const Sbx__GetSessionRequest *)req)->session_id,
		     (Sbx__Session **)ret))
WRAP(sbx_rpc_list_sessions, sbx_session_list(o, call, (Sbx__ListSessionsReply **)ret))
WRAP(sbx_rpc_delete_session,
     empty_reply(sbx_session_delete(o, call, ((const Sbx__DeleteSessionRequest *)req)->session_id),
		 &sbx__delete_session_reply__descriptor, ret))
WRAP(sbx_rpc_session_run,
     sbx_session_run(o, call, (const Sbx__SessionRunRequest *)req, (Sbx__ExecResult **)ret))
WRAP(sbx_rpc_set_session_env,
     sbx_session_set_env(o, call, (const Sbx__SetSessionEnvRequest *)req, (Sbx__Session **)ret))
WRAP(sbx_rpc_set_session_cwd,
     sbx_session_set_cwd(o, call, (const Sbx__SetSessionCwdRequest *)req, (Sbx__Session **)ret))
WRAP(sbx_rpc_list_session_files,
     sbx_objects_list_files(o, &sbx_session_kind, call,
			    ((const Sbx__ListSessionFilesRequest *)req)->session_id,
			    ((const Sbx__ListSessionFilesRequest *)req)->path,
			    ((const Sbx__ListSessionFilesRequest *)req)->max_depth,
			    (Sbx__ListFilesReply **)ret))
WRAP(sbx_rpc_download_session_file,
     sbx_objects_download(o, &sbx_session_kind, call,
			  ((const Sbx__DownloadSessionFileRequest *)req)->session_id,
			  ((const Sbx__DownloadSessionFileRequest *)req)->path,
			  (Sbx__FileContent **)ret))
WRAP(sbx_rpc_deploy,
     sbx_deployment_create(o, call, (const Sbx__DeployRequest *)req, (Sbx__Deployment **)ret))
WRAP(sbx_rpc_get_deployment,
     sbx_deployment_get(o, call, ((const Sbx__GetDeploymentRequest *)req)->id,
			(Sbx__Deployment **)ret))
WRAP(sbx_rpc_list_deployments, sbx_deployment_list(o, call, (Sbx__ListDeploymentsReply **)ret))
WRAP(sbx_rpc_delete_deployment,
     empty_reply(sbx_deployment_delete(o, call, ((const Sbx__DeleteDeploymentRequest *)req)->id),
		 &sbx__delete_deployment_reply__descriptor, ret))
WRAP(sbx_rpc_update_deployment_files,
     sbx_deployment_update_files(o, call, (const Sbx__UpdateDeploymentFilesRequest *)req,
				 (Sbx__UpdateDeploymentFilesReply **)ret))
/* The reply names the tunnel's port too: another host reaches the
 * socket through it (tunnel/tunnel.h). */
static int open_proxy(struct sbx_objects *o, struct sbx_rpc_call *call, void *state,
		      const Sbx__OpenProxyRequest *req, Sbx__OpenProxyReply **ret)
{
	int r = sbx_deployment_open_proxy(o, call, req, ret);

	if (r == 0)
		(*ret)->tunnel_port = sbx_tunnel_port(((struct sbx_daemon *)state)->tunnel);
	return r;
}

WRAP(sbx_rpc_open_proxy,
     open_proxy(o, call, state, (const Sbx__OpenProxyRequest *)req, (Sbx__OpenProxyReply **)ret))
