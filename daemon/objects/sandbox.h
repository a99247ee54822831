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
#include "server.h"

int sbx_sandbox_create(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__CreateSandboxRequest *req, Sbx__Sandbox **ret);
int sbx_sandbox_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		    Sbx__Sandbox **ret);
int sbx_sandbox_list(struct sbx_objects *o, struct sbx_rpc_call *call,
		     Sbx__ListSandboxesReply **ret);
/* A running sandbox is unlinked at once; its workspace goes when the
 * execution returns. */
int sbx_sandbox_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id);
/* Blocking: installs dependencies first when asked and not yet done. */
int sbx_sandbox_execute(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
			Sbx__SandboxExecution **ret);
int sbx_sandbox_upload(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__UploadFilesRequest *req, Sbx__UploadFilesReply **ret);

/* Start-up: load every stored sandbox. */
int sbx_sandboxes_load(struct sbx_objects *o);
/* Delete sandboxes not running and idle longer than cfg->sandbox_idle_s. */
void sbx_sandboxes_sweep(struct sbx_objects *o, int64_t now_ms);

#endif
