/* The node set of a cluster client: every node's connection, its last
 * Health (id, tag, load) and whether it is up; the poller thread that asks
 * every node for its Health every CLUSTER_POLL_MS, and the DNS watch that
 * follows rpc_dns. A node is down at once when its connection drops
 * (the pipe callback) and when a Health fails or is not answered within
 * CLUSTER_HEALTH_TIMEOUT_MS (a hung daemon keeps its connection). */
#include "cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.pb-c.h"
#include "clock.h"
#include "envelope.h"
#include "methods.h"
#include "status.h"
#include "urls.h"

const char *cluster_node_name(const struct node *n) { return n->id[0] ? n->id : n->address; }

int cluster_pack(struct sbx_client *c, const char *method, uint64_t id, uint64_t deadline_wall_ms,
		 const char *auth, const char *client, const ProtobufCMessage *req, void **ret_buf,
		 size_t *ret_len)
{
	return sbx_envelope_pack_request_keyed(method, id, deadline_wall_ms,
					       auth ? auth : c->auth_token, c->cluster_key, client,
					       req, ret_buf, ret_len);
}

static void node_pipe(void *arg, bool up)
{
	struct node *n = arg;
	struct sbx_client *c = n->c;

	pthread_mutex_lock(&c->lock);
	if (!up) {
		n->up = false;
	} else if (!c->cluster) {
		n->up = true;
	} else {
		/* Up once its Health answers: ask now, not at the next tick. */
		c->poll_now = true;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
}

int cluster_node_new(struct sbx_client *c, const char *url, struct node **ret)
{
	struct node *n = calloc(1, sizeof(*n));
	struct sbx_conn_opts o = { .url = url, .reset_err = c->cluster ? -ECONNRESET : -ECONNREFUSED,
				   .fail_when_down = c->cluster,
				   .on_pipe = node_pipe };
	int r;

	if (!n)
		return -ENOMEM;
	if (strlen(url) >= sizeof(n->address)) {
		free(n);
		return -EINVAL;
	}
	n->c = c;
	snprintf(n->address, sizeof(n->address), "%s", url);
	o.pipe_arg = n;
	r = sbx_conn_open(&o, &n->conn);
	if (r < 0) {
		free(n);
		return r;
	}
	*ret = n;
	return 0;
}

void cluster_node_free(struct node *n)
{
	if (!n)
		return;
	sbx_conn_free(n->conn);
	free(n);
}

int cluster_node_message(const struct node *n, Sbx__Node **ret)
{
	Sbx__Node *m = (Sbx__Node *)sbx_message_new(&sbx__node__descriptor);

	if (!m)
		return -ENOMEM;
	m->id = strdup(n->id);
	m->tag = strdup(n->tag);
	m->address = strdup(n->address);
	if (!m->id || !m->tag || !m->address) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return -ENOMEM;
	}
	m->running = n->running;
	m->queued = n->queued;
	m->slots = n->slots;
	m->objects = n->objects;
	m->memory_total_mb = n->memory_total_mb;
	m->memory_available_mb = n->memory_available_mb;
	m->tunnel_port = n->tunnel_port;
	m->up = n->up;
	*ret = m;
	return 0;
}

/* Forget the remembered nodes of tag, or (tag NULL) the expired ones. */
static void gone_forget(struct sbx_client *c, const char *tag)
{
	uint64_t now = sbx_clock_mono_ms();
	size_t k = 0;

	for (size_t i = 0; i < c->n_gone; i++) {
		const struct node *g = &c->gone[i];
		bool drop = tag ? strcmp(g->tag, tag) == 0 : now - g->dns_missing_ms >= CLUSTER_GONE_MS;

		if (!drop)
			c->gone[k++] = *g;
	}
	c->n_gone = k;
}

/* Remember a node DNS dropped, if it ever said who it is; the oldest
 * record makes room. */
static void gone_remember(struct sbx_client *c, const struct node *n)
{
	struct node *g;

	if (!n->tag[0])
		return;
	gone_forget(c, n->tag);
	if (c->n_gone == CLUSTER_MAX_NODES) {
		memmove(&c->gone[0], &c->gone[1], (c->n_gone - 1) * sizeof(c->gone[0]));
		c->n_gone--;
	}
	g = &c->gone[c->n_gone++];
	*g = *n;
	g->conn = NULL;
	g->next_dead = NULL;
	g->up = false;
	g->in_flight = g->pending_creates = g->refs = 0;
	g->dns_missing_ms = sbx_clock_mono_ms();
}

