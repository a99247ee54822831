/* GetMetrics: one NodeMetrics of this daemon (proto/admin.proto), the
 * figures of the gateway's GET /metrics. Objects are optional: without a
 * backend (in-process test daemons) the executions, objects and pools are
 * simply empty, the process figures still there. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.pb-c.h"
#include "daemon.h"
#include "envelope.h"
#include "exec_metrics.h"
#include "executor.h"
#include "history_rpc.h"
#include "logs/logs.h"
#include "objects.h"
#include "procself.h"
#include "registry.h"

static const char *const phase_words[] = {
	[SBX_OBJ_NEW] = "creating",
	[SBX_OBJ_LIVE] = "live",
	[SBX_OBJ_GONE] = "deleted",
};
#define N_PHASES (sizeof(phase_words) / sizeof(phase_words[0]))

/* Append one ObjectCount per state of a kind that has objects. */
static int count_objects(Sbx__NodeMetrics *r, const char *kind, struct sbx_registry *reg)
{
	unsigned n[N_PHASES] = {0};
	struct sbx_obj **list = NULL;
	size_t len = 0;
	int rv = sbx_registry_list(reg, &list, &len);

	if (rv < 0)
		return rv;
	for (size_t i = 0; i < len; i++) {
		pthread_mutex_lock(&list[i]->lock);
		if ((size_t)list[i]->phase < N_PHASES)
			n[list[i]->phase]++;
		pthread_mutex_unlock(&list[i]->lock);
	}
	sbx_registry_list_free(list, len);
	for (size_t p = 0; p < N_PHASES; p++) {
		Sbx__ObjectCount *c;

		if (!n[p])
			continue;
		c = (Sbx__ObjectCount *)sbx_message_new(&sbx__object_count__descriptor);
		if (!c)
			return -ENOMEM;
		r->objects[r->n_objects++] = c;
		c->kind = strdup(kind);
		c->state = strdup(phase_words[p]);
		c->count = n[p];
		if (!c->kind || !c->state)
			return -ENOMEM;
	}
	return 0;
}

/* With the objects entered. */
static int fill_objects(struct sbx_daemon *d, struct sbx_objects *o, Sbx__NodeMetrics *r)
{
	int rv;

	r->objects = calloc(3 * N_PHASES, sizeof(*r->objects));
	if (!r->objects)
		return -ENOMEM;
	rv = count_objects(r, "sandbox", o->sandboxes);
	if (rv == 0)
		rv = count_objects(r, "session", o->sessions);
	if (rv == 0)
		rv = count_objects(r, "deployment", o->deployments);
	if (rv == 0 && d->metrics)
		rv = sbx_exec_metrics_fill(d->metrics, r);
	return rv;
}

static void fill_process(struct sbx_daemon *d, Sbx__NodeMetrics *r)
{
	struct sbx_proc_self ps;
	struct sbx_logs_stats ls = {0};

	sbx_proc_self(&ps);
	r->resident_memory_bytes = ps.rss_bytes;
	r->open_fds = ps.open_fds;
	r->cpu_seconds = ps.cpu_seconds;
	r->start_time_seconds = ps.start_time_s;
	if (d->logs)
		sbx_logs_stats(d->logs, &ls);
	r->log_rings = (uint32_t)ls.rings;
	r->log_ring_bytes = ls.bytes;
}

static int node_metrics(struct sbx_daemon *d, Sbx__NodeMetrics **ret)
{
	Sbx__NodeMetrics *r = (Sbx__NodeMetrics *)sbx_message_new(&sbx__node_metrics__descriptor);
	struct sbx_executor_stats xs = {0};
	struct sbx_objects *o = d->objects;
	int rv = 0;

	if (!r)
		return -ENOMEM;
	r->node = strdup(d->cfg.node_id ? d->cfg.node_id : "");
	if (!r->node)
		rv = -ENOMEM;
	if (rv == 0 && d->exec) {
		sbx_executor_stats(d->exec, &xs);
		rv = sbx_executor_warm_pools(d->exec, &r->warm_pools, &r->n_warm_pools);
	}
	r->running = xs.running;
	r->queued = xs.queued;
	r->slots = d->cfg.max_concurrent;
	r->rejected = xs.rejected;
	if (rv == 0 && o && sbx_objects_enter(o) == 0) {
		rv = fill_objects(d, o, r);
		sbx_objects_leave(o);
	}
	fill_process(d, r);
	if (rv < 0) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return rv;
	}
	*ret = r;
	return 0;
}

SBX_HISTORY_HANDLER(sbx_rpc_get_metrics)
{
	struct sbx_daemon *d = state;
	Sbx__MetricsReply *r =
		(Sbx__MetricsReply *)sbx_message_new(&sbx__metrics_reply__descriptor);
	int rv;

	(void)call;
	(void)req;
	if (!r)
		return -ENOMEM;
	r->nodes = calloc(1, sizeof(*r->nodes));
	rv = r->nodes ? node_metrics(d, &r->nodes[0]) : -ENOMEM;
	if (rv < 0) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return rv;
	}
	r->n_nodes = 1;
	*ret = &r->base;
	return 0;
}
