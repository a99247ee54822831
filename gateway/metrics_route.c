/* GET /metrics: the gateway's own families, then every node's figures
 * from GetMetrics (proto/admin.proto NodeMetrics), each family once with
 * a sample per node labelled node="<id>". Nodes a cluster's fan-out
 * missed show sandboxd_up 0; a call that failed altogether leaves only
 * the gateway's families and sandbox_gateway_daemon_up 0, still a 200:
 * a scrape must not fail because a daemon is down. Without the API key
 * the daemon wants, 401 like every other route. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin.pb-c.h"
#include "gw_server.h"
#include "metrics.h"
#include "respond.h"
#include "rpc_handler.h"
#include "status.h"

/* A large cluster with many label combinations stays well under this. */
#define METRICS_MAX_BYTES (8u << 20)

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A per-node field of NodeMetrics written as one family. */
struct node_field {
	const char *name, *type, *help;
	double (*get)(const Sbx__NodeMetrics *n);
};

#define GETTER(fn, expr)                                                                           \
	static double fn(const Sbx__NodeMetrics *n)                                                \
	{                                                                                          \
		return (double)(expr);                                                             \
	}
GETTER(get_running, n->running)
GETTER(get_queued, n->queued)
GETTER(get_slots, n->slots)
GETTER(get_rejected, n->rejected)
GETTER(get_rings, n->log_rings)
GETTER(get_ring_bytes, n->log_ring_bytes)
GETTER(get_dropped, n->log_dropped_bytes)
GETTER(get_rss, n->resident_memory_bytes)
GETTER(get_fds, n->open_fds)
GETTER(get_cpu, n->cpu_seconds)
GETTER(get_start, n->start_time_seconds)

static const struct node_field node_fields[] = {
	{"sandboxd_executions_running", "gauge", "Executions running now.", get_running},
	{"sandboxd_executions_queued", "gauge", "Executions waiting for a slot now.", get_queued},
	{"sandboxd_execution_slots", "gauge",
	 "Executions that may run at once "
	 "(MAX_CONCURRENT_EXECUTIONS).",
	 get_slots},
	{"sandboxd_executions_rejected_total", "counter",
	 "Executions refused by admission "
	 "(queue full, deadline passed while queued).",
	 get_rejected},
	{"sandboxd_log_rings", "gauge", "Live-log rings the daemon holds now.", get_rings},
	{"sandboxd_log_ring_bytes", "gauge", "Bytes of text in the live-log rings.",
	 get_ring_bytes},
	{"sandboxd_log_dropped_bytes_total", "counter",
	 "Executions' output bytes the live-log "
	 "rings could not keep.",
	 get_dropped},
	{"sandboxd_process_resident_memory_bytes", "gauge",
	 "Resident memory size of the daemon "
	 "in bytes.",
	 get_rss},
	{"sandboxd_process_open_fds", "gauge", "Open file descriptors of the daemon.", get_fds},
	{"sandboxd_process_cpu_seconds_total", "counter",
	 "User and system CPU time of the "
	 "daemon in seconds.",
	 get_cpu},
	{"sandboxd_process_start_time_seconds", "gauge",
	 "Start time of the daemon since the "
	 "epoch in seconds.",
	 get_start},
};

static const struct {
	const char *name, *help;
} latencies[] = {
	{"queue_wait", "Time executions waited for a slot, in seconds."},
	{"setup", "Time executions held a slot outside the program (sandbox creation, "
		  "workspace, teardown), in seconds."},
	{"run", "The programs' own wall time (a compile step's included), in seconds."},
	{"request", "Whole execution requests in the daemon, checks and queue included, in "
		    "seconds."},
};

/* Sbx__WarmPool's fields, one family each, labelled node and kind. */
#define POOL_GETTER(fn, expr)                                                                      \
	static double fn(const Sbx__WarmPool *w)                                                   \
	{                                                                                          \
		return (double)(expr);                                                             \
	}
POOL_GETTER(pool_size, w->size)
POOL_GETTER(pool_ready, w->ready)
POOL_GETTER(pool_in_use, w->in_use)
POOL_GETTER(pool_built, w->built)
POOL_GETTER(pool_taken, w->taken)
POOL_GETTER(pool_misses, w->misses)
POOL_GETTER(pool_failed, w->failed)
POOL_GETTER(pool_memory, w->memory_kb * 1024)

