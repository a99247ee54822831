/* libsandbox: calls over an nng req socket. Each call takes a slot (an nng
 * context and its aio) from a free list and drives it through send -> recv
 * in the aio callback, like nng's demo/async; synchronous calls wait for the
 * same machinery on a condition variable. Slots are allocated on demand up
 * to SBX_CLIENT_MAX_SLOTS and reused, never freed before the client. */
#include "sandbox.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "clock.h"
#include "envelope.h"
#include "ipc.h"
#include "methods.h"
#include "status.h"

#define SBX_CLIENT_MAX_SLOTS 1024
#define SBX_CLIENT_DEFAULT_TIMEOUT_MS 30000

enum slot_phase { SLOT_IDLE, SLOT_SEND, SLOT_RECV };

struct slot {
	struct sbx_client *client;
	nng_ctx ctx;
	nng_aio *aio;
	enum slot_phase phase;
	uint64_t id;
	uint64_t deadline_ms;    /* monotonic, for the recv timeout */
	const sbx_method *method;
	sbx_call_cb cb;
	void *arg;
	struct slot *next_free;
};

struct sbx_client {
	nng_socket sock;
	char *auth_token;
	uint32_t timeout_ms;
	atomic_int pipes;
	atomic_uint_fast64_t next_id;

	pthread_mutex_t lock;    /* guards the free list and n_slots */
	struct slot *free_slots;
	size_t n_slots;
	struct slot *slots[SBX_CLIENT_MAX_SLOTS];
};

void sbx_reply_fini(struct sbx_reply *r)
{
	if (!r)
		return;
	free(r->message);
	if (r->msg)
		protobuf_c_message_free_unpacked(r->msg, NULL);
	*r = (struct sbx_reply){ 0 };
}

static void slot_release(struct slot *s)
{
	struct sbx_client *c = s->client;

	s->phase = SLOT_IDLE;
	s->cb = NULL;
	pthread_mutex_lock(&c->lock);
	s->next_free = c->free_slots;
	c->free_slots = s;
	pthread_mutex_unlock(&c->lock);
}

static void slot_complete(struct slot *s, int err, struct sbx_reply *reply)
{
	sbx_call_cb cb = s->cb;
	void *arg = s->arg;

	/* Release first: the callback may start the next call at once. */
	slot_release(s);
	cb(arg, err, reply);
}

/* Decode the daemon's answer into *ret. */
static int decode_reply(const struct slot *s, nng_msg *msg, struct sbx_reply *ret)
{
	Sbx__RpcReply *rep = NULL;
	ProtobufCMessage *m = NULL;
	int r;

	r = sbx_envelope_unpack_reply(nng_msg_body(msg), nng_msg_len(msg), &rep);
	if (r < 0)
		return r;
	if (rep->id != s->id) {
		sbx__rpc_reply__free_unpacked(rep, NULL);
		return -EBADMSG;
	}
	if (rep->status == SBX_OK) {
		r = sbx_payload_unpack(s->method->output, &rep->payload, &m);
		if (r < 0) {
			sbx__rpc_reply__free_unpacked(rep, NULL);
			return r;
		}
	}
	*ret = (struct sbx_reply){ .status = rep->status, .message = strdup(rep->message ? rep->message : ""), .msg = m };
	sbx__rpc_reply__free_unpacked(rep, NULL);
	if (!ret->message) {
		sbx_reply_fini(ret);
		return -ENOMEM;
	}
	return 0;
}

static void slot_cb(void *arg)
{
	struct slot *s = arg;
	int rv = nng_aio_result(s->aio);
	struct sbx_reply reply;
	nng_msg *msg;
	uint64_t now;
	int r;

	if (s->phase == SLOT_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(s->aio));
			slot_complete(s, sbx_errno_from_nng(rv), NULL);
			return;
		}
		now = sbx_clock_mono_ms();
		s->phase = SLOT_RECV;
		nng_aio_set_timeout(s->aio, s->deadline_ms > now ? (nng_duration)(s->deadline_ms - now) : 1);
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	if (rv != 0) {
		slot_complete(s, sbx_errno_from_nng(rv), NULL);
		return;
	}
	msg = nng_aio_get_msg(s->aio);
	r = decode_reply(s, msg, &reply);
	nng_msg_free(msg);
	slot_complete(s, r, r < 0 ? NULL : &reply);
}

