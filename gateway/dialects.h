/* The seeds' JSON dialects served by the gateway: data for the one mapper
 * (common/json_pb.h), referenced by rows of the route table. Each names the
 * seed document it follows. */
#ifndef SBX_GW_DIALECTS_H
#define SBX_GW_DIALECTS_H

#include "json_pb.h"

/* The result status in the words of the execution seeds, as in the
 * executor's POST /api/v1/execute; its execution history speaks them too. */
extern const struct jpb_enum_alias gw_exec_status_words[];
/* OpenSandbox's /run reply, {stdout, stderr, exit_code, signal}: the
 * sessions' run (dialects_objects.c) answers with it too. */
extern const struct jpb_field_map gw_opensandbox_run_out[];
/* OpenSandbox's "Configuration Options" defaults, for /run and the
 * sessions' run alike. */
#define OPENSANDBOX_DEFAULTS "{\"time\": 5000, \"mem\": 2097152, \"fsize\": 10240, \"nofile\": 64}"
/* The last key of every object and execution result: the node that holds
 * or ran it (README "Cluster"), after the seed's documented keys, which
 * keep their names and order. */
/* clang-format off */
#define GW_NODE_FIELD {.json = "node", .path = "node"}
/* clang-format on */

/* sandbox-service API: GET /health is exactly {status, service, version}. */
extern const struct jpb_dialect gw_dialect_service_health;
/* sandbox-executor: GET /api/v1/health, {status: "healthy", version,
 * uptime_seconds, backend}. */
extern const struct jpb_dialect gw_dialect_executor_health;
/* sandbox-executor: POST /api/v1/execute, timeout in seconds in; the
 * documented result object out. */
extern const struct jpb_dialect gw_dialect_executor_execute;
/* codesandbox-rust: POST /execute, {language, code, timeout (s)} in;
 * {stdout, stderr, exit_code, status, execution_time_ms, error} out. */
extern const struct jpb_dialect gw_dialect_codesandbox_execute;
/* codesandbox-rust: GET /languages, a bare array of {name, version, aliases,
 * source_file, compiled}. */
extern const struct jpb_dialect gw_dialect_codesandbox_languages;
/* OpenSandbox: POST /run, {command, time, mem, fsize, nofile, env, cwd} in,
 * with the seed's defaults; {stdout, stderr, exit_code, signal} out. */
extern const struct jpb_dialect gw_dialect_opensandbox_run;

/* sandbox-service admin API (gateway/dialects_admin.c): the "Admin API
 * Endpoints" of sandbox-service-API.md, each reply exactly its documented
 * keys in their order; optional ones are null when unset. */
/* GET /admin/api/status: {uptime, active_sandboxes, total_sandboxes_created,
 * backend_type ("Docker" | "Nsjail" | "Native"), version, memory_usage,
 * cpu_usage}. */
extern const struct jpb_dialect gw_dialect_admin_status;
/* GET /admin/api/resources: the host's {memory_usage, cpu_usage} of the
 * status (no RPC of its own). */
extern const struct jpb_dialect gw_dialect_admin_host_resources;
/* GET /admin/api/sandboxes: a bare array of the objects below. */
extern const struct jpb_dialect gw_dialect_admin_sandboxes;
/* GET /admin/api/sandboxes/{id}: {id, status, runtime, created_at, uptime,
 * memory_mb, cpu_percentage, dev_server_url, allocated_port, is_persistent,
 * container_id}. */
extern const struct jpb_dialect gw_dialect_admin_sandbox;
/* POST /admin/api/sandboxes/{id}/force-stop: {success, message}. */
extern const struct jpb_dialect gw_dialect_admin_force_stop;
/* GET /admin/api/sandboxes/{id}/resources: {memory, cpu, disk, network}. */
extern const struct jpb_dialect gw_dialect_admin_resources;
/* GET /admin/api/logs and /admin/api/sandboxes/{id}/logs, ?lines=N
 * (default 100): a bare array of {timestamp, level, message, sandbox_id}. */
extern const struct jpb_dialect gw_dialect_admin_logs;

/* The stateful objects (gateway/dialects_objects.c). */
/* sandbox-service POST /sandbox, GET /sandbox/{id}: {id, status, runtime,
 * created_at, timeout_ms, memory_limit_mb}; GET /sandboxes: a bare array of
 * the same. */
extern const struct jpb_dialect gw_dialect_service_sandbox;
extern const struct jpb_dialect gw_dialect_service_sandboxes;
/* POST /sandbox/{id}/execute: {sandbox_id, success, stdout, stderr,
 * exit_code, execution_time_ms}. */
extern const struct jpb_dialect gw_dialect_service_execute;
/* POST /sandbox/{id}/files: a bare array of {path, content, is_executable}
 * in; {message, sandbox_id} out. */
extern const struct jpb_dialect gw_dialect_service_upload;
/* OpenSandbox POST /sessions: {session_id} out. */
extern const struct jpb_dialect gw_dialect_opensandbox_session_create;
/* OpenSandbox GET /sessions: a bare array of session objects. */
extern const struct jpb_dialect gw_dialect_opensandbox_sessions;
/* OpenSandbox POST /sessions/{id}/run: POST /run's units, defaults and
 * reply. */
extern const struct jpb_dialect gw_dialect_opensandbox_session_run;
/* sandbox-executor GET /api/v1/executions/{id}: one history entry; GET
 * /api/v1/executions: a bare array of them, newest first. */
extern const struct jpb_dialect gw_dialect_executor_execution;
extern const struct jpb_dialect gw_dialect_executor_executions;

/* Piston v2 (gateway/dialects_piston.c, engineer-man/piston's
 * api/src/api/v2.js); errors are {"message": ...}. */
/* GET /api/v2/runtimes: a bare array of {language, version (semver),
 * aliases, runtime (only when set)}. */
extern const struct jpb_dialect gw_dialect_piston_runtimes;
/* POST /api/v2/execute (gateway/piston.c): only the error key. */
extern const struct jpb_dialect gw_dialect_piston_execute;
/* One ExecResult as Piston's stage object; gateway/piston.c fills code,
 * signal, message and status. */
extern const struct jpb_dialect gw_dialect_piston_stage;

/* FaaS deployments (dialects_objects.c). */
extern const struct jpb_dialect gw_dialect_faas_deploy;
extern const struct jpb_dialect gw_dialect_faas_deployment;
extern const struct jpb_dialect gw_dialect_faas_deployments;
extern const struct jpb_dialect gw_dialect_faas_update_files;

#endif
