/* The seeds' JSON dialects served by the gateway: data for the one mapper
 * (common/json_pb.h), referenced by rows of the route table. Each names the
 * seed document it follows. */
#ifndef SBX_GW_DIALECTS_H
#define SBX_GW_DIALECTS_H

#include "json_pb.h"

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

#endif
