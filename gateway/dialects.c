/* Seed dialects: data only. Field maps end with a {0} row; enum alias
 * lists end with { NULL, NULL }. Units follow the seed documents. */
#include "dialects.h"

#include <stddef.h>

/* sandbox-service-API.md, "Health Check". */
static const struct jpb_field_map service_health_out[] = {
	{.json = "status", .path = "status"},
	{.json = "service", .path = "service"},
	{.json = "version", .path = "version"},
	{0},
};

const struct jpb_dialect gw_dialect_service_health = {
	.name = "sandbox-service",
	.out = service_health_out,
};

/* sandbox-executor-README.md, "Health Check": the executor says "healthy"
 * where the daemon says "ok". `status` is a string field: this alias asks
 * the mapper to respell its value (see gateway/SEED-DIFFERENCES.md). */
static const struct jpb_enum_alias executor_health_status[] = {
	{"healthy", "ok"},
	{"unhealthy", NULL},
	{NULL, NULL},
};

static const struct jpb_field_map executor_health_out[] = {
	{.json = "status", .path = "status", .enums = executor_health_status},
	{.json = "version", .path = "version"},
	{.json = "uptime_seconds", .path = "uptime_s"},
	{.json = "backend", .path = "backend"},
	{0},
};

const struct jpb_dialect gw_dialect_executor_health = {
	.name = "sandbox-executor",
	.out = executor_health_out,
};

/* The result status in the words of the execution seeds (executor and
 * codesandbox alike): a timeout is either limit; a non-zero exit, a signal
 * and an internal failure are all "error", the `error` field says which. */
const struct jpb_enum_alias gw_exec_status_words[] = {
	{"success", "EXEC_STATUS_OK"},
	{"timeout", "EXEC_STATUS_WALL_TIME_LIMIT"},
	{"timeout", "EXEC_STATUS_TIME_LIMIT"},
	{"memory_limit", "EXEC_STATUS_MEMORY_LIMIT"},
	{"output_limit", "EXEC_STATUS_OUTPUT_LIMIT"},
	{"error", NULL},
	{NULL, NULL},
};

/* `timeout` in seconds of wall time: both execution seeds. */
static const struct jpb_field_map timeout_seconds_in[] = {
	{.json = "timeout", .path = "limits.wall_time_ms", .scale = 1000},
	{0},
};

/* sandbox-executor-README.md, "Test 1": {code, language, timeout (s)} in,
 * {execution_id, status, stdout, stderr, execution_time_ms, memory_used_mb,
 * exit_code, error} out. */
static const struct jpb_field_map executor_execute_out[] = {
	{.json = "execution_id", .path = "execution_id"},
	{.json = "status", .path = "status", .enums = gw_exec_status_words},
	{.json = "stdout", .path = "stdout"},
	{.json = "stderr", .path = "stderr"},
	{.json = "execution_time_ms", .path = "wall_time_ms"},
	{.json = "memory_used_mb", .path = "memory_peak_kb", .scale = 1024},
	{.json = "exit_code", .path = "exit_code"},
	{.json = "error", .path = "error", .zero_is_null = true},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_executor_execute = {
	.name = "sandbox-executor",
	.in = timeout_seconds_in,
	.out = executor_execute_out,
};

/* codesandbox-rust-README.md, "Execute Code": {language, code, timeout (s)}
 * in. The seed shows no reply; ours (gateway/SEED-DIFFERENCES.md) is the
 * executor's vocabulary without its bookkeeping fields. */
static const struct jpb_field_map codesandbox_execute_out[] = {
	{.json = "stdout", .path = "stdout"},
	{.json = "stderr", .path = "stderr"},
	{.json = "exit_code", .path = "exit_code"},
	{.json = "status", .path = "status", .enums = gw_exec_status_words},
	{.json = "execution_time_ms", .path = "wall_time_ms"},
	{.json = "error", .path = "error", .zero_is_null = true},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_codesandbox_execute = {
	.name = "codesandbox",
	.in = timeout_seconds_in,
	.out = codesandbox_execute_out,
};

/* codesandbox-rust-README.md, "Get Supported Languages": a bare array, one
 * object per installed language. */
static const struct jpb_field_map codesandbox_language_out[] = {
	{.json = "name", .path = "name"},	  {.json = "version", .path = "version"},
	{.json = "aliases", .path = "aliases"},	  {.json = "source_file", .path = "source_file"},
	{.json = "compiled", .path = "compiled"}, {0},
};

const struct jpb_dialect gw_dialect_codesandbox_languages = {
	.name = "codesandbox",
	.out = codesandbox_language_out,
	.out_unwrap = "languages",
};

/* opensandbox-README.md, "Stateless Execution" and "Configuration Options":
 * time is CPU ms, mem and fsize are KiB, with that table's defaults. */
static const struct jpb_field_map opensandbox_run_in[] = {
	{.json = "command", .path = "argv"},	     {.json = "time", .path = "limits.cpu_time_ms"},
	{.json = "mem", .path = "limits.memory_kb"}, {.json = "fsize", .path = "limits.fsize_kb"},
	{.json = "nofile", .path = "limits.nofile"}, {0},
};

/* The reply has no error field: a run that could not start (the program
 * never ran, so wrote nothing) shows the daemon's sentence as its stderr. */
const struct jpb_field_map gw_opensandbox_run_out[] = {
	{.json = "stdout", .path = "stdout"},
	{.json = "stderr",
	 .path = "stderr",
	 .or_path = "error",
	 .or_when = "status=EXEC_STATUS_INTERNAL_ERROR"},
	{.json = "exit_code", .path = "exit_code"},
	{.json = "signal", .path = "signal", .zero_is_null = true},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_opensandbox_run = {
	.name = "opensandbox",
	.in = opensandbox_run_in,
	.out = gw_opensandbox_run_out,
	.defaults = OPENSANDBOX_DEFAULTS,
};
