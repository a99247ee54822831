#include "rpc_server.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "clock.h"
#include "envelope.h"
#include "ipc.h"
#include "log.h"
#include "methods.h"
#include "status.h"

enum ctx_phase { CTX_RECV, CTX_WORK, CTX_SEND, CTX_DONE };

struct ctx {
	struct sbx_rpc_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	enum ctx_phase phase;
	Sbx__RpcRequest *req;    /* while CTX_WORK */
	const struct sbx_rpc_handler *h;
	struct ctx *next;        /* work queue link */
};

struct sbx_rpc_server {
	nng_socket sock;
	void *state;
	char *api_key;
	char *cluster_key; /* NULL: none */
	char *node_id;	   /* NULL: replies are not stamped */
	/* Indexed like the method table; fn NULL = UNIMPLEMENTED. */
	struct sbx_rpc_handler *table;
	size_t n_ctx;
	struct ctx *ctxs;

	pthread_mutex_t lock;    /* guards the queue, stopping, n_done, closed, n_ops */
	pthread_cond_t cond;     /* the queue and stopping: the workers wait on it */
	pthread_cond_t ops_cond; /* n_ops back to 0 once closed: close_socket waits */
	struct ctx *queue_head, *queue_tail;
	bool stopping;
	size_t n_done;
	bool closed;             /* the socket is closing: no context operation */
	size_t n_ops;            /* nng_ctx_send/recv calls under way */
	size_t n_workers;
	pthread_t *workers;
};

int sbx_rpc_error(struct sbx_rpc_call *call, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbx_vsentence(call->error, sizeof(call->error), fmt, ap);
	va_end(ap);
	return err;
}

bool sbx_rpc_key_ok(const char *want, const char *got)
{
	size_t n = strlen(want), m = strlen(got);
	unsigned char diff = n != m;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(want[i] ^ (i < m ? got[i] : 0));
	return diff == 0;
}

/* Replies name their node (cluster mode): every string field called
 * "node" (field 30 of Sandbox, Session, Deployment, ExecResult, ...) left
 * empty, at any depth, gets the node id. One walk here rather than a line
 * in every place that builds one of those messages, so a new reply that
 * carries one is covered by the .proto alone. */
static int stamp_node(ProtobufCMessage *m, const char *node_id, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (depth > 16)
		return 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *p = (char *)m + f->offset;

		/* A oneof's member that is not the one set shares its memory. */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)((char *)m + f->quantifier_offset) != f->id)
			continue;
		if (f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED &&
		    strcmp(f->name, "node") == 0) {
			char **v = (char **)p;

			if (*v && **v && *v != (char *)protobuf_c_empty_string)
				continue;
			if (*v && *v != (char *)protobuf_c_empty_string)
				free(*v);
			if (!(*v = strdup(node_id)))
				return -ENOMEM;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + f->quantifier_offset);
			ProtobufCMessage **v = *(ProtobufCMessage ***)p;

			for (size_t j = 0; j < n; j++)
				if (v[j] && stamp_node(v[j], node_id, depth + 1) < 0)
					return -ENOMEM;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage **)p &&
			   stamp_node(*(ProtobufCMessage **)p, node_id, depth + 1) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* nng 1.5 must not see a context operation while the socket closes: the
 * operation's reference on its context can end after the socket is gone,
 * and the context's teardown then locks a freed mutex ("panic:
 * pthread_mutex_lock"). Each nng_ctx_send/recv is counted, and the socket
 * is closed only when none is under way (close_socket). They nest: a rep
 * socket completes a send inside nng_ctx_send, whose callback receives. */
