/* Internal to the sandboxes (sandbox.c, persistent.c): the object and the
 * pieces both halves use. Not for other modules: they go through
 * sandbox_obj.h. */
#ifndef SBX_SANDBOX_INT_H
#define SBX_SANDBOX_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "kind.h"
#include "registry.h"
#include "sandbox_obj.h"

struct sbx_service;

struct sbx_sandbox {
	struct sbx_obj obj;
	/* Set at creation, then read-only. */
	char *runtime, *entry_point;
	Sbx__SandboxMode mode;
	uint32_t timeout_ms, memory_limit_mb;
	bool install_deps, dev_server, network;
	struct sbx_env env;
	char *dir, *workspace;
	struct sbx_objects *o;
	/* Persistent sandboxes: the long-running process (service.h),
	 * started at creation, on execute and by proxied requests. */
	struct sbx_service *svc;

	/* Guarded by obj.lock. */
	Sbx__SandboxState state; /* changed by sbx_sandbox_transition() alone */
	char *note;		 /* why the state is what it is, or NULL */
	int64_t last_used_ms;
	uint32_t executions;
	int32_t exit_code;
	/* The workspace holds the installed packages: a fact of its files
	 * (a new package.json undoes it) that outlives every state. */
	bool deps_installed;
	bool owned;	/* a deployment's: it decides when to stop, never idle expiry */
	char owner[64]; /* that deployment's id: its service logs there too */
};

/* Move s to state `to` with its note (NULL: none), and write it back: the
 * one way a sandbox's state changes. Call with s->obj.lock held. A
 * persistent sandbox whose process the daemon's shutdown ends is not
 * written back: the store keeps "running", so that the next start brings
 * the process back. */
int sbx_sandbox_transition(struct sbx_objects *o, struct sbx_sandbox *s, Sbx__SandboxState to,
			   const char *note);
/* A new reference to sandbox `id`, or NULL with call->error set and
 * *ret_err the errno (-EINVAL, -ENOENT). */
struct sbx_sandbox *sbx_sandbox_lookup(struct sbx_objects *o, struct sbx_rpc_call *call,
				       const char *id, int *ret_err);
/* The dependency installation phase (with the network): 0 and *ret NULL
 * when it succeeded or was not needed, 0 and *ret the failed result. */
int sbx_sandbox_install(struct sbx_objects *o, struct sbx_rpc_call *call, struct sbx_sandbox *s,
			Sbx__ExecResult **ret);
/* Run the entry point once (netns_fd -1) or as the service (persistent.c). */
int sbx_sandbox_run(struct sbx_objects *o, struct sbx_rpc_call *call, struct sbx_sandbox *s,
		    int netns_fd, Sbx__ExecResult **ret);
/* The ExecuteSandbox reply of a result (its output moves over). */
Sbx__SandboxExecution *sbx_sandbox_execution_reply(const char *id, Sbx__ExecResult *res);

/* persistent.c: give a persistent sandbox its (stopped) service, within
 * MAX_DEPLOYMENTS; start its process for an ExecuteSandbox. */
int sbx_sandbox_service_attach(struct sbx_objects *o, struct sbx_sandbox *s,
			       struct sbx_rpc_call *call);
int sbx_sandbox_persistent_execute(struct sbx_rpc_call *call, struct sbx_sandbox *s,
				   Sbx__SandboxExecution **ret);

#endif
