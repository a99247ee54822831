/* libsandbox's client: the public calls over the node set. One URL and no
 * rpc_dns is a client of one daemon (one node, no threads, every call
 * DIRECT); otherwise each call follows its method's route (client/route.c)
 * over nodes that the poller keeps up to date (client/cluster.c). */
#include <errno.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cluster.h"
#include "route.h"
#include "urls.h"

#define SBX_CLIENT_DEFAULT_TIMEOUT_MS 30000

int sbx_call_async(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
		   uint32_t timeout_ms, sbx_call_cb cb, void *arg)
{
	return sbx_call_async_auth(c, method, req, timeout_ms, NULL, cb, arg);
}

int sbx_call_async_auth(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
			uint32_t timeout_ms, const char *auth_token, sbx_call_cb cb, void *arg)
{
	struct sbx_call_opts o = { .timeout_ms = timeout_ms, .auth_token = auth_token };

	return sbx_call_async_opts(c, method, req, &o, cb, arg);
}

int sbx_call_async_opts(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
			const struct sbx_call_opts *opts, sbx_call_cb cb, void *arg)
{
	static const struct sbx_call_opts none;
	const sbx_method *m = sbx_method_find(method);

	if (opts && opts->node)
		opts->node[0] = 0;
	if (opts && opts->partial)
		opts->partial[0] = 0;
	if (!m)
		return -ENOENT;
	if ((req && req->descriptor != m->input) || !cb)
		return -EINVAL;
	return route_call(c, m, req, opts ? opts : &none, cb, arg);
}

struct sync_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	int err;
	struct sbx_reply reply;
};

static void sync_cb(void *arg, int err, struct sbx_reply *reply)
{
	struct sync_wait *w = arg;

	pthread_mutex_lock(&w->lock);
	w->err = err;
	if (reply)
		w->reply = *reply;
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int sbx_call_opts(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
		  const struct sbx_call_opts *o, struct sbx_reply *ret)
{
	struct sync_wait w = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	int r;

	r = sbx_call_async_opts(c, method, req, o, sync_cb, &w);
	if (r < 0)
		return r;
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	if (w.err < 0)
		return w.err;
	*ret = w.reply;
	return 0;
}

int sbx_call(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
	     uint32_t timeout_ms, struct sbx_reply *ret)
{
	struct sbx_call_opts o = { .timeout_ms = timeout_ms };

	return sbx_call_opts(c, method, req, &o, ret);
}

int sbx_client_connected(struct sbx_client *c)
{
	int up = 0;

	if (!c->cluster)
		return sbx_conn_connected(c->nodes[0]->conn);
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n_nodes && !up; i++)
		up = c->nodes[i]->up;
	pthread_mutex_unlock(&c->lock);
	return up;
}

static void node_copy(const struct sbx_client *c, const struct node *n, struct sbx_node *out)
{
	*out = (struct sbx_node){ .up = c->cluster ? n->up : sbx_conn_connected(n->conn),
				  .running = n->running, .queued = n->queued, .slots = n->slots,
				  .objects = n->objects, .memory_total_mb = n->memory_total_mb,
				  .memory_available_mb = n->memory_available_mb,
				  .tunnel_port = n->tunnel_port, .in_flight = n->in_flight };
	memcpy(out->id, n->id, sizeof(out->id));
	memcpy(out->tag, n->tag, sizeof(out->tag));
	_Static_assert(sizeof(out->address) >= sizeof(n->address), "address room");
	memcpy(out->address, n->address, sizeof(n->address));
}

int sbx_client_nodes(struct sbx_client *c, struct sbx_node **ret, size_t *n)
{
	struct sbx_node *v;
	size_t k;

	pthread_mutex_lock(&c->lock);
	k = c->n_nodes;
	v = calloc(k ? k : 1, sizeof(*v));
	for (size_t i = 0; v && i < k; i++)
		node_copy(c, c->nodes[i], &v[i]);
	pthread_mutex_unlock(&c->lock);
	if (!v)
		return -ENOMEM;
	*ret = v;
	*n = k;
	return 0;
}

