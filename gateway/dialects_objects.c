/* The dialects of the stateful objects: sandboxes (sandbox-service-API.md),
 * sessions (opensandbox-README.md) and the execution history
 * (sandbox-executor-README.md). Data only, like gateway/dialects.c. The
 * daemon's object messages (proto/objects.proto, admin.proto) already use
 * the documented names, so most of these only fix the key order, leave out
 * bookkeeping fields and unwrap lists into bare arrays. */
#include <stddef.h>

#include "dialects.h"

/* "Create Sandbox", "Get Sandbox Info" and "List Sandboxes": exactly the
 * documented keys. timeout_ms and memory_limit_mb are the daemon's
 * effective values: a request that leaves them out gets the daemon's
 * defaults (SANDBOX_TIMEOUT_MS, SANDBOX_MEMORY_MB: 30000 and 256 as
 * shipped, the document's defaults), so an operator's configuration is
 * not overridden by a second copy of them here. */
static const struct jpb_field_map sandbox_out[] = {
	{.json = "id", .path = "id"},
	{.json = "status", .path = "status"},
	{.json = "runtime", .path = "runtime"},
	{.json = "created_at", .path = "created_at"},
	{.json = "timeout_ms", .path = "timeout_ms"},
	{.json = "memory_limit_mb", .path = "memory_limit_mb"},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_service_sandbox = {
	.name = "sandbox-service",
	.out = sandbox_out,
	.defaults = "{\"mode\": \"oneshot\"}",
};

const struct jpb_dialect gw_dialect_service_sandboxes = {
	.name = "sandbox-service",
	.out = sandbox_out,
	.out_unwrap = "sandboxes",
};

/* "Execute Code", plus `error` (gateway/SEED-DIFFERENCES.md): null on
 * success, else the daemon's sentence saying why ("exited with code 1",
 * "sandbox set-up failed: …"). */
static const struct jpb_field_map execution_out[] = {
	{.json = "sandbox_id", .path = "sandbox_id"},
	{.json = "success", .path = "success"},
	{.json = "stdout", .path = "stdout"},
	{.json = "stderr", .path = "stderr"},
	{.json = "exit_code", .path = "exit_code"},
	{.json = "execution_time_ms", .path = "execution_time_ms"},
	{.json = "error", .path = "error", .zero_is_null = true},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_service_execute = {
	.name = "sandbox-service",
	.out = execution_out,
};

/* "Upload Files": the body is a bare array of {path, content,
 * is_executable}; the reply {message, sandbox_id}. */
static const struct jpb_field_map upload_out[] = {
	{.json = "message", .path = "message"},
	{.json = "sandbox_id", .path = "sandbox_id"},
	{0},
};

const struct jpb_dialect gw_dialect_service_upload = {
	.name = "sandbox-service",
	.out = upload_out,
	.in_wrap = "files",
};

/* OpenSandbox "POST /sessions": `# Returns: {"session_id": "uuid..."}`. */
static const struct jpb_field_map session_id_out[] = {
	{.json = "session_id", .path = "session_id"},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_opensandbox_session_create = {
	.name = "opensandbox",
	.out = session_id_out,
};

/* GET /sessions: the README shows no body; a bare array of session
 * objects, like the sandbox-service lists. */
const struct jpb_dialect gw_dialect_opensandbox_sessions = {
	.name = "opensandbox",
	.out_unwrap = "sessions",
};

/* "POST /sessions/:id/run": the /run request without `cwd` (the session
 * has one), the same units and "Configuration Options" defaults, the same
 * reply. SessionRunRequest already calls the argv `command`. */
static const struct jpb_field_map session_run_in[] = {
	{.json = "time", .path = "limits.cpu_time_ms"},
	{.json = "mem", .path = "limits.memory_kb"},
	{.json = "fsize", .path = "limits.fsize_kb"},
	{.json = "nofile", .path = "limits.nofile"},
	{0},
};

const struct jpb_dialect gw_dialect_opensandbox_session_run = {
	.name = "opensandbox",
	.in = session_run_in,
	.out = gw_opensandbox_run_out,
	.defaults = OPENSANDBOX_DEFAULTS,
};

/* "Execution History": the README shows no body. One execution in the
 * vocabulary of its POST /api/v1/execute reply (status words,
 * execution_time_ms, memory_used_mb), plus what the history adds. */
/* clang-format off */
#define HISTORY_FIELDS                                                        \
	{.json = "execution_id", .path = "execution_id"},                     \
	{.json = "language", .path = "language"},                             \
	{.json = "status", .path = "status", .enums = gw_exec_status_words},  \
	{.json = "exit_code", .path = "exit_code"},                           \
	{.json = "signal", .path = "signal", .zero_is_null = true},           \
	{.json = "execution_time_ms", .path = "execution_time_ms"},           \
	{.json = "memory_used_mb", .path = "memory_peak_kb", .scale = 1024},  \
	{.json = "started_at", .path = "started_at"},                         \
	{.json = "client", .path = "client"},                                 \
	{.json = "kind", .path = "kind"},                                     \
	{.json = "object_id", .path = "object_id", .zero_is_null = true}
/* clang-format on */

static const struct jpb_field_map history_out[] = {
	HISTORY_FIELDS,
	GW_NODE_FIELD,
	{0},
};

/* One execution: also what it printed (the history keeps it, capped). */
static const struct jpb_field_map history_execution_out[] = {
	HISTORY_FIELDS,
	{.json = "stdout", .path = "stdout"},
	{.json = "stderr", .path = "stderr"},
	{.json = "compile_output", .path = "compile_output"},
	{.json = "stdout_truncated", .path = "stdout_truncated"},
	{.json = "stderr_truncated", .path = "stderr_truncated"},
	{.json = "compile_output_truncated", .path = "compile_output_truncated"},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_executor_execution = {
	.name = "sandbox-executor",
	.out = history_execution_out,
};

const struct jpb_dialect gw_dialect_executor_executions = {
	.name = "sandbox-executor",
	.out = history_out,
	.out_unwrap = "executions",
};

/* FaaS (sandbox-service-API.md, "FaaS/Serverless API"): "Deploy
 * Function", "List Deployments" and "Get Deployment Info" all answer the
 * documented seven keys; dev_server and restart_dev_server default to
 * true as documented. */
static const struct jpb_field_map deployment_out[] = {
	{.json = "deployment_id", .path = "deployment_id"},
	{.json = "url", .path = "url"},
	{.json = "sandbox_id", .path = "sandbox_id"},
	{.json = "status", .path = "status"},
	{.json = "created_at", .path = "created_at"},
	{.json = "runtime", .path = "runtime"},
	{.json = "memory_mb", .path = "memory_mb"},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_faas_deploy = {
	.name = "sandbox-service",
	.out = deployment_out,
	.defaults = "{\"dev_server\": true}",
};

const struct jpb_dialect gw_dialect_faas_deployment = {
	.name = "sandbox-service",
	.out = deployment_out,
};

const struct jpb_dialect gw_dialect_faas_deployments = {
	.name = "sandbox-service",
	.out = deployment_out,
	.out_unwrap = "deployments",
};

const struct jpb_dialect gw_dialect_faas_update_files = {
	.name = "sandbox-service",
	.defaults = "{\"restart_dev_server\": true}",
};
