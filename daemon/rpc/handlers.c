/* The daemon's RPC handlers: one table row per method of proto/api.proto's
 * service, one function per row. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "api.pb-c.h"
#include "cleanup.h"
#include "clock.h"
#include "daemon.h"
#include "envelope.h"
#include "executor.h"
#include "admin/admin_rpc.h"
#include "history/history_rpc.h"
#include "judge0/judge0_daemon.h"
#include "objects/objects_rpc.h"
#include "logs/getlogs.h"
#include "node.h"
#include "rpc_server.h"
#include "semver.h"

/* strdup for reply fields; NULL becomes "". */
static char *dup_field(const char *s) { return strdup(s ? s : ""); }

static int handle_health(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			 ProtobufCMessage **ret)
{
	struct sbx_daemon *d = state;
	Sbx__HealthReply *r = (Sbx__HealthReply *)sbx_message_new(&sbx__health_reply__descriptor);

	if (!r)
		return -ENOMEM;
	r->status = dup_field("ok");
	r->service = dup_field("sandbox-service");
	r->version = dup_field(SBX_VERSION);
	r->backend = dup_field(d->cfg.backend);
	r->uptime_s = (sbx_clock_mono_ms() - d->started_ms) / 1000;
	r->node = sbx_node_load(d);
	if (!r->status || !r->service || !r->version || !r->backend || !r->node) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	*ret = &r->base;
	return 0;
}

static int handle_get_config(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			     ProtobufCMessage **ret)
{
	const struct sbx_config *c = &((struct sbx_daemon *)state)->cfg;
	Sbx__ConfigReply *r = (Sbx__ConfigReply *)sbx_message_new(&sbx__config_reply__descriptor);

	if (!r)
		return -ENOMEM;
	r->backend = dup_field(c->backend);
	r->network_mode = dup_field(c->network_mode);
	r->max_execution_time = c->max_execution_time_s;
	r->max_memory_mb = c->max_memory_mb;
	r->max_concurrent_executions = c->max_concurrent;
	r->default_timeout_ms = c->default_timeout_ms;
	r->default_memory_limit_mb = c->default_memory_limit_mb;
	r->enable_audit_log = c->enable_audit_log;
	r->rate_limit_per_minute = c->rate_limit_per_minute;
	r->rate_limit_burst = c->rate_limit_burst;
	r->max_output_bytes = c->max_output_bytes;
	r->max_body_bytes = SBX_ENVELOPE_MAX;
	/* The enabled, installed languages, as GET /languages lists them. */
	struct sbx_executor *x = ((struct sbx_daemon *)state)->exec;
	struct sbx_runtimes *rts = x ? sbx_executor_runtimes(x) : NULL;
	size_t n = 0;
	while (rts && sbx_runtimes_at(rts, n))
		n++;
	r->languages = n ? calloc(n, sizeof(*r->languages)) : NULL;
	for (size_t i = 0; r->languages && i < n; i++)
		if ((r->languages[i] = strdup(sbx_runtimes_at(rts, i)->name)))
			r->n_languages++;
	if (!r->backend || !r->network_mode || r->n_languages < n) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	*ret = &r->base;
	return 0;
}

/* The executions of a daemon that has a backend (in-process test daemons
 * may run without one). */
static struct sbx_executor *exec_of(void *state, struct sbx_rpc_call *call)
{
	struct sbx_executor *x = ((struct sbx_daemon *)state)->exec;

	if (!x)
		sbx_rpc_error(call, -ESHUTDOWN, "no sandbox backend is running");
	return x;
}

static int handle_run(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
		      ProtobufCMessage **ret)
{
	struct sbx_executor *x = exec_of(state, call);

	return x ? sbx_executor_run(x, call, (const Sbx__RunRequest *)req, (Sbx__ExecResult **)ret)
		 : -ESHUTDOWN;
}

static int handle_execute(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			  ProtobufCMessage **ret)
{
	struct sbx_executor *x = exec_of(state, call);

	return x ? sbx_executor_execute(x, call, (const Sbx__ExecuteRequest *)req, (Sbx__ExecResult **)ret)
		 : -ESHUTDOWN;
}

