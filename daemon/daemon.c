#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "clock.h"
#include "events.h"
#include "executor.h"
#include "ipc.h"
#include "history/exec_metrics.h"
#include "history/history.h"
#include "judge0/judge0_daemon.h"
#include "log.h"
#include "node.h"
#include "logs/logs.h"
#include "objects/objects.h"
#include "objects/sandbox_obj.h"
#include "rpc/rpc_server.h"
#include "tunnel/tunnel.h"

/* The executor's observer: every execution request goes to the history
 * (rows, counters, audit log), to the admin API's view of sandboxes and
 * to the metrics. A command's argv[0] is any string a client sent: the
 * metrics count it as "other" unless it names an installed runtime, so
 * that their label values stay few. */
static void observe(void *arg, const struct sbx_exec_report *rep)
{
	struct sbx_daemon *d = arg;
	const struct sbx_runtime *rt = sbx_runtimes_find(sbx_executor_runtimes(d->exec),
							 rep->language);

	if (d->history)
		sbx_history_record(d->history, rep);
	sbx_admin_record(d->admin, rep);
	if (d->metrics)
		sbx_exec_metrics_record(d->metrics, rep, rt ? rt->name : "other");
}

/* Whether RPCs still hold the objects (the server gave up waiting for
 * them): then what they use is left to the process exit. */
static bool objects_busy(struct sbx_objects *o)
{
	bool busy;

	if (!o)
		return false;
	pthread_mutex_lock(&o->lock);
	busy = o->in_flight > 0;
	pthread_mutex_unlock(&o->lock);
	return busy;
}

/* The proxy tunnel, when asked: after the objects (their proxy dir) and
 * before RPC, so that every OpenProxy reply has its port. */
static int tunnel_start(struct sbx_daemon *d)
{
	char *dir = NULL;
	int r;

	if (!*d->cfg.tunnel_url)
		return 0;
	if (d->objects)
		dir = strdup(d->objects->proxy_dir);
	else if (*d->cfg.proxy_dir)
		dir = strdup(d->cfg.proxy_dir);
	else if (asprintf(&dir, "%s/proxy", d->cfg.state_dir) < 0)
		dir = NULL;
	if (!dir)
		return -ENOMEM;
	r = sbx_tunnel_start(&(struct sbx_tunnel_opts){.url = d->cfg.tunnel_url,
						       .proxy_dir = dir,
						       .key = d->cfg.cluster_key},
			     &d->tunnel);
	free(dir);
	if (r == 0)
		log_info("proxy tunnel on %s (port %u)", d->cfg.tunnel_url,
			 sbx_tunnel_port(d->tunnel));
	return r;
}

static int logs_start(struct sbx_daemon *d)
{
	struct sbx_logs_limits lim = {
		.max_rings = d->cfg.logs_max_rings,
		.ring_lines = d->cfg.logs_ring_lines,
		.ring_bytes = d->cfg.logs_ring_bytes,
	};
	int r = sbx_logs_new(&lim, d->events, &d->logs);

	if (r == 0 && d->exec)
		sbx_executor_set_logs(d->exec, d->logs);
	return r;
}

/* Before the events close: executions still running (the RPC server
 * gave up waiting for them) keep writing to the rings, unpublished, and
 * the rings are then left to the process exit. */
static void logs_stop(struct sbx_daemon *d)
{
	if (d->exec)
		sbx_executor_set_logs(d->exec, NULL);
	sbx_logs_detach_events(d->logs);
	if (d->logs && sbx_logs_writers(d->logs) == 0)
		sbx_logs_free(d->logs);
	d->logs = NULL;
}