size_t cluster_gone(struct sbx_client *c, const struct node **ret)
{
	gone_forget(c, NULL);
	*ret = c->gone;
	return c->n_gone;
}

const struct node *cluster_find_tag(struct sbx_client *c, const char *tag, bool *remembered)
{
	const struct node *down = NULL, *g;

	*remembered = false;
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct node *n = c->nodes[i];

		if (strcmp(n->tag, tag) != 0)
			continue;
		if (n->up)
			return n;
		down = down ? down : n;
	}
	if (down)
		return down;
	for (size_t i = 0, k = cluster_gone(c, &g); i < k; i++)
		if (strcmp(g[i].tag, tag) == 0) {
			*remembered = true;
			return &g[i];
		}
	return NULL;
}

void cluster_node_update(struct node *n, const Sbx__Node *m)
{
	if (m->id && *m->id)
		snprintf(n->id, sizeof(n->id), "%s", m->id);
	if (m->tag && strlen(m->tag) == 8) {
		snprintf(n->tag, sizeof(n->tag), "%s", m->tag);
		/* Back (a Swarm task restarted at a new address). */
		gone_forget(n->c, n->tag);
	}
	n->in_flight_seen = n->in_flight;
	n->running = m->running;
	n->queued = m->queued;
	n->slots = m->slots;
	n->objects = m->objects;
	n->memory_total_mb = m->memory_total_mb;
	n->memory_available_mb = m->memory_available_mb;
	n->tunnel_port = m->tunnel_port;
}

/* Health's answer: a node that answers is up, whatever the status (one
 * that refuses the key answers every call the same: better said by the
 * node than hidden as "down"); its load comes with an OK answer. */
static void health_done(void *arg, int err, bool sent, struct sbx_reply *reply)
{
	struct node *n = arg;
	struct sbx_client *c = n->c;
	const Sbx__HealthReply *h = err == 0 && reply->msg ? (const Sbx__HealthReply *)reply->msg : NULL;

	(void)sent;
	pthread_mutex_lock(&c->lock);
	n->health_pending = false;
	n->refs--;
	n->up = err == 0 && sbx_conn_connected(n->conn);
	if (h && h->node)
		cluster_node_update(n, h->node);
	/* A Health that timed out held the next one back: ask again now,
	 * so that a node that answers again is up within a round. */
	if (err == -ETIMEDOUT)
		c->poll_now = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (err == 0)
		sbx_reply_fini(reply);
}

static void health_send(struct sbx_client *c, struct node *n)
{
	const sbx_method *health = sbx_method_find("Health");
	void *buf = NULL;
	size_t len;
	uint64_t id = atomic_fetch_add(&c->next_id, 1);
	int r;

	r = cluster_pack(c, "Health", id, sbx_clock_wall_ms() + CLUSTER_HEALTH_TIMEOUT_MS, NULL, NULL,
			 NULL, &buf, &len);
	if (r == 0)
		r = sbx_conn_send(n->conn, health, id, buf, len, CLUSTER_HEALTH_TIMEOUT_MS, health_done, n);
	free(buf);
	if (r < 0) {
		pthread_mutex_lock(&c->lock);
		n->health_pending = false;
		n->refs--;
		n->up = false;
		pthread_mutex_unlock(&c->lock);
	}
}

/* Free the removed nodes nothing holds any more. */
static void reap(struct sbx_client *c)
{
	struct node *gone = NULL;

	pthread_mutex_lock(&c->lock);
	for (struct node **p = &c->dead; *p;) {
		struct node *n = *p;

		if (n->refs == 0) {
			*p = n->next_dead;
			n->next_dead = gone;
			gone = n;
		} else {
			p = &n->next_dead;
		}
	}
	pthread_mutex_unlock(&c->lock);
	while (gone) {
		struct node *next = gone->next_dead;

		cluster_node_free(gone);
		gone = next;
	}
}

