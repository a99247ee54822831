/* The routing of a cluster client (the table is client/route_table.c): the choice of node,
 * and one state machine per call (struct rcall) driven by the completions
 * of its hops (one request to one node each):
 *   single:  DIRECT, ANY, SPREAD, PLACE; SPREAD and PLACE take a second hop
 *            when the first node answered RESOURCE_EXHAUSTED or never
 *            accepted the request. A request that was sent is never sent
 *            again: it may have run.
 *   by id:   the owner of the id's tag, or a search over the up nodes;
 *   fan-out: every up node at once, then merge (client/merge.c);
 *            ListExecutions with `before` first asks GetExecution for that
 *            execution's time, to page the other nodes with it. */
#include "route.h"

#include <errno.h>
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.pb-c.h"
#include "api.pb-c.h"
#include "clock.h"
#include "envelope.h"
#include "merge.h"
#include "nodeid.h"
#include "status.h"

static const struct sbx_route direct = { "", ROUTE_DIRECT, NULL, MERGE_NONE };

struct rcall {
	struct sbx_client *c;
	const sbx_method *m;
	const struct sbx_route *rt;
	sbx_call_cb cb;
	void *arg;
	char *node_out, *partial_out;
	uint64_t id, deadline_mono, deadline_wall;
	void *buf;                 /* the packed envelope */
	size_t len;
	char *auth, *client;
	ProtobufCMessage *req;     /* FANOUT: a copy of the request */
	struct node *tried[CLUSTER_MAX_NODES]; /* single: hops; BY_ID: asked */
	size_t n_tried;
	bool searching;
	struct sbx_reply not_found;
	bool have_not_found;
	char refused[SBX_PARTIAL_MAX]; /* BY_ID: nodes that took nothing */
	pthread_mutex_t lock;      /* FANOUT: pending and parts */
	size_t pending;
	struct part parts[CLUSTER_MAX_NODES];
	size_t n_parts;
	char missed[SBX_PARTIAL_MAX];  /* FANOUT: nodes down at the start */
	char *le_owner, *le_started_at; /* ListExecutions paged with `before` */
	nng_aio *defer;            /* fan_finish_later */
	char sub_node[SBX_NODE_NAME_MAX];
};

struct hop {
	struct rcall *rc;
	struct node *n;
	size_t part;
};

static void append_name(char *list, size_t size, const char *name)
{
	size_t used = strlen(list), sep = used ? 1 : 0, n = strlen(name);

	if (used + sep + n >= size)
		return;
	if (sep)
		list[used] = ',';
	memcpy(list + used + sep, name, n + 1);
}

static uint32_t remaining_ms(const struct rcall *rc)
{
	uint64_t now = sbx_clock_mono_ms();

	return rc->deadline_mono > now ? (uint32_t)(rc->deadline_mono - now) : 0;
}

static void rcall_free(struct rcall *rc)
{
	if (!rc)
		return;
	sbx_reply_fini(&rc->not_found);
	for (size_t i = 0; i < rc->n_parts; i++)
		if (rc->parts[i].err == 0)
			sbx_reply_fini(&rc->parts[i].reply);
	if (rc->req)
		protobuf_c_message_free_unpacked(rc->req, NULL);
	pthread_mutex_destroy(&rc->lock);
	free(rc->buf);
	free(rc->auth);
	free(rc->client);
	free(rc->le_owner);
	free(rc->le_started_at);
	free(rc);
}