static const struct {
	const char *name, *type, *help;
	double (*get)(const Sbx__WarmPool *w);
} pool_fields[] = {
	{"sandboxd_warm_pool_size", "gauge", "Pre-built sandboxes configured per pool.", pool_size},
	{"sandboxd_warm_pool_ready", "gauge", "Pre-built sandboxes waiting for a request.",
	 pool_ready},
	{"sandboxd_warm_pool_in_use", "gauge", "Executions running in a pre-built sandbox now.",
	 pool_in_use},
	{"sandboxd_warm_pool_built_total", "counter", "Pre-built sandboxes built.", pool_built},
	{"sandboxd_warm_pool_taken_total", "counter",
	 "Executions that started in a pre-built "
	 "sandbox (hits).",
	 pool_taken},
	{"sandboxd_warm_pool_misses_total", "counter",
	 "Fitting executions that found the pool "
	 "empty.",
	 pool_misses},
	{"sandboxd_warm_pool_failed_total", "counter",
	 "Pre-built sandbox builds or takes that "
	 "failed.",
	 pool_failed},
	{"sandboxd_warm_pool_memory_bytes", "gauge",
	 "Cgroup memory of the ready pre-built "
	 "sandboxes in bytes.",
	 pool_memory},
};

static void write_executions(const Sbx__MetricsReply *r, struct gw_prom *p)
{
	static const char name[] = "sandboxd_executions_total";

	gw_prom_family(p, name, "counter",
		       "Execution requests since the daemon started, by kind (run, execute, "
		       "sandbox, session, install), language (a runtime, or other) and status "
		       "(ok, runtime_error, time_limit, ...; invalid, rejected, error: refused "
		       "or failed before a result).");
	for (size_t i = 0; i < r->n_nodes; i++)
		for (size_t j = 0; j < r->nodes[i]->n_executions; j++) {
			const Sbx__ExecutionCount *c = r->nodes[i]->executions[j];
			struct gw_prom_label l[4] = {{"node", r->nodes[i]->node},
						     {"kind", c->kind},
						     {"language", c->language},
						     {"status", c->status}};

			gw_prom_sample(p, name, l, 4, (double)c->count);
		}
}

/* A histogram that the daemon sent in a shape it promised (counts one
 * longer than bounds); others are skipped rather than misread. */
static void write_latency(const Sbx__MetricsReply *r, size_t k, struct gw_prom *p)
{
	char name[96];

	snprintf(name, sizeof(name), "sandboxd_execution_%s_seconds", latencies[k].name);
	gw_prom_family(p, name, "histogram", latencies[k].help);
	for (size_t i = 0; i < r->n_nodes; i++)
		for (size_t j = 0; j < r->nodes[i]->n_latency; j++) {
			const Sbx__MetricsHistogram *h = r->nodes[i]->latency[j];
			struct gw_prom_label l[1] = {{"node", r->nodes[i]->node}};

			if (strcmp(h->name, latencies[k].name) != 0 ||
			    h->n_counts != h->n_bounds + 1)
				continue;
			gw_prom_histogram(p, name, l, 1, h->bounds, h->counts, h->n_bounds, h->sum);
		}
}

static void write_objects(const Sbx__MetricsReply *r, struct gw_prom *p)
{
	static const char name[] = "sandboxd_objects";

	gw_prom_family(p, name, "gauge",
		       "Objects that exist now, by kind (sandbox, session, deployment) and state "
		       "(creating, live).");
	for (size_t i = 0; i < r->n_nodes; i++)
		for (size_t j = 0; j < r->nodes[i]->n_objects; j++) {
			const Sbx__ObjectCount *c = r->nodes[i]->objects[j];
			struct gw_prom_label l[3] = {{"node", r->nodes[i]->node},
						     {"kind", c->kind},
						     {"state", c->state}};

			gw_prom_sample(p, name, l, 3, c->count);
		}
}

static void write_pools(const Sbx__MetricsReply *r, struct gw_prom *p)
{
	for (size_t f = 0; f < sizeof(pool_fields) / sizeof(pool_fields[0]); f++) {
		gw_prom_family(p, pool_fields[f].name, pool_fields[f].type, pool_fields[f].help);
		for (size_t i = 0; i < r->n_nodes; i++)
			for (size_t j = 0; j < r->nodes[i]->n_warm_pools; j++) {
				const Sbx__WarmPool *w = r->nodes[i]->warm_pools[j];
				struct gw_prom_label l[2] = {{"node", r->nodes[i]->node},
							     {"kind", w->kind}};

				gw_prom_sample(p, pool_fields[f].name, l, 2, pool_fields[f].get(w));
			}
	}
}

