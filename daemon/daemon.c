#include "daemon.h"

#include <time.h>

#include "events.h"
#include "log.h"
#include "objects/objects.h"
#include "rpc/server.h"

int sbx_daemon_start(struct sbx_daemon *d)
{
	struct sbx_rpc_server_opts o = {
		.url = d->cfg.rpc_url,
		.contexts = d->cfg.rpc_contexts,
		.workers = d->cfg.rpc_workers,
		.api_key = d->cfg.api_key,
		.handlers = sbx_daemon_handlers,
		.n_handlers = sbx_daemon_n_handlers,
		.state = d,
	};
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->started_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	/* Objects first: the first RPC may already ask for them. */
	if (d->exec) {
		r = sbx_objects_open(&d->cfg, d->exec, &d->objects);
		if (r < 0)
			return r;
	}
	r = sbx_events_open(d->cfg.events_url, &d->events);
	if (r < 0)
		goto fail;
	r = sbx_rpc_server_start(&o, &d->rpc);
	if (r < 0) {
		sbx_events_close(d->events);
		d->events = NULL;
		goto fail;
	}
	return 0;
fail:
	sbx_objects_close(d->objects);
	d->objects = NULL;
	return r;
}

void sbx_daemon_stop(struct sbx_daemon *d, unsigned grace_ms)
{
	sbx_rpc_server_stop(d->rpc, grace_ms);
	d->rpc = NULL;
	sbx_events_close(d->events);
	d->events = NULL;
	sbx_objects_close(d->objects);
	d->objects = NULL;
}