static int slot_acquire(struct sbx_client *c, struct slot **ret)
{
	struct slot *s = NULL;
	int rv;

	pthread_mutex_lock(&c->lock);
	s = c->free_slots;
	if (s) {
		c->free_slots = s->next_free;
		pthread_mutex_unlock(&c->lock);
		*ret = s;
		return 0;
	}
	if (c->n_slots >= SBX_CLIENT_MAX_SLOTS) {
		pthread_mutex_unlock(&c->lock);
		return -EAGAIN;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	s->client = c;
	rv = nng_ctx_open(&s->ctx, c->sock);
	if (rv == 0)
		rv = nng_aio_alloc(&s->aio, slot_cb, s);
	if (rv != 0) {
		if (s->ctx.id > 0)
			nng_ctx_close(s->ctx);
		free(s);
		pthread_mutex_unlock(&c->lock);
		return sbx_errno_from_nng(rv);
	}
	c->slots[c->n_slots++] = s;
	pthread_mutex_unlock(&c->lock);
	*ret = s;
	return 0;
}

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
	const struct sbx_call_opts *o = opts ? opts : &none;
	uint32_t timeout_ms = o->timeout_ms;
	const sbx_method *m = sbx_method_find(method);
	_cleanup_free_ void *buf = NULL;
	struct slot *s = NULL;
	nng_msg *msg;
	size_t len;
	uint64_t id;
	int r;

	if (!m)
		return -ENOENT;
	if (req && req->descriptor != m->input)
		return -EINVAL;
	if (!sbx_client_connected(c))
		return -ECONNREFUSED;
	if (timeout_ms == 0)
		timeout_ms = c->timeout_ms;
	id = atomic_fetch_add(&c->next_id, 1);
	r = sbx_envelope_pack_request(method, id, sbx_clock_wall_ms() + timeout_ms,
				      o->auth_token ? o->auth_token : c->auth_token, o->client, req,
				      &buf, &len);
	if (r < 0)
		return r;
	if (nng_msg_alloc(&msg, 0) != 0)
		return -ENOMEM;
	if (nng_msg_append(msg, buf, len) != 0) {
		nng_msg_free(msg);
		return -ENOMEM;
	}
	r = slot_acquire(c, &s);
	if (r < 0) {
		nng_msg_free(msg);
		return r;
	}
	s->method = m;
	s->id = id;
	s->cb = cb;
	s->arg = arg;
	s->phase = SLOT_SEND;
	s->deadline_ms = sbx_clock_mono_ms() + timeout_ms;
	nng_aio_set_msg(s->aio, msg);
	nng_aio_set_timeout(s->aio, (nng_duration)timeout_ms);
	nng_ctx_send(s->ctx, s->aio);
	return 0;
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

int sbx_call(struct sbx_client *c, const char *method, const ProtobufCMessage *req,
	     uint32_t timeout_ms, struct sbx_reply *ret)
{
	struct sync_wait w = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	int r;

	r = sbx_call_async(c, method, req, timeout_ms, sync_cb, &w);
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

/* Requests are not resent (a resent Run would execute twice), so a request
 * in flight when the last connection drops would wait for its timeout:
 * abort them instead. Slots are never freed while the client lives, so
 * aborting an idle or reused aio is harmless. */
static void abort_in_flight(struct sbx_client *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->n_slots;
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++)
		nng_aio_abort(c->slots[i]->aio, NNG_ECONNSHUT);
}

static void pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct sbx_client *c = arg;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&c->pipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST && atomic_fetch_sub(&c->pipes, 1) == 1)
		abort_in_flight(c);
}

int sbx_client_connected(struct sbx_client *c) { return atomic_load(&c->pipes) > 0; }

int sbx_client_open(const struct sbx_client_opts *opts, struct sbx_client **ret)
{
	const char *url = opts && opts->rpc_url ? opts->rpc_url : SBX_DEFAULT_RPC_URL;
	struct sbx_client *c;
	int64_t until;
	int rv;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->pipes, 0);
	atomic_init(&c->next_id, 1);
	c->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : SBX_CLIENT_DEFAULT_TIMEOUT_MS;
	if (opts && opts->auth_token && !(c->auth_token = strdup(opts->auth_token))) {
		free(c);
		return -ENOMEM;
	}
	rv = nng_req0_open(&c->sock);
	if (rv != 0) {
		free(c->auth_token);
		free(c);
		return sbx_errno_from_nng(rv);
	}
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 10);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 250);
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, SBX_ENVELOPE_MAX + 4096);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_cb, c);
	/* Non-blocking: a daemon that is not up yet is redialled in the
	 * background, so a client may start before its daemon. */
	rv = nng_dial(c->sock, url, NULL, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		nng_close(c->sock);
		free(c->auth_token);
		free(c);
		return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? -EINVAL : sbx_errno_from_nng(rv);
	}
	until = sbx_clock_mono_ms() + (opts ? opts->connect_wait_ms : 0);
	while (!sbx_client_connected(c) && sbx_clock_mono_ms() < until)
		nng_msleep(5);
	*ret = c;
	return 0;
}

void sbx_client_close(struct sbx_client *c)
{
	if (!c)
		return;
	/* Closing the socket completes every pending aio with NNG_ECLOSED;
	 * nng_aio_free waits for those callbacks. */
	nng_close(c->sock);
	for (size_t i = 0; i < c->n_slots; i++) {
		nng_aio_free(c->slots[i]->aio);
		free(c->slots[i]);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->auth_token);
	free(c);
}
