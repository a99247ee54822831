/* The admin dialects of sandbox-service-API.md, "Admin API Endpoints": data
 * only, like gateway/dialects.c. The daemon's admin messages
 * (proto/admin.proto) already use the documented names; these fix the key
 * order, turn unset optional fields into null, unwrap the lists into bare
 * arrays and supply the documented `lines` default. */
#include <stddef.h>

#include "dialects.h"

/* "System Status". */
static const struct jpb_field_map status_out[] = {
	{.json = "uptime", .path = "uptime"},
	{.json = "active_sandboxes", .path = "active_sandboxes"},
	{.json = "total_sandboxes_created", .path = "total_sandboxes_created"},
	{.json = "backend_type", .path = "backend_type"},
	{.json = "version", .path = "version"},
	{.json = "memory_usage", .path = "memory_usage"},
	{.json = "cpu_usage", .path = "cpu_usage"},
	/* Added by cluster mode (README "Cluster"): every node and its load;
	 * the gateway adds "partial" after it. */
	{.json = "nodes", .path = "nodes"},
	/* The pools of pre-built sandboxes that are on (issue 14; README
	 * "Pre-built sandboxes"), summed by kind over the nodes. */
	{.json = "warm_pools", .path = "warm_pools"},
	{0},
};

const struct jpb_dialect gw_dialect_admin_status = {
	.name = "sandbox-service admin",
	.out = status_out,
};

/* GET /admin/api/resources, which the document names in its admin page
 * but does not show: the host's part of "System Status". */
static const struct jpb_field_map host_resources_out[] = {
	{.json = "memory_usage", .path = "memory_usage"},
	{.json = "cpu_usage", .path = "cpu_usage"},
	{0},
};

const struct jpb_dialect gw_dialect_admin_host_resources = {
	.name = "sandbox-service admin",
	.out = host_resources_out,
};

/* "Get Sandbox Details (Admin)"; "List Sandboxes (Admin)" is an array of
 * the same. The "(optional)" keys are null when the sandbox has none. */
static const struct jpb_field_map sandbox_out[] = {
	{.json = "id", .path = "id"},
	{.json = "status", .path = "status"},
	{.json = "runtime", .path = "runtime"},
	{.json = "created_at", .path = "created_at"},
	{.json = "uptime", .path = "uptime"},
	{.json = "memory_mb", .path = "memory_mb"},
	{.json = "cpu_percentage", .path = "cpu_percentage"},
	{.json = "dev_server_url", .path = "dev_server_url", .zero_is_null = true},
	{.json = "allocated_port", .path = "allocated_port", .zero_is_null = true},
	{.json = "is_persistent", .path = "is_persistent"},
	{.json = "container_id", .path = "container_id", .zero_is_null = true},
	GW_NODE_FIELD,
	{0},
};

const struct jpb_dialect gw_dialect_admin_sandbox = {
	.name = "sandbox-service admin",
	.out = sandbox_out,
};

const struct jpb_dialect gw_dialect_admin_sandboxes = {
	.name = "sandbox-service admin",
	.out = sandbox_out,
	.out_unwrap = "sandboxes",
};

/* "Force Stop Sandbox". */
static const struct jpb_field_map force_stop_out[] = {
	{.json = "success", .path = "success"},
	{.json = "message", .path = "message"},
	{0},
};

const struct jpb_dialect gw_dialect_admin_force_stop = {
	.name = "sandbox-service admin",
	.out = force_stop_out,
};

/* "Get Sandbox Resources": four nested objects, printed canonically. */
static const struct jpb_field_map resources_out[] = {
	{.json = "memory", .path = "memory"},
	{.json = "cpu", .path = "cpu"},
	{.json = "disk", .path = "disk"},
	{.json = "network", .path = "network"},
	{0},
};

const struct jpb_dialect gw_dialect_admin_resources = {
	.name = "sandbox-service admin",
	.out = resources_out,
};

/* "Get Sandbox Logs" and "Get System Logs": sandbox_id is "(optional)" in
 * the system log, null on lines about no sandbox. */
static const struct jpb_field_map log_line_out[] = {
	{.json = "timestamp", .path = "timestamp"},
	{.json = "level", .path = "level"},
	{.json = "message", .path = "message"},
	{.json = "sandbox_id", .path = "sandbox_id", .zero_is_null = true},
	{0},
};

const struct jpb_dialect gw_dialect_admin_logs = {
	.name = "sandbox-service admin",
	.out = log_line_out,
	.out_unwrap = "lines",
	.defaults = "{\"lines\": 100}",
};
