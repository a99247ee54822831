/* Sandboxes (seed sandbox-service-API.md): created with a runtime, code,
 * files and limits; executed on demand in their persistent workspace;
 * deleted. Status moves created -> running -> completed | failed, and back
 * to running on the next execution.
 *
 * All functions return 0 or a negative errno with call->error set to a
 * user-facing sentence: -EINVAL bad input, -ENOENT no such sandbox,
 * -EAGAIN too many sandboxes, -EBUSY (FAILED_PRECONDITION) the sandbox is
 * running or the mode is not supported. Replies are heap messages. */
#ifndef SBX_SANDBOX_OBJ_H
#define SBX_SANDBOX_OBJ_H

#include "api.pb-c.h"
#include "objects.h"
#include "rpc_server.h"

int sbx_sandbox_create(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__CreateSandboxRequest *req, Sbx__Sandbox **ret);
int sbx_sandbox_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		    Sbx__Sandbox **ret);
int sbx_sandbox_list(struct sbx_objects *o, struct sbx_rpc_call *call,
		     Sbx__ListSandboxesReply **ret);
/* Its state (the admin view's "running"). */
int sbx_sandbox_state(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		      Sbx__SandboxState *ret);
/* A running sandbox is unlinked at once; its workspace goes when the
 * execution returns. */
int sbx_sandbox_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id);
/* Blocking: installs dependencies first when asked and not yet done. */
int sbx_sandbox_execute(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			Sbx__SandboxExecution **ret);
int sbx_sandbox_upload(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__UploadFilesRequest *req, Sbx__UploadFilesReply **ret);

/* ---- persistent sandboxes (mode "persistent"): a process kept running,
 * listening on port 3000 of its own loopback; deployments are built on
 * them. ---- */
struct sbx_service_info;

/* sbx_sandbox_create, for the deployment `owner` (NULL: none): never
 * deleted for idleness (the deployment scales it down instead), and its
 * service's output goes to the owner's live logs too. */
int sbx_sandbox_create_owned(struct sbx_objects *o, struct sbx_rpc_call *call,
			     const Sbx__CreateSandboxRequest *req, const char *owner,
			     Sbx__Sandbox **ret);
/* Delete a deployment's sandbox (sbx_sandbox_delete refuses: -EBUSY). */
int sbx_sandbox_delete_owned(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id);
/* At load: sandbox `id` belongs to the deployment `owner`. -ENOENT. */
int sbx_sandbox_set_owned(struct sbx_objects *o, const char *id, const char *owner);
/* Start the process unless it runs, wait for its port (up to the
 * configured SERVICE_READY_TIMEOUT_MS, less if wait_ms or the call's
 * deadline say so), and give the path of
 * its forwarder socket (heap). -ENOENT, -EBUSY (not persistent),
 * -ETIMEDOUT, -ECONNREFUSED (it ended: call->error says how). */
int sbx_sandbox_open_proxy(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			   uint32_t wait_ms, char **ret_socket);
/* Stop and start the process again (hot reload of a deployment). */
int sbx_sandbox_restart(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id);
/* Stop the process (scale to zero); the next open_proxy starts it.
 * -ENOENT. */
int sbx_sandbox_stop(struct sbx_objects *o, const char *id);
/* The process's state; -ENOENT when id is not a persistent sandbox. */
int sbx_sandbox_service_info(struct sbx_objects *o, const char *id, struct sbx_service_info *ret);
/* Write files into the workspace (the checks of UploadFiles); tells
 * whether package.json was among them (dependencies are then installed
 * again at the next start). */
int sbx_sandbox_write_files(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			    Sbx__File **files, size_t n, bool *ret_package_json);
/* After start-up (live logs ready): start the processes of persistent
 * sandboxes that ran when the daemon stopped. */
void sbx_sandboxes_start_services(struct sbx_objects *o);
/* Shutdown, before the live logs go: stop every process, leaving the
 * store as it was so the next start brings them back. */
void sbx_sandboxes_stop_services(struct sbx_objects *o);
#endif