int sbx_client_node(struct sbx_client *c, const char *name, struct sbx_node *ret)
{
	int r = -ENOENT;

	if (!name || !*name)
		return -ENOENT;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n_nodes && r < 0; i++) {
		const struct node *n = c->nodes[i];

		if (strcmp(n->id, name) == 0 || strcmp(n->address, name) == 0) {
			node_copy(c, n, ret);
			r = 0;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* The nodes of opts->rpc_url. */
static int add_static_nodes(struct sbx_client *c, const char *list)
{
	char(*urls)[SBX_URL_MAX] = calloc(CLUSTER_MAX_NODES, SBX_URL_MAX);
	size_t n = 0;
	int r;

	if (!urls)
		return -ENOMEM;
	r = sbx_url_split(list, urls, CLUSTER_MAX_NODES, &n);
	if (r == -E2BIG)
		r = -EINVAL;
	c->cluster = c->cluster || n > 1;
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = cluster_node_new(c, urls[i], &c->nodes[c->n_nodes]);
		if (r == 0)
			c->n_nodes++;
	}
	free(urls);
	return r;
}

static void client_free(struct sbx_client *c)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		cluster_node_free(c->nodes[i]);
	while (c->dead) {
		struct node *next = c->dead->next_dead;

		cluster_node_free(c->dead);
		c->dead = next;
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c->auth_token);
	free(c->cluster_key);
	free(c->dns_url);
	free(c);
}

static int dup_opt(const char *s, char **ret)
{
	*ret = s && *s ? strdup(s) : NULL;
	return s && *s && !*ret ? -ENOMEM : 0;
}

int sbx_client_open(const struct sbx_client_opts *opts, struct sbx_client **ret)
{
	static const struct sbx_client_opts none;
	const struct sbx_client_opts *o = opts ? opts : &none;
	const char *list = o->rpc_url;
	struct sbx_client *c;
	int64_t until;
	int r;

	if (o->rpc_dns && *o->rpc_dns && sbx_dns_url_check(o->rpc_dns) < 0)
		return -EINVAL;
	if (!list && !(o->rpc_dns && *o->rpc_dns))
		list = SBX_DEFAULT_RPC_URL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	atomic_init(&c->next_id, 1);
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : SBX_CLIENT_DEFAULT_TIMEOUT_MS;
	r = dup_opt(o->auth_token, &c->auth_token);
	if (r == 0)
		r = dup_opt(o->cluster_key, &c->cluster_key);
	if (r == 0)
		r = dup_opt(o->rpc_dns, &c->dns_url);
	c->cluster = c->dns_url != NULL;
	if (r == 0 && list && *list)
		r = add_static_nodes(c, list);
	else if (r == 0 && list)
		r = -EINVAL;
	if (r == 0 && c->cluster)
		r = cluster_start(c);
	if (r < 0) {
		cluster_stop(c);
		client_free(c);
		return r;
	}
	until = sbx_clock_mono_ms() + o->connect_wait_ms;
	while (!sbx_client_connected(c) && sbx_clock_mono_ms() < until)
		nng_msleep(5);
	*ret = c;
	return 0;
}

void sbx_client_close(struct sbx_client *c)
{
	if (!c)
		return;
	/* No new calls nor health checks; then every call in flight ends
	 * (-ECANCELED from the closed sockets) and its callback returns. */
	cluster_stop(c);
	/* The node set no longer changes. Not under c->lock: closing waits
	 * for pipe callbacks, which take it. */
	for (size_t i = 0; i < c->n_nodes; i++)
		sbx_conn_shutdown(c->nodes[i]->conn);
	for (struct node *n = c->dead; n; n = n->next_dead)
		sbx_conn_shutdown(n->conn);
	pthread_mutex_lock(&c->lock);
	while (c->calls > 0)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	client_free(c);
}