/* sandboxd_up: 1 per node that answered, 0 per node the fan-out missed
 * (partial: comma-separated names). */
static void write_up(const Sbx__MetricsReply *r, const char *partial, struct gw_prom *p)
{
	char name[SBX_PARTIAL_MAX];

	gw_prom_family(p, "sandboxd_up", "gauge",
		       "Whether the node answered this scrape's GetMetrics (1) or not (0).");
	for (size_t i = 0; i < r->n_nodes; i++) {
		struct gw_prom_label l[1] = {{"node", r->nodes[i]->node}};

		gw_prom_sample(p, "sandboxd_up", l, 1, 1);
	}
	for (const char *s = partial; s && *s;) {
		size_t n = strcspn(s, ",");
		struct gw_prom_label l[1] = {{"node", name}};

		snprintf(name, sizeof(name), "%.*s", (int)n, s);
		if (n)
			gw_prom_sample(p, "sandboxd_up", l, 1, 0);
		s += n + (s[n] == ',');
	}
}

static void write_nodes(const Sbx__MetricsReply *r, const char *partial, struct gw_prom *p)
{
	write_up(r, partial, p);
	write_executions(r, p);
	for (size_t k = 0; k < sizeof(latencies) / sizeof(latencies[0]); k++)
		write_latency(r, k, p);
	for (size_t f = 0; f < sizeof(node_fields) / sizeof(node_fields[0]); f++) {
		gw_prom_family(p, node_fields[f].name, node_fields[f].type, node_fields[f].help);
		for (size_t i = 0; i < r->n_nodes; i++) {
			struct gw_prom_label l[1] = {{"node", r->nodes[i]->node}};

			gw_prom_sample(p, node_fields[f].name, l, 1,
				       node_fields[f].get(r->nodes[i]));
		}
	}
	write_objects(r, p);
	write_pools(r, p);
}

static void text_free(void *data)
{
	free(data);
}

static int metrics_done(struct gw_server *srv, struct gw_request *req)
{
	const Sbx__MetricsReply *r = (const Sbx__MetricsReply *)req->reply.msg;
	struct MHD_Response *resp;
	struct sbx_buf out;
	struct gw_prom p;
	bool ok;
	char *text;
	size_t len;
	int err;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	/* The figures need the API key the daemon asks for, the gateway's
	 * own too: a scraper without it is told so, not shown a half. */
	if (err == 0 && (req->reply.status == SBX_UNAUTHENTICATED ||
			 req->reply.status == SBX_PERMISSION_DENIED))
		return gw_rpc_respond_call_failure(req);
	ok = err == 0 && req->reply.status == SBX_OK && r &&
	     r->base.descriptor == &sbx__metrics_reply__descriptor;
	sbx_buf_init(&out, METRICS_MAX_BYTES);
	gw_prom_init(&p, &out);
	gw_metrics_write_gateway(srv, &p);
	gw_prom_family(&p, "sandbox_gateway_daemon_up", "gauge",
		       "Whether the daemon (any node, in cluster mode) answered this scrape's "
		       "GetMetrics.");
	gw_prom_sample(&p, "sandbox_gateway_daemon_up", NULL, 0, ok);
	if (ok)
		write_nodes(r, req->partial, &p);
	if (p.err < 0) {
		sbx_buf_fini(&out);
		return gw_respond_error(req, 500, NULL, "the metrics could not be written: %s",
					strerror(-p.err));
	}
	text = sbx_buf_steal(&out, &len);
	resp = MHD_create_response_from_buffer_with_free_callback(len, text, text_free);
	if (!resp) {
		free(text);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	return gw_respond_response(req, 200, resp);
}

int gw_metrics_handler(struct gw_server *srv, struct gw_request *req)
{
	Sbx__GetMetricsRequest msg = SBX__GET_METRICS_REQUEST__INIT;

	return gw_rpc_start(srv, req, "GetMetrics", &msg.base, metrics_done);
}