static bool op_begin(struct sbx_rpc_server *s)
{
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = !s->closed;
	if (ok)
		s->n_ops++;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static void op_end(struct sbx_rpc_server *s)
{
	pthread_mutex_lock(&s->lock);
	/* Only a close waits for this; telling the workers' condition
	 * would wake every idle worker after nearly every request. */
	if (--s->n_ops == 0 && s->closed)
		pthread_cond_broadcast(&s->ops_cond);
	pthread_mutex_unlock(&s->lock);
}

static void close_socket(struct sbx_rpc_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = true;
	while (s->n_ops > 0)
		pthread_cond_wait(&s->ops_cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	nng_close(s->sock);
}

static void ctx_done_locked(struct ctx *c)
{
	c->phase = CTX_DONE;
	c->srv->n_done++;
	pthread_cond_broadcast(&c->srv->cond);
}

static void ctx_recv(struct ctx *c)
{
	struct sbx_rpc_server *s = c->srv;

	c->phase = CTX_RECV;
	if (!op_begin(s)) {
		pthread_mutex_lock(&s->lock);
		ctx_done_locked(c);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	nng_ctx_recv(c->ctx, c->aio);
	op_end(s);
}

static void ctx_finish(struct ctx *c)
{
	struct sbx_rpc_server *s = c->srv;

	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		ctx_done_locked(c);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	pthread_mutex_unlock(&s->lock);
	ctx_recv(c);
}

static void ctx_send_reply(struct ctx *c, uint64_t id, int status, const char *message,
			   const ProtobufCMessage *payload)
{
	_cleanup_free_ void *buf = NULL;
	nng_msg *msg;
	size_t len;

	if (sbx_envelope_pack_reply(id, status, message, payload, &buf, &len) < 0 &&
	    sbx_envelope_pack_reply(id, SBX_INTERNAL, "reply too large", NULL, &buf, &len) < 0) {
		ctx_finish(c);
		return;
	}
	if (nng_msg_alloc(&msg, 0) != 0 || nng_msg_append(msg, buf, len) != 0) {
		ctx_finish(c);
		return;
	}
	if (!op_begin(c->srv)) {
		nng_msg_free(msg);
		ctx_finish(c);
		return;
	}
	c->phase = CTX_SEND;
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
	op_end(c->srv);
}

/* Run the handler of c->req and send its reply. */
static void ctx_serve(struct ctx *c)
{
	struct sbx_rpc_server *s = c->srv;
	Sbx__RpcRequest *req = TAKE_PTR(c->req);
	struct sbx_rpc_call call = { .method = req->method, .id = req->id, .deadline_ms = req->deadline_ms,
				     .client = req->client ? req->client : "" };
	const sbx_method *m = sbx_method_find(req->method);
	ProtobufCMessage *in = NULL, *out = NULL;
	int r, status;

	r = sbx_payload_unpack(m->input, &req->payload, &in);
	if (r < 0) {
		ctx_send_reply(c, req->id, SBX_INVALID_ARGUMENT, "the request payload is malformed", NULL);
		sbx__rpc_request__free_unpacked(req, NULL);
		return;
	}
	r = c->h->fn(s->state, &call, in, &out);
	if (r == 0 && out && s->node_id && stamp_node(out, s->node_id, 0) < 0)
		r = -ENOMEM;
	status = sbx_status_from_errno(r);
	if (r < 0 && !call.error[0])
		snprintf(call.error, sizeof(call.error), "%s", status == SBX_INTERNAL ? "internal error" : strerror(-r));
	if (r < 0)
		sbx_log(status == SBX_INTERNAL ? SBX_LOG_ERROR : SBX_LOG_DEBUG, req->method, "%s: %s",
			sbx_status_name(status), call.error);
	ctx_send_reply(c, req->id, status, r < 0 ? call.error : NULL, r < 0 ? NULL : out);
	if (out)
		protobuf_c_message_free_unpacked(out, NULL);
	protobuf_c_message_free_unpacked(in, NULL);
	sbx__rpc_request__free_unpacked(req, NULL);
}

/* Decode and check a request; answer errors at once, serve inline handlers
 * here and queue the rest for the workers. */
static void ctx_dispatch(struct ctx *c, nng_msg *msg)
{
	struct sbx_rpc_server *s = c->srv;
	Sbx__RpcRequest *req = NULL;
	int idx;

	if (sbx_envelope_unpack_request(nng_msg_body(msg), nng_msg_len(msg), &req) < 0) {
		nng_msg_free(msg);
		ctx_send_reply(c, 0, SBX_INVALID_ARGUMENT, "the request is not a valid RPC envelope", NULL);
		return;
	}
	nng_msg_free(msg);
	/* The cluster key before anything else (Health included): without
	 * it a caller learns nothing, not even which methods exist. */
	if (s->cluster_key && !sbx_rpc_key_ok(s->cluster_key, req->cluster_key)) {
		ctx_send_reply(c, req->id, SBX_UNAUTHENTICATED,
			       "this node requires the cluster key (SANDBOX_CLUSTER_KEY)", NULL);
		sbx__rpc_request__free_unpacked(req, NULL);
		return;
	}
	idx = sbx_method_index(req->method);
	if (idx < 0 || !s->table[idx].fn) {
		char m[256];

		snprintf(m, sizeof(m), "method '%.64s' is not implemented", req->method);
		ctx_send_reply(c, req->id, SBX_UNIMPLEMENTED, m, NULL);
		sbx__rpc_request__free_unpacked(req, NULL);
		return;
	}
	c->h = &s->table[idx];
	if (s->api_key && !(c->h->flags & SBX_RPC_PUBLIC) && !sbx_rpc_key_ok(s->api_key, req->auth_token)) {
		ctx_send_reply(c, req->id, SBX_UNAUTHENTICATED, "a valid API key is required", NULL);
		sbx__rpc_request__free_unpacked(req, NULL);
		return;
	}
	if (req->deadline_ms && req->deadline_ms <= (uint64_t)sbx_clock_wall_ms()) {
		ctx_send_reply(c, req->id, SBX_DEADLINE_EXCEEDED, "the request's deadline has passed", NULL);
		sbx__rpc_request__free_unpacked(req, NULL);
		return;
	}
	c->req = req;
	if (c->h->flags & SBX_RPC_INLINE) {
		ctx_serve(c);
		return;
	}
	c->phase = CTX_WORK;
	pthread_mutex_lock(&s->lock);
	c->next = NULL;
	if (s->queue_tail)
		s->queue_tail->next = c;
	else
		s->queue_head = c;
	s->queue_tail = c;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void ctx_cb(void *arg)
{
	struct ctx *c = arg;
	int rv = nng_aio_result(c->aio);

	switch (c->phase) {
	case CTX_RECV:
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
			ctx_finish(c);
			return;
		}
		if (rv != 0) {
			ctx_recv(c);
			return;
		}
		ctx_dispatch(c, nng_aio_get_msg(c->aio));
		return;
	case CTX_SEND:
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(c->aio));
		ctx_finish(c);
		return;
	case CTX_WORK:
	case CTX_DONE:
		return;
	}
}

static void *worker_main(void *arg)
{
	struct sbx_rpc_server *s = arg;
	struct ctx *c;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!s->queue_head && !(s->stopping && s->n_done == s->n_ctx))
			pthread_cond_wait(&s->cond, &s->lock);
		c = s->queue_head;
		if (!c) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		s->queue_head = c->next;
		if (!s->queue_head)
			s->queue_tail = NULL;
		pthread_mutex_unlock(&s->lock);
		ctx_serve(c);
	}
}

