/* The daemon's state: one struct, passed explicitly to every handler, so two
 * daemons can live in one process (tests over inproc://). */
#ifndef SBX_DAEMON_H
#define SBX_DAEMON_H

#include <stdint.h>

#include "daemon_config.h"
#include "rpc/rpc_server.h"

struct sbx_admin;
struct sbx_events;
struct sbx_exec_metrics;
struct sbx_executor;
struct sbx_history;
struct sbx_judge0;
struct sbx_logs;
struct sbx_node;
struct sbx_objects;
struct sbx_tunnel;

struct sbx_daemon {
	struct sbx_config cfg;
	struct sbx_rpc_server *rpc;
	struct sbx_events *events;
	struct sbx_executor *exec;   /* owned by main: created before any thread */
	/* Sandboxes, sessions, the state store and the idle sweeper; opened
	 * by sbx_daemon_start when there is a backend (exec), else NULL. */
	struct sbx_objects *objects;
	/* The execution history and audit log (with objects: it uses their
	 * store), and the admin API's state (always: it holds the log ring
	 * that is the log sink while the daemon runs). */
	struct sbx_history *history;
	struct sbx_admin *admin;
	/* Judge0 submissions (daemon/judge0/): with objects, in their store. */
	struct sbx_judge0 *judge0;
	/* Live output lines per object (daemon/logs/), published on events. */
	struct sbx_logs *logs;
	/* This node's load sources (node.h) and its proxy tunnel (NULL:
	 * --tunnel is off). */
	struct sbx_node *node;
	struct sbx_tunnel *tunnel;
	/* Executions counted for GetMetrics (history/exec_metrics.h), fed
	 * by the executor's observer; NULL without a backend. */
	struct sbx_exec_metrics *metrics;
	uint64_t started_ms;     /* CLOCK_MONOTONIC */
};

/* The RPC handler table of the daemon (rpc/handlers.c). */
extern const struct sbx_rpc_handler sbx_daemon_handlers[];
extern const size_t sbx_daemon_n_handlers;

/* Start serving RPC and events for a daemon whose cfg is loaded. */
int sbx_daemon_start(struct sbx_daemon *d);
/* Stop serving, waiting at most grace_ms for in-flight RPCs. */
void sbx_daemon_stop(struct sbx_daemon *d, unsigned grace_ms);

#endif
