/* Sessions (seed opensandbox-README.md): a workspace, a /tmp, an
 * environment and a working directory kept across runs, each run a fresh
 * sandbox over them. Expire after cfg->session_idle_s without use.
 *
 * Same conventions as sandbox_obj.h: 0 or a negative errno with call->error
 * (-EINVAL, -ENOENT, -EAGAIN "too many sessions"); heap replies. */
#ifndef SBX_SESSION_OBJ_H
#define SBX_SESSION_OBJ_H

#include "api.pb-c.h"
#include "objects.h"
#include "rpc_server.h"

int sbx_session_create(struct sbx_objects *o, struct sbx_rpc_call *call,
		       const Sbx__CreateSessionRequest *req, Sbx__Session **ret);
int sbx_session_get(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id,
		    Sbx__Session **ret);
int sbx_session_list(struct sbx_objects *o, struct sbx_rpc_call *call,
		     Sbx__ListSessionsReply **ret);
/* Runs in flight keep the files until they return. */
int sbx_session_delete(struct sbx_objects *o, struct sbx_rpc_call *call, const char *id);
/* Blocking. Runs of one session may overlap; they share its files. */
int sbx_session_run(struct sbx_objects *o, struct sbx_rpc_call *call,
		    const Sbx__SessionRunRequest *req, Sbx__ExecResult **ret);
int sbx_session_set_env(struct sbx_objects *o, struct sbx_rpc_call *call,
			const Sbx__SetSessionEnvRequest *req, Sbx__Session **ret);
int sbx_session_set_cwd(struct sbx_objects *o, struct sbx_rpc_call *call,
			const Sbx__SetSessionCwdRequest *req, Sbx__Session **ret);

#endif