static void *poller(void *arg)
{
	struct sbx_client *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->closing) {
		struct node *ask[CLUSTER_MAX_NODES];
		size_t n_ask = 0;

		for (size_t i = 0; i < c->n_nodes; i++) {
			struct node *n = c->nodes[i];

			if (n->health_pending)
				continue;
			if (!sbx_conn_connected(n->conn)) {
				n->up = false;
				continue;
			}
			n->health_pending = true;
			n->refs++;
			ask[n_ask++] = n;
		}
		c->poll_now = false;
		pthread_mutex_unlock(&c->lock);
		for (size_t i = 0; i < n_ask; i++)
			health_send(c, ask[i]);
		reap(c);
		pthread_mutex_lock(&c->lock);
		struct timespec until = sbx_clock_deadline(CLOCK_REALTIME, CLUSTER_POLL_MS);
		while (!c->closing && !c->poll_now)
			if (pthread_cond_timedwait(&c->cond, &c->lock, &until) != 0)
				break;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static bool known(struct sbx_client *c, const char *url)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i]->address, url) == 0)
			return true;
	return false;
}

/* Drop the DNS nodes that DNS no longer names (down, or past the grace)
 * and mark the ones it names. Under c->lock. */
static void dns_prune(struct sbx_client *c, char (*urls)[SBX_URL_MAX], size_t n_urls)
{
	uint64_t now = sbx_clock_mono_ms();

	for (size_t i = 0; i < c->n_nodes;) {
		struct node *n = c->nodes[i];
		bool named = false;

		for (size_t j = 0; j < n_urls && !named; j++)
			named = strcmp(urls[j], n->address) == 0;
		if (!n->from_dns || named) {
			n->dns_missing_ms = 0;
			i++;
			continue;
		}
		if (!n->dns_missing_ms)
			n->dns_missing_ms = now;
		if (n->up && now - n->dns_missing_ms < CLUSTER_DNS_GRACE_MS) {
			i++;
			continue;
		}
		memmove(&c->nodes[i], &c->nodes[i + 1], (c->n_nodes - i - 1) * sizeof(c->nodes[0]));
		c->n_nodes--;
		n->up = false;
		gone_remember(c, n);
		n->next_dead = c->dead;
		c->dead = n;
	}
}

void cluster_dns_merge(void *arg, char (*urls)[SBX_URL_MAX], size_t n_urls)
{
	struct sbx_client *c = arg;
	struct node *fresh[CLUSTER_MAX_NODES], *extra = NULL;
	size_t n_fresh = 0;

	for (size_t j = 0; j < n_urls && n_fresh < CLUSTER_MAX_NODES; j++) {
		struct node *n;

		pthread_mutex_lock(&c->lock);
		bool have = known(c, urls[j]);
		pthread_mutex_unlock(&c->lock);
		if (!have && cluster_node_new(c, urls[j], &n) == 0) {
			n->from_dns = true;
			fresh[n_fresh++] = n;
		}
	}
	pthread_mutex_lock(&c->lock);
	dns_prune(c, urls, n_urls);
	for (size_t i = 0; i < n_fresh; i++) {
		if (c->n_nodes < CLUSTER_MAX_NODES && !c->closing && !known(c, fresh[i]->address)) {
			c->nodes[c->n_nodes++] = fresh[i];
		} else {
			fresh[i]->next_dead = extra;
			extra = fresh[i];
		}
	}
	if (n_fresh) {
		c->poll_now = true;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	while (extra) {
		struct node *next = extra->next_dead;

		cluster_node_free(extra);
		extra = next;
	}
}

int cluster_start(struct sbx_client *c)
{
	if (pthread_create(&c->poller, NULL, poller, c) != 0)
		return -ENOMEM;
	c->poller_started = true;
	if (c->dns_url)
		return sbx_dns_watch_start(c->dns_url, CLUSTER_DNS_MS, CLUSTER_MAX_NODES, cluster_dns_merge, c,
					   &c->dns);
	return 0;
}

void cluster_stop(struct sbx_client *c)
{
	pthread_mutex_lock(&c->lock);
	c->closing = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (c->poller_started)
		pthread_join(c->poller, NULL);
	sbx_dns_watch_stop(c->dns);
	c->dns = NULL;
	c->poller_started = false;
}
