#include "backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon_config.h"
#include "docker.h"
#include "engine.h"
#include "log.h"
#include "gvisor.h"
#include "nsjail.h"
#include "runner.h"

struct native {
	struct sbx_engine *engine;
	uid_t uid;
	gid_t gid;
};

static int native_open(const struct sbx_config *cfg, void **ret_state)
{
	struct sbx_engine_config ec;
	struct native *n;
	char dir[4096];
	int r;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	sbx_engine_config_init(&ec);
	snprintf(dir, sizeof(dir), "%s/engine", cfg->state_dir);
	ec.state_dir = dir;
	ec.max_concurrent = cfg->max_concurrent;
	ec.warm_pool = cfg->warm_pool;
	ec.warm_pool_python = cfg->warm_pool_python;
	ec.warm_pool_node = cfg->warm_pool_node;
	ec.netns_reuse = cfg->netns_reuse;
	ec.cgroup = (enum sbx_cgroup_pref)sbx_config_cgroup_pref(cfg);
	n->uid = ec.host_uid;
	n->gid = ec.host_gid;
	r = sbx_engine_new(&ec, &n->engine);
	if (r < 0) {
		free(n);
		return r;
	}
	if (!sbx_engine_memory_enforced(n->engine)) {
		const char *mode = sbx_engine_cgroup_mode(n->engine);

		if (!cfg->allow_unlimited_memory) {
			log_error("no memory cgroup controller can hold the sandboxes to their memory "
				  "limit (cgroup %s): run sandboxd where it has one (cgroup v1's "
				  "memory hierarchy writable, or v2 with memory delegated, e.g. "
				  "systemd's Delegate=yes), or set SANDBOX_ALLOW_UNLIMITED_MEMORY=true "
				  "to run without memory limits",
				  mode);
			sbx_engine_free(n->engine);
			free(n);
			return -EPERM;
		}
		log_warn("memory limits are NOT enforced (no memory cgroup controller, cgroup %s; "
			 "SANDBOX_ALLOW_UNLIMITED_MEMORY=true): any sandbox may use all the host's "
			 "memory",
			 mode);
	}
	*ret_state = n;
	return 0;
}

static void native_close(void *state)
{
	struct native *n = state;

	if (!n)
		return;
	sbx_engine_free(n->engine);
	free(n);
}

static int native_run(void *state, const Sbx__SpawnRequest *req, Sbx__ExecResult **ret)
{
	return sbx_engine_run(((struct native *)state)->engine, req, ret);
}

static int native_run_cancellable(void *state, const Sbx__SpawnRequest *req, struct sbx_engine_cancel *t,
				  Sbx__ExecResult **ret)
{
	return sbx_engine_run_cancellable(((struct native *)state)->engine, req, t, ret);
}

static int native_run_stream(void *state, const Sbx__SpawnRequest *req, struct sbx_engine_cancel *t,
			     struct sbx_engine_stream *s, Sbx__ExecResult **ret)
{
	return sbx_engine_run_stream(((struct native *)state)->engine, req, t, s, ret);
}

static int native_warm_pools(void *state, Sbx__WarmPool ***ret, size_t *ret_n)
{
	return sbx_engine_warm_pools(((struct native *)state)->engine, ret, ret_n);
}

static int native_own_workspace(void *state, const char *dir)
{
	struct native *n = state;

	return chown(dir, n->uid, n->gid) < 0 ? -errno : 0;
}

static const char *native_describe(void *state)
{
	const char *mode = sbx_engine_cgroup_mode(((struct native *)state)->engine);

	return strcmp(mode, "v2") == 0 ? "native (cgroup v2)"
	       : strcmp(mode, "v1") == 0 ? "native (cgroup v1)"
					 : "native (no cgroups)";
}

static const struct sbx_backend_ops backends[] = {
	{ "native", native_open, native_close, native_run, native_own_workspace, native_describe,
	  native_run_cancellable, native_run_stream, native_warm_pools },
	/* No cancel yet: an admin force-stop of their executions answers
	 * EOPNOTSUPP (the wall-time limit still ends them). No pools: each
	 * execution is a container, an nsjail or a runsc process of its own. */
	{ "docker", sbx_docker_open, sbx_docker_close, sbx_docker_run, sbx_docker_own_workspace,
	  sbx_docker_describe, NULL, NULL, NULL },
	{ "nsjail", sbx_nsjail_open, sbx_nsjail_close, sbx_nsjail_run, sbx_runner_own_workspace,
	  sbx_runner_describe, NULL, NULL, NULL },
	{ "gvisor", sbx_gvisor_open, sbx_gvisor_close, sbx_gvisor_run, sbx_runner_own_workspace,
	  sbx_runner_describe, NULL, NULL, NULL },
};

const struct sbx_backend_ops *sbx_backend_find(const char *name)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(backends); i++)
		if (strcmp(backends[i].name, name) == 0)
			return &backends[i];
	return NULL;
}

const char *sbx_backend_names(void) { return "native, docker, nsjail, gvisor"; }