static int build_table(struct sbx_rpc_server *s, const struct sbx_rpc_server_opts *o)
{
	s->table = calloc(sbx_method_count(), sizeof(*s->table));
	if (!s->table)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_handlers; i++) {
		int idx = sbx_method_index(o->handlers[i].method);

		if (idx < 0) {
			log_error("handler for unknown method '%s'", o->handlers[i].method);
			return -EINVAL;
		}
		s->table[idx] = o->handlers[i];
	}
	return 0;
}

int sbx_rpc_server_start(const struct sbx_rpc_server_opts *o, struct sbx_rpc_server **ret)
{
	struct sbx_rpc_server *s;
	int rv, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_cond_init(&s->ops_cond, NULL);
	s->state = o->state;
	if ((o->api_key && *o->api_key && !(s->api_key = strdup(o->api_key))) ||
	    (o->cluster_key && *o->cluster_key && !(s->cluster_key = strdup(o->cluster_key))) ||
	    (o->node_id && *o->node_id && !(s->node_id = strdup(o->node_id)))) {
		r = -ENOMEM;
		goto fail;
	}
	r = build_table(s, o);
	if (r < 0)
		goto fail;
	rv = nng_rep0_open(&s->sock);
	if (rv != 0) {
		r = -ENOMEM;
		goto fail;
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, SBX_ENVELOPE_MAX + 4096);
	sbx_ipc_prepare(o->url);
	rv = nng_listen(s->sock, o->url, NULL, 0);
	if (rv != 0) {
		log_error("cannot listen on %s: %s", o->url, nng_strerror(rv));
		r = rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL;
		goto fail_sock;
	}
	s->n_ctx = o->contexts;
	s->ctxs = calloc(s->n_ctx, sizeof(*s->ctxs));
	s->workers = calloc(o->workers, sizeof(*s->workers));
	if (!s->ctxs || !s->workers) {
		r = -ENOMEM;
		goto fail_sock;
	}
	for (size_t i = 0; i < s->n_ctx; i++) {
		struct ctx *c = &s->ctxs[i];

		c->srv = s;
		if (nng_aio_alloc(&c->aio, ctx_cb, c) != 0 || nng_ctx_open(&c->ctx, s->sock) != 0) {
			r = -ENOMEM;
			goto fail_sock;
		}
	}
	for (size_t i = 0; i < o->workers; i++) {
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
			break;
		s->n_workers++;
	}
	for (size_t i = 0; i < s->n_ctx; i++)
		ctx_recv(&s->ctxs[i]);
	*ret = s;
	return 0;

fail_sock:
	nng_close(s->sock);
	for (size_t i = 0; s->ctxs && i < s->n_ctx; i++)
		nng_aio_free(s->ctxs[i].aio);
	free(s->ctxs);
	free(s->workers);
fail:
	free(s->table);
	free(s->api_key);
	free(s->cluster_key);
	free(s->node_id);
	free(s);
	return r;
}

