/* Piston v2 (engineer-man/piston, api/src/api/v2.js): data for the mapper.
 * Its requests and the derived parts of its stage object are the
 * hand-written gateway/piston.c. Every error is {"message": ...}. */
#include "dialects.h"

#include <stddef.h>

/* GET /api/v2/runtimes: [{language, version, aliases, runtime?}], the
 * version as semver, runtime only when another program runs it. */
static const struct jpb_field_map piston_runtime_out[] = {
	{.json = "language", .path = "name"},
	{.json = "version", .path = "semver"},
	{.json = "aliases", .path = "aliases"},
	{.json = "runtime", .path = "runtime", .omit_empty = true},
	{0},
};

const struct jpb_dialect gw_dialect_piston_runtimes = {
	.name = "piston",
	.out = piston_runtime_out,
	.out_unwrap = "languages",
	.error_key = "message",
};

/* The stage object {stdout, stderr, output, code, signal, message,
 * status, cpu_time, wall_time, memory} of one ExecResult: the keys in
 * Piston's order; code, signal, message and status are Piston's
 * derivations, which gateway/piston.c writes over these. Memory is bytes. */
static const struct jpb_field_map piston_stage_out[] = {
	{.json = "stdout", .path = "stdout"},
	{.json = "stderr", .path = "stderr"},
	{.json = "output", .path = "output"},
	{.json = "code", .path = "exit_code"},
	{.json = "signal", .path = NULL},
	{.json = "message", .path = NULL},
	{.json = "status", .path = NULL},
	{.json = "cpu_time", .path = "cpu_time_ms"},
	{.json = "wall_time", .path = "wall_time_ms"},
	{.json = "memory", .path = "memory_peak_kb", .scale = 1.0 / 1024},
	{0},
};

const struct jpb_dialect gw_dialect_piston_stage = {
	.name = "piston",
	.out = piston_stage_out,
};

/* POST /api/v2/execute: its body is read by gateway/piston.c; the
 * dialect gives its errors their key. */
const struct jpb_dialect gw_dialect_piston_execute = {
	.name = "piston",
	.error_key = "message",
};