/* Piston's `runtime`: the probe's base name when the language is not
 * named after it ("typescript" run by "bun"); "" otherwise. */
static const char *language_runtime(const struct sbx_runtime *rt)
{
	const char *base = strrchr(rt->probe, '/');

	base = base ? base + 1 : rt->probe;
	if (strcmp(base, rt->name) == 0)
		return "";
	for (size_t i = 0; i < SBX_ARRAY_SIZE(rt->aliases) && rt->aliases[i]; i++)
		if (strcmp(base, rt->aliases[i]) == 0)
			return "";
	return base;
}

/* The largest time and memory limits Execute accepts: the daemon's
 * maxima, and for the compile step the row's own where larger. */
static Sbx__Limits *language_max(const struct sbx_config *c, const struct sbx_runtime_limits *row)
{
	Sbx__Limits *l = (Sbx__Limits *)sbx_message_new(&sbx__limits__descriptor);
	uint64_t ms = (uint64_t)c->max_execution_time_s * 1000, kb = (uint64_t)c->max_memory_mb * 1024;

	if (!l)
		return NULL;
	l->has_cpu_time_ms = l->has_wall_time_ms = l->has_memory_kb = 1;
	l->cpu_time_ms = row && row->cpu_time_ms > ms ? row->cpu_time_ms : ms;
	l->wall_time_ms = row && row->wall_time_ms > ms ? row->wall_time_ms : ms;
	l->memory_kb = row && row->memory_kb > kb ? row->memory_kb : kb;
	return l;
}

static Sbx__Language *language_new(const struct sbx_config *c, struct sbx_runtimes *rts,
				   const struct sbx_runtime *rt)
{
	Sbx__Language *l = (Sbx__Language *)sbx_message_new(&sbx__language__descriptor);
	char semver[48];
	size_t n = 0;

	if (!l)
		return NULL;
	while (n < SBX_ARRAY_SIZE(rt->aliases) && rt->aliases[n])
		n++;
	l->name = dup_field(rt->name);
	l->version = dup_field(sbx_runtimes_version(rts, rt));
	sbx_semver_from_text(l->version, semver, sizeof(semver));
	l->semver = dup_field(semver);
	l->runtime = dup_field(language_runtime(rt));
	l->source_file = dup_field(rt->source);
	l->compiled = rt->compile[0] != NULL;
	l->max_limits = language_max(c, NULL);
	l->max_compile_limits = language_max(c, l->compiled ? &rt->compile_limits : NULL);
	l->aliases = calloc(n ? n : 1, sizeof(char *));
	if (l->aliases)
		for (; l->n_aliases < n; l->n_aliases++)
			l->aliases[l->n_aliases] = dup_field(rt->aliases[l->n_aliases]);
	if (!l->name || !l->version || !l->semver || !l->runtime || !l->source_file ||
	    !l->aliases || !l->max_limits || !l->max_compile_limits) {
		protobuf_c_message_free_unpacked(&l->base, NULL);
		return NULL;
	}
	return l;
}

static int handle_list_languages(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
				 ProtobufCMessage **ret)
{
	struct sbx_executor *x = exec_of(state, call);
	Sbx__ListLanguagesReply *r;
	const struct sbx_runtime *rt;
	struct sbx_runtimes *rts;
	size_t n = 0;

	if (!x)
		return -ESHUTDOWN;
	rts = sbx_executor_runtimes(x);
	r = (Sbx__ListLanguagesReply *)sbx_message_new(&sbx__list_languages_reply__descriptor);
	if (!r)
		return -ENOMEM;
	while (sbx_runtimes_at(rts, n))
		n++;
	r->languages = calloc(n ? n : 1, sizeof(*r->languages));
	for (size_t i = 0; r->languages && (rt = sbx_runtimes_at(rts, i)); i++) {
		r->languages[i] = language_new(&((struct sbx_daemon *)state)->cfg, rts, rt);
		if (!r->languages[i])
			break;
		r->n_languages++;
	}
	if (r->n_languages < n) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	*ret = &r->base;
	return 0;
}