/* Cancel the contexts waiting for a request. Re-run while stopping: a
 * context that was sending its reply when stopping began may post its next
 * receive after an earlier pass looked at it. */
static void cancel_waiting(struct sbx_rpc_server *s)
{
	for (size_t i = 0; i < s->n_ctx; i++)
		if (s->ctxs[i].phase == CTX_RECV)
			nng_aio_cancel(s->ctxs[i].aio);
}

void sbx_rpc_server_stop(struct sbx_rpc_server *s, unsigned grace_ms)
{
	struct timespec until, step;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->lock);
	until = sbx_clock_deadline(CLOCK_REALTIME, grace_ms);
	/* Contexts serving a request end after their reply is sent. */
	pthread_mutex_lock(&s->lock);
	while (s->n_done < s->n_ctx) {
		pthread_mutex_unlock(&s->lock);
		cancel_waiting(s);
		pthread_mutex_lock(&s->lock);
		if (sbx_clock_passed(CLOCK_REALTIME, &until))
			break;
		step = sbx_clock_deadline(CLOCK_REALTIME, 20);
		pthread_cond_timedwait(&s->cond, &s->lock, &step);
	}
	if (s->n_done < s->n_ctx) {
		/* Closing fails every pending operation: a handler still
		 * running finds its send refused and its context done. */
		log_warn("%zu RPCs still running after %u ms; closing", s->n_ctx - s->n_done, grace_ms);
		pthread_mutex_unlock(&s->lock);
		close_socket(s);
		pthread_mutex_lock(&s->lock);
		while (s->n_done < s->n_ctx)
			pthread_cond_wait(&s->cond, &s->lock);
	}
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	/* A reply's completion can run (and count its context done) before
	 * the worker's nng_ctx_send has returned: join the workers before
	 * the socket goes away under them. */
	for (size_t i = 0; i < s->n_workers; i++)
		pthread_join(s->workers[i], NULL);
	close_socket(s);
	for (size_t i = 0; i < s->n_ctx; i++)
		nng_aio_stop(s->ctxs[i].aio);
	for (size_t i = 0; i < s->n_ctx; i++) {
		nng_aio_free(s->ctxs[i].aio);
		if (s->ctxs[i].req)
			sbx__rpc_request__free_unpacked(s->ctxs[i].req, NULL);
	}
	free(s->ctxs);
	free(s->workers);
	free(s->table);
	free(s->api_key);
	free(s->cluster_key);
	free(s->node_id);
	pthread_cond_destroy(&s->cond);
	pthread_cond_destroy(&s->ops_cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