int sbx_daemon_start(struct sbx_daemon *d)
{
	struct sbx_rpc_server_opts o = {
		.url = d->cfg.rpc_url,
		.contexts = d->cfg.rpc_contexts,
		.workers = d->cfg.rpc_workers,
		.api_key = d->cfg.api_key,
		.cluster_key = d->cfg.cluster_key,
		.node_id = d->cfg.node_id,
		.handlers = sbx_daemon_handlers,
		.n_handlers = sbx_daemon_n_handlers,
		.state = d,
	};
	int r;

	d->started_ms = (uint64_t)sbx_clock_mono_ms();
	d->node = sbx_node_new();
	if (!d->node)
		return -ENOMEM;
	/* The log ring first, so that it has the start-up lines. */
	r = sbx_admin_new(&d->cfg, &d->admin);
	if (r < 0)
		goto fail;
	/* Objects next: the first RPC may already ask for them. */
	if (d->exec) {
		r = sbx_objects_open(&d->cfg, d->exec, &d->objects);
		if (r < 0)
			goto fail;
		r = sbx_history_open(&d->cfg, d->objects->store, &d->history);
		if (r < 0)
			goto fail;
		r = sbx_exec_metrics_new(&d->metrics);
		if (r < 0)
			goto fail;
		sbx_executor_set_observer(d->exec, observe, d);
		r = sbx_judge0_open(&d->cfg, d->exec, d->objects->store, &d->judge0);
		if (r < 0)
			goto fail;
	}
	r = sbx_events_open(d->cfg.events_url, &d->events);
	if (r < 0)
		goto fail;
	r = logs_start(d);
	if (r < 0)
		goto fail_events;
	r = tunnel_start(d);
	if (r < 0)
		goto fail_events;
	r = sbx_rpc_server_start(&o, &d->rpc);
	if (r < 0)
		goto fail_events;
	if ((r = sbx_ipc_share(d->cfg.rpc_url, d->cfg.socket_gid)) < 0 ||
	    (r = sbx_ipc_share(d->cfg.events_url, d->cfg.socket_gid)) < 0)
		log_error("cannot hand the sockets to group %s: %s (only root may connect)",
			 d->cfg.socket_group, strerror(-r));
	if (d->objects)
		sbx_sandboxes_start_services(d->objects);
	return 0;
fail_events:
	sbx_tunnel_stop(d->tunnel);
	d->tunnel = NULL;
	logs_stop(d);
	sbx_events_close(d->events);
	d->events = NULL;
fail:
	if (d->exec)
		sbx_executor_set_observer(d->exec, NULL, NULL);
	sbx_judge0_close(d->judge0);
	d->judge0 = NULL;
	sbx_history_close(d->history);
	d->history = NULL;
	sbx_exec_metrics_free(d->metrics);
	d->metrics = NULL;
	sbx_objects_close(d->objects);
	d->objects = NULL;
	sbx_admin_free(d->admin);
	d->admin = NULL;
	sbx_node_free(d->node);
	d->node = NULL;
	return r;
}

void sbx_daemon_stop(struct sbx_daemon *d, unsigned grace_ms)
{
	bool busy;

	sbx_rpc_server_stop(d->rpc, grace_ms);
	d->rpc = NULL;
	/* No RPC left to queue more: the workers end their current run. */
	sbx_judge0_close(d->judge0);
	d->judge0 = NULL;
	/* Before the services: its connections end at their forwarders. */
	sbx_tunnel_stop(d->tunnel);
	d->tunnel = NULL;
	/* Services write to the live logs until they are stopped. */
	if (d->objects)
		sbx_sandboxes_stop_services(d->objects);
	logs_stop(d);
	sbx_events_close(d->events);
	d->events = NULL;
	/* Waits for observer calls in progress; later ones see none. */
	if (d->exec)
		sbx_executor_set_observer(d->exec, NULL, NULL);
	sbx_history_close(d->history);
	d->history = NULL;
	busy = objects_busy(d->objects);
	sbx_objects_close(d->objects);
	d->objects = NULL;
	if (!busy) {
		sbx_admin_free(d->admin);
		sbx_node_free(d->node);
		sbx_exec_metrics_free(d->metrics);
	}
	d->metrics = NULL;
	d->admin = NULL;
	d->node = NULL;
}
