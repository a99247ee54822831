/* Seed dialects: data only. Field maps end with a { NULL } row; enum alias
 * lists end with { NULL, NULL }. Units follow the seed documents. */
#include "dialects.h"

#include <stddef.h>

/* sandbox-service-API.md, "Health Check". */
static const struct jpb_field_map service_health_out[] = {
	{.json = "status", .path = "status"},
	{.json = "service", .path = "service"},
	{.json = "version", .path = "version"},
	{NULL},
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
	{NULL},
};

const struct jpb_dialect gw_dialect_executor_health = {
	.name = "sandbox-executor",
	.out = executor_health_out,
};

/* sandbox-executor-README.md, "Test 1": {code, language, timeout (s)} in,
 * {execution_id, status, stdout, stderr, execution_time_ms, memory_used_mb,
 * exit_code, error} out. */
static const struct jpb_field_map executor_execute_in[] = {
	{.json = "timeout", .path = "limits.wall_time_ms", .scale = 1000},
	{NULL},
};

static const struct jpb_enum_alias executor_exec_status[] = {
	{"success", "EXEC_STATUS_OK"},
	{"timeout", "EXEC_STATUS_WALL_TIME_LIMIT"},
	{"timeout", "EXEC_STATUS_TIME_LIMIT"},
	{"memory_limit", "EXEC_STATUS_MEMORY_LIMIT"},
	{"error", NULL},
	{NULL, NULL},
};

static const struct jpb_field_map executor_execute_out[] = {
	{.json = "execution_id", .path = "execution_id"},
	{.json = "status", .path = "status", .enums = executor_exec_status},
	{.json = "stdout", .path = "stdout"},
	{.json = "stderr", .path = "stderr"},
	{.json = "execution_time_ms", .path = "wall_time_ms"},
	{.json = "memory_used_mb", .path = "memory_peak_kb", .scale = 1024},
	{.json = "exit_code", .path = "exit_code"},
	{.json = "error", .path = "error", .zero_is_null = true},
	{NULL},
};

const struct jpb_dialect gw_dialect_executor_execute = {
	.name = "sandbox-executor",
	.in = executor_execute_in,
	.out = executor_execute_out,
};

/* opensandbox-README.md, "Stateless Execution" and "Configuration Options":
 * time is CPU ms, mem and fsize are KiB. */
static const struct jpb_field_map opensandbox_run_in[] = {
	{.json = "command", .path = "argv"},	     {.json = "time", .path = "limits.cpu_time_ms"},
	{.json = "mem", .path = "limits.memory_kb"}, {.json = "fsize", .path = "limits.fsize_kb"},
	{.json = "nofile", .path = "limits.nofile"}, {NULL},
};

static const struct jpb_field_map opensandbox_run_out[] = {
	{.json = "stdout", .path = "stdout"},
	{.json = "stderr", .path = "stderr"},
	{.json = "exit_code", .path = "exit_code"},
	{.json = "signal", .path = "signal", .zero_is_null = true},
	{NULL},
};

const struct jpb_dialect gw_dialect_opensandbox_run = {
	.name = "opensandbox",
	.in = opensandbox_run_in,
	.out = opensandbox_run_out,
};
