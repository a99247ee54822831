/* Isolation backends behind one ops table (SANDBOX_BACKEND). `native` is
 * the engine of daemon/sandbox/; docker and nsjail plug in as more rows. */
#ifndef SBX_BACKEND_H
#define SBX_BACKEND_H

#include "admin.pb-c.h"
#include "api.pb-c.h"
#include "engine.pb-c.h"

struct sbx_config;
struct sbx_engine_cancel;
struct sbx_engine_stream;

struct sbx_backend_ops {
	const char *name;
	/* Set up; called before the daemon starts any thread. 0 or -errno. */
	int (*open)(const struct sbx_config *cfg, void **ret_state);
	void (*close)(void *state);
	/* Blocking, thread-safe: run one execution. Same contract as
	 * sbx_engine_run (daemon/sandbox/include/engine.h). */
	int (*run)(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret);
	/* Make a host directory usable as a workspace (SpawnRequest.workspace)
	 * by the sandbox user: chown to the id it maps to. */
	int (*own_workspace)(void *state, const char *dir);
	/* A short description for health and logs, e.g. "native (cgroup v1)". */
	const char *(*describe)(void *state);
	/* Optional (NULL: executions of this backend cannot be stopped): run
	 * like `run`, stoppable from another thread with sbx_engine_cancel(t)
	 * (daemon/sandbox/include/engine.h); a stopped run's result is STOPPED (error
	 * "stopped"). */
	int (*run_cancellable)(void *state, const Sbx__SpawnRequest *req, struct sbx_engine_cancel *t,
			       Sbx__ExecResult **ret);
	/* Optional (NULL: no live logs): run_cancellable that also hands the
	 * output to `s` as it comes (sbx_engine_run_stream). */
	int (*run_stream)(void *state, const Sbx__SpawnRequest *req, struct sbx_engine_cancel *t,
			  struct sbx_engine_stream *s, Sbx__ExecResult **ret);
	/* Optional (NULL: the backend keeps no pools of pre-built sandboxes):
	 * the pools' state, as sbx_engine_warm_pools. Bounded in time. */
	int (*warm_pools)(void *state, Sbx__WarmPool ***ret, size_t *ret_n);
};

/* The backend called `name`, or NULL. */
const struct sbx_backend_ops *sbx_backend_find(const char *name);
/* "native" etc., for error messages. */
const char *sbx_backend_names(void);

#endif
