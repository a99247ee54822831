#include "metrics.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "gw_server.h"
#include "logstream.h"
#include "methods.h"
#include "procself.h"
#include "status.h"

/* Seconds; a health check to a long Execute. */
static const double http_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				     0.5,   1,	    2.5,   5,	 10,	30,   60};
#define N_HTTP_BOUNDS (sizeof(http_bounds) / sizeof(http_bounds[0]))

#define CODE_MIN 100
#define N_CODES 501	/* 0 (none or out of range), then 100..599 */
#define N_RPC_STATUS 17 /* gRPC's codes 0..16 */

struct route_counts {
	atomic_uint_fast64_t codes[N_CODES];
	atomic_uint_fast64_t buckets[N_HTTP_BOUNDS + 1]; /* not cumulative */
	atomic_uint_fast64_t sum_us;
};

struct gw_metrics {
	size_t n_routes;
	struct route_counts *routes; /* n_routes + 1: the last is "unmatched" */
	size_t n_methods;
	atomic_uint_fast64_t (*rpc)[N_RPC_STATUS];
};

int gw_metrics_new(size_t n_routes, struct gw_metrics **ret)
{
	struct gw_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->n_routes = n_routes;
	m->n_methods = sbx_method_count();
	/* calloc's zeros are valid initial atomics on every ABI we build for. */
	m->routes = calloc(n_routes + 1, sizeof(*m->routes));
	m->rpc = calloc(m->n_methods ? m->n_methods : 1, sizeof(*m->rpc));
	if (!m->routes || !m->rpc) {
		gw_metrics_free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

void gw_metrics_free(struct gw_metrics *m)
{
	if (!m)
		return;
	free(m->routes);
	free(m->rpc);
	free(m);
}

static void bump(atomic_uint_fast64_t *c, uint64_t by)
{
	atomic_fetch_add_explicit(c, by, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void gw_metrics_http(struct gw_metrics *m, size_t route, int status, uint64_t us)
{
	struct route_counts *rc = &m->routes[route < m->n_routes ? route : m->n_routes];
	double s = (double)us / 1e6;
	size_t i = 0;

	bump(&rc->codes[status >= CODE_MIN && status < CODE_MIN + N_CODES - 1
				? status - CODE_MIN + 1
				: 0],
	     1);
	while (i < N_HTTP_BOUNDS && s > http_bounds[i])
		i++;
	bump(&rc->buckets[i], 1);
	bump(&rc->sum_us, us);
}

void gw_metrics_rpc(struct gw_metrics *m, int method, int err, int status)
{
	int st = err < 0 ? sbx_status_from_errno(err) : status;

	if (method < 0 || (size_t)method >= m->n_methods || st < 0 || st >= N_RPC_STATUS)
		return;
	bump(&m->rpc[method][st], 1);
}

static void route_labels(const struct gw_server *srv, size_t i, struct gw_prom_label *l)
{
	l[0] = (struct gw_prom_label){"route",
				      i < srv->n_routes ? srv->routes[i].pattern : "unmatched"};
	l[1] = (struct gw_prom_label){"method", i < srv->n_routes ? srv->routes[i].method : ""};
}

static void write_http(struct gw_server *srv, struct gw_prom *p)
{
	struct gw_metrics *m = srv->metrics;
	struct gw_prom_label l[3];
	char code[8];

	gw_prom_family(p, "sandbox_gateway_http_requests_total", "counter",
		       "HTTP requests answered, by route pattern, method and status code "
		       "(code 0: none was sent).");
	for (size_t i = 0; i <= m->n_routes; i++) {
		route_labels(srv, i, l);
		for (size_t c = 0; c < N_CODES; c++) {
			uint64_t n = get(&m->routes[i].codes[c]);

			if (!n)
				continue;
			snprintf(code, sizeof(code), "%zu", c ? c - 1 + CODE_MIN : 0);
			l[2] = (struct gw_prom_label){"code", code};
			gw_prom_sample(p, "sandbox_gateway_http_requests_total", l, 3, (double)n);
		}
	}
	gw_prom_family(p, "sandbox_gateway_http_request_duration_seconds", "histogram",
		       "Time from a request's first byte to its completion, by route pattern "
		       "and method.");
	for (size_t i = 0; i <= m->n_routes; i++) {
		struct route_counts *rc = &m->routes[i];
		uint64_t counts[N_HTTP_BOUNDS + 1], total = 0;

		for (size_t b = 0; b <= N_HTTP_BOUNDS; b++)
			total += counts[b] = get(&rc->buckets[b]);
		if (!total)
			continue;
		route_labels(srv, i, l);
		gw_prom_histogram(p, "sandbox_gateway_http_request_duration_seconds", l, 2,
				  http_bounds, counts, N_HTTP_BOUNDS,
				  (double)get(&rc->sum_us) / 1e6);
	}
}

static void write_rpc(struct gw_metrics *m, struct gw_prom *p)
{
	gw_prom_family(p, "sandbox_gateway_rpc_calls_total", "counter",
		       "RPC calls to the daemon(s), by method and gRPC status (a call without "
		       "an answer: the status of its transport error).");
	for (size_t i = 0; i < m->n_methods; i++)
		for (int st = 0; st < N_RPC_STATUS; st++) {
			uint64_t n = get(&m->rpc[i][st]);
			struct gw_prom_label l[2] = {{"method", sbx_method_at(i)->name},
						     {"status", sbx_status_name(st)}};

			if (n)
				gw_prom_sample(p, "sandbox_gateway_rpc_calls_total", l, 2,
					       (double)n);
		}
}

static void one_sample(struct gw_prom *p, const char *name, const char *type, const char *help,
		       double v)
{
	gw_prom_family(p, name, type, help);
	gw_prom_sample(p, name, NULL, 0, v);
}

void gw_metrics_write_gateway(struct gw_server *srv, struct gw_prom *p)
{
	struct sbx_proc_self ps;
	unsigned streams = 0, in_flight;
	uint64_t dropped = 0;

	write_http(srv, p);
	write_rpc(srv->metrics, p);
	gw_logstreams_stats(srv->logs, &streams, &dropped);
	one_sample(p, "sandbox_gateway_log_streams", "gauge",
		   "Live log streams (SSE or NDJSON) open now: the daemon's log subscribers "
		   "through this gateway.",
		   streams);
	one_sample(p, "sandbox_gateway_log_dropped_bytes_total", "counter",
		   "Live log bytes dropped from a slow client's queue (refilled from the daemon's "
		   "ring where it still has them).",
		   (double)dropped);
	pthread_mutex_lock(&srv->lock);
	in_flight = srv->in_flight;
	pthread_mutex_unlock(&srv->lock);
	one_sample(p, "sandbox_gateway_http_requests_in_flight", "gauge",
		   "HTTP requests begun and not yet completed.", in_flight);
	sbx_proc_self(&ps);
	one_sample(p, "process_resident_memory_bytes", "gauge",
		   "Resident memory size of the gateway in bytes.", (double)ps.rss_bytes);
	one_sample(p, "process_open_fds", "gauge", "Open file descriptors of the gateway.",
		   ps.open_fds);
	one_sample(p, "process_cpu_seconds_total", "counter",
		   "User and system CPU time of the gateway in seconds.", ps.cpu_seconds);
	one_sample(p, "process_start_time_seconds", "gauge",
		   "Start time of the gateway since the epoch in seconds.", ps.start_time_s);
}