const struct sbx_rpc_handler sbx_daemon_handlers[] = {
	{ "Health", handle_health, SBX_RPC_INLINE | SBX_RPC_PUBLIC },
	{ "GetConfig", handle_get_config, SBX_RPC_INLINE },
	{ "Run", handle_run, 0 },
	{ "Execute", handle_execute, 0 },
	/* Not inline: the first call asks each runtime for its version. */
	{ "ListLanguages", handle_list_languages, 0 },
	/* Objects (daemon/objects/): not inline, they touch the disk. */
	{ "CreateSandbox", sbx_rpc_create_sandbox, 0 },
	{ "GetSandbox", sbx_rpc_get_sandbox, 0 },
	{ "ListSandboxes", sbx_rpc_list_sandboxes, 0 },
	{ "DeleteSandbox", sbx_rpc_delete_sandbox, 0 },
	{ "ExecuteSandbox", sbx_rpc_execute_sandbox, 0 },
	{ "UploadFiles", sbx_rpc_upload_files, 0 },
	{ "ListSandboxFiles", sbx_rpc_list_sandbox_files, 0 },
	{ "DownloadSandboxFile", sbx_rpc_download_sandbox_file, 0 },
	{ "CreateSession", sbx_rpc_create_session, 0 },
	{ "GetSession", sbx_rpc_get_session, 0 },
	{ "ListSessions", sbx_rpc_list_sessions, 0 },
	{ "DeleteSession", sbx_rpc_delete_session, 0 },
	{ "SessionRun", sbx_rpc_session_run, 0 },
	{ "SetSessionEnv", sbx_rpc_set_session_env, 0 },
	{ "SetSessionCwd", sbx_rpc_set_session_cwd, 0 },
	{ "ListSessionFiles", sbx_rpc_list_session_files, 0 },
	{ "DownloadSessionFile", sbx_rpc_download_session_file, 0 },
	/* History and admin (daemon/history/, daemon/admin/): not inline,
	 * they read the store, /proc or a workspace. */
	{ "ListExecutions", sbx_rpc_list_executions, 0 },
	{ "GetExecution", sbx_rpc_get_execution, 0 },
	{ "GetStats", sbx_rpc_get_stats, 0 },
	{ "AdminStatus", sbx_rpc_admin_status, 0 },
	{ "AdminListSandboxes", sbx_rpc_admin_list_sandboxes, 0 },
	{ "AdminGetSandbox", sbx_rpc_admin_get_sandbox, 0 },
	{ "AdminForceStop", sbx_rpc_admin_force_stop, 0 },
	{ "AdminSandboxResources", sbx_rpc_admin_sandbox_resources, 0 },
	{ "AdminLogs", sbx_rpc_admin_logs, 0 },
	{ "AdminSandboxLogs", sbx_rpc_admin_sandbox_logs, 0 },
	/* Live logs (daemon/logs/): memory only. */
	{ "GetLogs", sbx_rpc_get_logs, SBX_RPC_INLINE },
	{ "Deploy", sbx_rpc_deploy, 0 },
	{ "GetDeployment", sbx_rpc_get_deployment, 0 },
	{ "ListDeployments", sbx_rpc_list_deployments, 0 },
	{ "UpdateDeploymentFiles", sbx_rpc_update_deployment_files, 0 },
	{ "DeleteDeployment", sbx_rpc_delete_deployment, 0 },
	{ "OpenProxy", sbx_rpc_open_proxy, 0 },
	/* Judge0 submissions (daemon/judge0/): the store. */
	{ "Judge0Submit", sbx_rpc_judge0_submit, 0 },
	{ "Judge0Get", sbx_rpc_judge0_get, 0 },
	{ "Judge0List", sbx_rpc_judge0_list, 0 },
	{ "Judge0Delete", sbx_rpc_judge0_delete, 0 },
	/* Reads /proc and walks the registries: not inline. */
	{ "GetMetrics", sbx_rpc_get_metrics, 0 },
};
const size_t sbx_daemon_n_handlers = SBX_ARRAY_SIZE(sbx_daemon_handlers);
