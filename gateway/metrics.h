/* GET /metrics (README "Metrics"): the gateway's own counters, and the
 * route handler that adds the daemons' figures (GetMetrics, every node's
 * in cluster mode, labelled by node) in Prometheus' text format
 * (gateway/prom.h).
 *
 * Label values stay few by construction: HTTP requests by the matched
 * row's pattern and method (a path no row matches is route="unmatched"),
 * status codes 100 to 599 (anything else, above all "no answer sent",
 * is code="0"); RPC calls by method of the method table and gRPC status
 * name (a call without an answer counts as the status its transport
 * error maps to: UNAVAILABLE, DEADLINE_EXCEEDED, ...). Lock-free: relaxed
 * atomic counters, bumped from any thread. */
#ifndef SBX_GW_METRICS_H
#define SBX_GW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "prom.h"
#include "router.h"

struct gw_server;
struct gw_request;
struct gw_metrics;

/* Counters for a table of n_routes rows. 0 and *ret, or -ENOMEM. */
int gw_metrics_new(size_t n_routes, struct gw_metrics **ret);
void gw_metrics_free(struct gw_metrics *m); /* NULL is ok */

/* One HTTP request over: its row's index (n_routes: no row), the status
 * answered (0: none) and how long it took, in µs. */
void gw_metrics_http(struct gw_metrics *m, size_t route, int status, uint64_t us);
/* One RPC over: method index (common/methods.h; out of range: ignored)
 * and the gRPC status of its answer, or the transport error err < 0. */
void gw_metrics_rpc(struct gw_metrics *m, int method, int err, int status);

/* Write the gateway's families: HTTP requests and durations by route,
 * RPC calls, live log streams and the log bytes they dropped, requests
 * in flight, and the process figures (process_*). */
void gw_metrics_write_gateway(struct gw_server *srv, struct gw_prom *p);

/* The GET /metrics handler (a gateway/router.h row). */
int gw_metrics_handler(struct gw_server *srv, struct gw_request *req);

#endif
