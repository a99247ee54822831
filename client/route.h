/* Where each RPC method goes in a cluster (private to libsandbox): one row
 * per method of proto/api.proto's service, and the call state machine that
 * sends a call to its node(s), retries or searches, and merges fan-out
 * answers (client/merge.c). README "Cluster" has the rules in prose. */
#ifndef SBX_ROUTE_H
#define SBX_ROUTE_H

#include <stddef.h>

#include "cluster.h"
#include "methods.h"

enum route_kind {
	ROUTE_DIRECT,  /* a client of one daemon: that daemon, as before clusters */
	ROUTE_ANY,     /* any up node, rotating */
	ROUTE_SPREAD,  /* the up node with the most free execution slots; retried once */
	ROUTE_PLACE,   /* the up node holding the fewest objects; retried once */
	ROUTE_BY_ID,   /* the node whose tag begins the id in field id_field */
	ROUTE_FANOUT,  /* every up node; answers merged by `merge` */
};

enum merge_rule {
	MERGE_NONE,
	MERGE_CONCAT,      /* repeated fields concatenated, in node order */
	MERGE_EXECUTIONS,  /* newest first by started_at, cut at limit */
	MERGE_ADMIN_LOGS,  /* oldest first by timestamp, the newest `lines` kept */
	MERGE_STATS,       /* counters summed, average weighted, uptime max, nodes */
	MERGE_STATUS,      /* counts and usage summed, percentages again, nodes */
};

struct sbx_route {
	const char *method;
	enum route_kind kind;
	const char *id_field;      /* ROUTE_BY_ID: a string field of the request */
	enum merge_rule merge;     /* ROUTE_FANOUT */
};

/* The row of a method, or NULL (a method without a row is a bug: the unit
 * test walks the service descriptor). */
const struct sbx_route *sbx_route_find(const char *method);
size_t sbx_route_count(void);
const struct sbx_route *sbx_route_at(size_t i);
/* The kind's name ("SPREAD", ...), for tests and messages. */
const char *sbx_route_kind_name(enum route_kind k);

/* Start a call as sbx_call_async_opts describes (m and req checked). */
int route_call(struct sbx_client *c, const sbx_method *m, const ProtobufCMessage *req,
	       const struct sbx_call_opts *o, sbx_call_cb cb, void *arg);

#endif