/* The call is over: one callback, then the call no longer counts. */
static void finish(struct rcall *rc, int err, struct sbx_reply *reply)
{
	struct sbx_client *c = rc->c;
	sbx_call_cb cb = rc->cb;
	void *arg = rc->arg;
	struct sbx_reply out = { 0 };

	/* The reply may live in rc (a part, the NOT_FOUND kept): take it. */
	if (err == 0 && reply) {
		out = *reply;
		*reply = (struct sbx_reply){ 0 };
	} else if (reply) {
		sbx_reply_fini(reply);
	}
	if (rc->partial_out)
		snprintf(rc->partial_out, SBX_PARTIAL_MAX, "%s", rc->missed);
	rcall_free(rc);
	cb(arg, err, err < 0 ? NULL : &out);
	pthread_mutex_lock(&c->lock);
	if (--c->calls == 0)
		pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Names longer than the room (a long address) are cut, on purpose. */
static void set_node_out(struct rcall *rc, const char *name)
{
	if (rc->node_out)
		snprintf(rc->node_out, SBX_NODE_NAME_MAX, "%.*s", SBX_NODE_NAME_MAX - 1, name);
}

/* The reply's own `node` field (a client of one daemon reports it). */
static const char *reply_node(const struct sbx_reply *r)
{
	const ProtobufCFieldDescriptor *f;

	if (!r || !r->msg)
		return NULL;
	f = protobuf_c_message_descriptor_get_field_by_name(r->msg->descriptor, "node");
	if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	return *(const char *const *)((const char *)r->msg + f->offset);
}

/* ---- choosing a node (under c->lock) ---- */

static bool tried(const struct rcall *rc, const struct node *n)
{
	for (size_t i = 0; i < rc->n_tried; i++)
		if (rc->tried[i] == n)
			return true;
	return false;
}

/* The node's slots less its load now: what other clients had on it at its
 * last Health (up to CLUSTER_POLL_MS old: its running + queued less this
 * client's calls then) plus this client's calls now, which are exact. */
static int64_t free_slots(const struct node *n)
{
	uint32_t busy = n->running + n->queued;
	uint32_t others = busy > n->in_flight_seen ? busy - n->in_flight_seen : 0;

	return (int64_t)n->slots - (int64_t)others - (int64_t)n->in_flight;
}

/* Is a better than b for the call's kind? Ties: no (the rotation wins). */
static bool better(enum route_kind k, const struct node *a, const struct node *b)
{
	if (k == ROUTE_SPREAD)
		return free_slots(a) > free_slots(b);
	if (k == ROUTE_PLACE) {
		uint64_t oa = (uint64_t)a->objects + a->pending_creates;
		uint64_t ob = (uint64_t)b->objects + b->pending_creates;

		return oa < ob || (oa == ob && a->memory_available_mb > b->memory_available_mb);
	}
	return false;
}

static struct node *pick(struct rcall *rc)
{
	struct sbx_client *c = rc->c;
	struct node *best = NULL;
	size_t start;

	if (c->n_nodes == 0)
		return NULL;
	start = c->rotor++ % c->n_nodes;
	for (size_t k = 0; k < c->n_nodes; k++) {
		struct node *n = c->nodes[(start + k) % c->n_nodes];

		if (!n->up || tried(rc, n))
			continue;
		if (!best || better(rc->rt->kind, n, best))
			best = n;
	}
	if (best)
		rc->tried[rc->n_tried++] = best;
	return best;
}

/* ---- hops ---- */

static void hop_done(void *arg, int err, bool sent, struct sbx_reply *reply);

/* The envelope for node n: the call's, or for ListExecutions paged with
 * `before` the nodes other than its owner get started_before instead. */
static int envelope_for(struct rcall *rc, const struct node *n, void **ret_buf, size_t *ret_len,
			bool *ret_own)
{
	Sbx__ListExecutionsRequest q;
	const Sbx__ListExecutionsRequest *orig = (const Sbx__ListExecutionsRequest *)rc->req;
	bool owner;

	*ret_own = false;
	if (!rc->le_started_at) {
		*ret_buf = rc->buf;
		*ret_len = rc->len;
		return 0;
	}
	pthread_mutex_lock(&rc->c->lock);
	owner = strcmp(cluster_node_name(n), rc->le_owner) == 0 ||
		strcmp(n->address, rc->le_owner) == 0;
	pthread_mutex_unlock(&rc->c->lock);
	q = *orig;
	if (!owner) {
		q.before = "";
		if (!*orig->started_before || strcmp(rc->le_started_at, orig->started_before) < 0)
			q.started_before = rc->le_started_at;
	}
	*ret_own = true;
	return cluster_pack(rc->c, rc->m->name, rc->id, rc->deadline_wall, rc->auth, rc->client,
			    &q.base, ret_buf, ret_len);
}

static void hop_count(struct rcall *rc, struct node *n, int delta)
{
	pthread_mutex_lock(&rc->c->lock);
	n->in_flight += (uint32_t)delta;
	n->refs += (uint32_t)delta;
	if (rc->rt->kind == ROUTE_PLACE)
		n->pending_creates += (uint32_t)delta;
	pthread_mutex_unlock(&rc->c->lock);
}

/* Send the call to n. 0: hop_done will run; else nothing was sent. */
static int hop_send(struct rcall *rc, struct node *n, size_t part)
{
	struct hop *h;
	void *buf;
	size_t len;
	bool own;
	int r;

	pthread_mutex_lock(&rc->c->lock);
	r = rc->c->closing ? -ECANCELED : 0;
	pthread_mutex_unlock(&rc->c->lock);
	if (r < 0)
		return r;
	if (remaining_ms(rc) == 0)
		return -ETIMEDOUT;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	*h = (struct hop){ .rc = rc, .n = n, .part = part };
	r = envelope_for(rc, n, &buf, &len, &own);
	if (r < 0) {
		free(h);
		return r;
	}
	hop_count(rc, n, 1);
	r = sbx_conn_send(n->conn, rc->m, rc->id, buf, len, remaining_ms(rc), hop_done, h);
	if (own)
		free(buf);
	if (r < 0) {
		hop_count(rc, n, -1);
		free(h);
	}
	return r;
}

/* ---- one node: DIRECT, ANY, SPREAD, PLACE ---- */

static bool retryable(const struct rcall *rc, int err, bool sent, const struct sbx_reply *reply)
{
	if (rc->rt->kind != ROUTE_SPREAD && rc->rt->kind != ROUTE_PLACE)
		return false;
	if (rc->n_tried >= 2 || remaining_ms(rc) == 0)
		return false;
	if (err < 0)
		return !sent && err != -ECANCELED;
	return reply->status == SBX_RESOURCE_EXHAUSTED;
}

/* A second node for a SPREAD or PLACE call: 0 when the hop is out. */
static int retry(struct rcall *rc)
{
	struct node *n;

	pthread_mutex_lock(&rc->c->lock);
	n = pick(rc);
	if (n)
		set_node_out(rc, cluster_node_name(n));
	pthread_mutex_unlock(&rc->c->lock);
	return n ? hop_send(rc, n, 0) : -ECONNREFUSED;
}

/* A client of one daemon polls nothing: what it reports of its node
 * (sbx_client_nodes) is what its user's Health calls said. */
static void direct_health(struct rcall *rc, int err, const struct sbx_reply *reply)
{
	const Sbx__HealthReply *h;

	if (err < 0 || reply->status != SBX_OK || strcmp(rc->m->name, "Health") != 0)
		return;
	h = (const Sbx__HealthReply *)reply->msg;
	if (!h->node)
		return;
	pthread_mutex_lock(&rc->c->lock);
	cluster_node_update(rc->c->nodes[0], h->node);
	pthread_mutex_unlock(&rc->c->lock);
}

/* name: the node's name when its hop ended (the node itself may be gone
 * from the set, and freed, by then). */
static void single_done(struct rcall *rc, const char *name, int err, bool sent,
			struct sbx_reply *reply)
{
	if (retryable(rc, err, sent, reply) && retry(rc) == 0) {
		if (err == 0)
			sbx_reply_fini(reply);
		return;
	}
	if (rc->rt->kind == ROUTE_DIRECT) {
		const char *own = err == 0 ? reply_node(reply) : NULL;

		set_node_out(rc, own && *own ? own : name);
		direct_health(rc, err, reply);
	} else {
		set_node_out(rc, name);
	}
	finish(rc, err, err == 0 ? reply : NULL);
}

static int single_start(struct rcall *rc)
{
	struct sbx_client *c = rc->c;
	struct node *n;
	int r;

	pthread_mutex_lock(&c->lock);
	if (rc->rt->kind == ROUTE_DIRECT) {
		n = c->nodes[0];
		set_node_out(rc, n->address);
		if (!sbx_conn_connected(n->conn))
			n = NULL;
	} else {
		n = pick(rc);
		if (n)
			set_node_out(rc, cluster_node_name(n));
	}
	pthread_mutex_unlock(&c->lock);
	if (!n)
		return -ECONNREFUSED;
	r = hop_send(rc, n, 0);
	if (r < 0 && retryable(rc, r, false, NULL))
		r = retry(rc);
	return r;
}

/* ---- by id ---- */

/* The id the request names, "" when none. */
static const char *request_id(const struct sbx_route *rt, const ProtobufCMessage *req)
{
	const ProtobufCFieldDescriptor *f;
	const char *id;

	if (!req)
		return "";
	f = protobuf_c_message_descriptor_get_field_by_name(req->descriptor, rt->id_field);
	if (!f || f->type != PROTOBUF_C_TYPE_STRING)
		return "";
	id = *(const char *const *)((const char *)req + f->offset);
	return id ? id : "";
}

/* Ask the next up node not asked yet. true: a hop is out; false: none
 * left, *ret_err says the outcome (0: the NOT_FOUND answer kept). */
static bool search_next(struct rcall *rc, int *ret_err)
{
	struct sbx_client *c = rc->c;

	for (;;) {
		struct node *n = NULL;

		pthread_mutex_lock(&c->lock);
		for (size_t i = 0; i < c->n_nodes && !n; i++)
			if (c->nodes[i]->up && !tried(rc, c->nodes[i]))
				n = c->nodes[i];
		if (n) {
			rc->tried[rc->n_tried++] = n;
			set_node_out(rc, cluster_node_name(n));
		} else {
			/* Nobody has it: it may be on a node that is down. */
			char down[SBX_PARTIAL_MAX];

			snprintf(down, sizeof(down), "%s", rc->refused);
			for (size_t i = 0; i < c->n_nodes; i++)
				if (!c->nodes[i]->up)
					append_name(down, sizeof(down), cluster_node_name(c->nodes[i]));
			if (*down)
				set_node_out(rc, down);
			*ret_err = *down ? -EHOSTDOWN : rc->have_not_found ? 0 : -ECONNREFUSED;
		}
		pthread_mutex_unlock(&c->lock);
		if (!n)
			return false;
		int r = hop_send(rc, n, 0);
		if (r == 0)
			return true;
		if (r == -ECANCELED || r == -ETIMEDOUT) {
			*ret_err = r;
			return false;
		}
		pthread_mutex_lock(&c->lock);
		append_name(rc->refused, sizeof(rc->refused), cluster_node_name(n));
		pthread_mutex_unlock(&c->lock);
	}
}

static void by_id_done(struct rcall *rc, const char *name, int err, bool sent,
		       struct sbx_reply *reply)
{
	int final;

	if (!rc->searching) {
		single_done(rc, name, err, sent, reply);
		return;
	}
	if (err == 0 && reply->status == SBX_NOT_FOUND) {
		sbx_reply_fini(&rc->not_found);
		rc->not_found = *reply;
		rc->have_not_found = true;
	} else if (err < 0 && !sent && err != -ECANCELED && err != -ETIMEDOUT) {
		append_name(rc->refused, sizeof(rc->refused), name);
	} else {
		single_done(rc, name, err, sent, reply);
		return;
	}
	if (search_next(rc, &final))
		return;
	finish(rc, final, final == 0 ? &rc->not_found : NULL);
}

static int by_id_start(struct rcall *rc, const ProtobufCMessage *req)
{
	struct sbx_client *c = rc->c;
	char tag[SBX_NODE_TAG_LEN + 1];
	struct node *n = NULL;
	bool has_tag = sbx_id_tag(request_id(rc->rt, req), tag), remembered = false;
	int r;

	pthread_mutex_lock(&c->lock);
	if (has_tag)
		n = (struct node *)cluster_find_tag(c, tag, &remembered);
	if (!n && c->n_nodes == 1)
		n = c->nodes[0];
	if (n)
		set_node_out(rc, cluster_node_name(n));
	r = n && !n->up ? -EHOSTDOWN : 0;
	pthread_mutex_unlock(&c->lock);
	if (r < 0)
		return r;
	if (n && !remembered) {
		/* Its connection dropped since it was last seen up. */
		r = hop_send(rc, n, 0);
		return r == -ECONNREFUSED && c->n_nodes > 1 ? -EHOSTDOWN : r;
	}
	rc->searching = true;
	return search_next(rc, &r) ? 0 : r;
}

/* ---- fan-out ---- */

static void fan_finish(struct rcall *rc)
{
	struct sbx_reply out = { 0 };
	ProtobufCMessage *msg = NULL;
	size_t ok = 0, first_answer = SIZE_MAX, first_error = SIZE_MAX;
	int r;

	for (size_t i = 0; i < rc->n_parts; i++) {
		const struct part *p = &rc->parts[i];

		if (p->err == 0 && p->reply.status == SBX_OK) {
			ok++;
			continue;
		}
		append_name(rc->missed, sizeof(rc->missed), p->name);
		if (p->err == 0 && first_answer == SIZE_MAX)
			first_answer = i;
		if (p->err < 0 && first_error == SIZE_MAX)
			first_error = i;
	}
	if (ok == 0) {
		/* Nobody answered OK: a node's own answer says more than a
		 * transport error. */
		if (first_answer != SIZE_MAX)
			finish(rc, 0, &rc->parts[first_answer].reply);
		else
			finish(rc, rc->parts[first_error].err, NULL);
		return;
	}
	r = merge_replies(rc->c, rc->rt->merge, rc->req, rc->parts, rc->n_parts, &msg);
	if (r == 0) {
		out.message = strdup("");
		out.msg = msg;
		if (!out.message) {
			sbx_reply_fini(&out);
			r = -ENOMEM;
		}
	}
	finish(rc, r, r == 0 ? &out : NULL);
}

static void fan_done(struct rcall *rc, size_t part, const char *name, int err, bool sent,
		     struct sbx_reply *reply)
{
	bool last;

	pthread_mutex_lock(&rc->lock);
	snprintf(rc->parts[part].name, sizeof(rc->parts[part].name), "%.*s",
		 (int)sizeof(rc->parts[part].name) - 1, name);
	rc->parts[part].err = err;
	rc->parts[part].sent = sent;
	if (err == 0)
		rc->parts[part].reply = *reply;
	last = --rc->pending == 0;
	pthread_mutex_unlock(&rc->lock);
	if (last)
		fan_finish(rc);
}

static void fan_deferred(void *arg)
{
	struct rcall *rc = arg;
	nng_aio *aio = rc->defer;

	fan_finish(rc);
	nng_aio_reap(aio);
}

/* Every hop ended before fan_start let go: merge on an nng thread, so
 * that the callback never runs inside sbx_call_async_opts (a caller may
 * hold a lock its callback takes). Without an aio, here after all. */
static void fan_finish_later(struct rcall *rc)
{
	if (nng_aio_alloc(&rc->defer, fan_deferred, rc) != 0) {
		fan_finish(rc);
		return;
	}
	nng_sleep_aio(0, rc->defer);
}

/* Send to every up node. 0: the call completes through its callback;
 * else nothing was sent and nothing will run. */
static int fan_start(struct rcall *rc)
{
	struct sbx_client *c = rc->c;
	const struct node *gone;
	size_t sent = 0;
	int first = -ECONNREFUSED;
	bool last;

	pthread_mutex_lock(&c->lock);
	rc->missed[0] = 0;
	rc->n_parts = 0;
	for (size_t i = 0; i < c->n_nodes; i++) {
		if (c->nodes[i]->up) {
			struct part *p = &rc->parts[rc->n_parts++];

			*p = (struct part){ .n = c->nodes[i] };
			snprintf(p->name, sizeof(p->name), "%s", cluster_node_name(c->nodes[i]));
		} else
			append_name(rc->missed, sizeof(rc->missed), cluster_node_name(c->nodes[i]));
	}
	for (size_t i = 0, k = cluster_gone(c, &gone); i < k; i++)
		append_name(rc->missed, sizeof(rc->missed), cluster_node_name(&gone[i]));
	pthread_mutex_unlock(&c->lock);
	/* One count more than the hops until every hop is out, so that the
	 * last completion cannot merge before the last hop started. */
	rc->pending = rc->n_parts + 1;
	for (size_t i = 0; i < rc->n_parts; i++) {
		int r = hop_send(rc, rc->parts[i].n, i);

		if (r == 0) {
			sent++;
			continue;
		}
		if (sent == 0 && first == -ECONNREFUSED)
			first = r;
		pthread_mutex_lock(&rc->lock);
		rc->parts[i].err = r;
		rc->pending--;
		pthread_mutex_unlock(&rc->lock);
	}
	if (sent == 0) {
		if (rc->partial_out)
			snprintf(rc->partial_out, SBX_PARTIAL_MAX, "%s", rc->missed);
		return first;
	}
	pthread_mutex_lock(&rc->lock);
	last = --rc->pending == 0;
	pthread_mutex_unlock(&rc->lock);
	if (last)
		fan_finish_later(rc);
	return 0;
}

/* GetExecution answered for ListExecutions' `before`: page every node. */
static void before_resolved(void *arg, int err, struct sbx_reply *reply)
{
	struct rcall *rc = arg;
	const Sbx__Execution *e;

	if (err < 0 || reply->status != SBX_OK) {
		set_node_out(rc, rc->sub_node);
		finish(rc, err, reply);
		return;
	}
	e = (const Sbx__Execution *)reply->msg;
	rc->le_owner = strdup(rc->sub_node);
	rc->le_started_at = strdup(e->started_at ? e->started_at : "");
	sbx_reply_fini(reply);
	if (!rc->le_owner || !rc->le_started_at) {
		finish(rc, -ENOMEM, NULL);
		return;
	}
	err = fan_start(rc);
	if (err < 0)
		finish(rc, err, NULL);
}

static int fanout_start(struct rcall *rc)
{
	const Sbx__ListExecutionsRequest *q = (const Sbx__ListExecutionsRequest *)rc->req;
	Sbx__GetExecutionRequest g = SBX__GET_EXECUTION_REQUEST__INIT;
	struct sbx_call_opts o = { .auth_token = rc->auth, .client = rc->client,
				   .node = rc->sub_node };

	if (rc->rt->merge != MERGE_EXECUTIONS || !q->before || !*q->before)
		return fan_start(rc);
	o.timeout_ms = remaining_ms(rc);
	if (o.timeout_ms == 0)
		return -ETIMEDOUT;
	g.execution_id = q->before;
	return sbx_call_async_opts(rc->c, "GetExecution", &g.base, &o, before_resolved, rc);
}

static void hop_done(void *arg, int err, bool sent, struct sbx_reply *reply)
{
	struct hop *h = arg;
	struct rcall *rc = h->rc;
	struct node *n = h->n;
	size_t part = h->part;
	char name[SBX_NODE_NAME_MAX > CLUSTER_URL_MAX ? SBX_NODE_NAME_MAX : CLUSTER_URL_MAX];

	free(h);
	/* The name before letting go: a node DNS dropped is freed once
	 * nothing holds it. */
	pthread_mutex_lock(&rc->c->lock);
	snprintf(name, sizeof(name), "%s", rc->rt->kind == ROUTE_DIRECT ? n->address : cluster_node_name(n));
	pthread_mutex_unlock(&rc->c->lock);
	hop_count(rc, n, -1);
	switch (rc->rt->kind) {
	case ROUTE_FANOUT:
		fan_done(rc, part, name, err, sent, reply);
		break;
	case ROUTE_BY_ID:
		by_id_done(rc, name, err, sent, reply);
		break;
	default:
		single_done(rc, name, err, sent, reply);
		break;
	}
}

/* ---- a call ---- */

static int rcall_new(struct sbx_client *c, const sbx_method *m, const ProtobufCMessage *req,
		     const struct sbx_call_opts *o, struct rcall **ret)
{
	uint32_t timeout_ms = o->timeout_ms ? o->timeout_ms : c->timeout_ms;
	struct rcall *rc = calloc(1, sizeof(*rc));
	int r;

	if (!rc)
		return -ENOMEM;
	pthread_mutex_init(&rc->lock, NULL);
	rc->c = c;
	rc->m = m;
	rc->rt = c->cluster ? sbx_route_find(m->name) : &direct;
	if (!rc->rt)
		rc->rt = &direct; /* unreachable: test-cluster-route checks every method */
	rc->node_out = o->node;
	rc->partial_out = o->partial;
	rc->id = atomic_fetch_add(&c->next_id, 1);
	rc->deadline_mono = sbx_clock_mono_ms() + timeout_ms;
	rc->deadline_wall = sbx_clock_wall_ms() + timeout_ms;
	rc->auth = o->auth_token ? strdup(o->auth_token) : NULL;
	rc->client = o->client ? strdup(o->client) : NULL;
	r = (o->auth_token && !rc->auth) || (o->client && !rc->client) ? -ENOMEM : 0;
	if (r == 0)
		r = cluster_pack(c, m->name, rc->id, rc->deadline_wall, rc->auth, rc->client, req,
				 &rc->buf, &rc->len);
	if (r == 0 && rc->rt->kind == ROUTE_FANOUT) {
		/* Kept for the merge's limits and per-node paging. */
		Sbx__RpcRequest *env = NULL;

		r = sbx_envelope_unpack_request(rc->buf, rc->len, &env);
		if (r == 0)
			r = sbx_payload_unpack(m->input, &env->payload, &rc->req);
		if (env)
			sbx__rpc_request__free_unpacked(env, NULL);
	}
	if (r < 0) {
		rcall_free(rc);
		return r;
	}
	*ret = rc;
	return 0;
}

int route_call(struct sbx_client *c, const sbx_method *m, const ProtobufCMessage *req,
	       const struct sbx_call_opts *o, sbx_call_cb cb, void *arg)
{
	struct rcall *rc = NULL;
	int r;

	if (o->node)
		o->node[0] = 0;
	if (o->partial)
		o->partial[0] = 0;
	r = rcall_new(c, m, req, o, &rc);
	if (r < 0)
		return r;
	rc->cb = cb;
	rc->arg = arg;
	pthread_mutex_lock(&c->lock);
	r = c->closing ? -ECANCELED : 0;
	if (r == 0)
		c->calls++;
	pthread_mutex_unlock(&c->lock);
	if (r < 0) {
		rcall_free(rc);
		return r;
	}
	switch (rc->rt->kind) {
	case ROUTE_FANOUT:
		r = fanout_start(rc);
		break;
	case ROUTE_BY_ID:
		r = by_id_start(rc, req);
		break;
	default:
		r = single_start(rc);
		break;
	}
	if (r < 0) {
		rcall_free(rc);
		pthread_mutex_lock(&c->lock);
		if (--c->calls == 0)
			pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
	return r;
}
