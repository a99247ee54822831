/* libsandbox's transport: calls over one daemon's nng req socket. Each call
 * takes a slot (an nng context and its aio) from a free list and drives it
 * through send -> recv in the aio callback, like nng's demo/async. Slots
 * are allocated on demand up to SBX_CONN_MAX_SLOTS and reused, never freed
 * before the connection. Which connection a call goes to is decided above
 * (client/client.c, client/route.c). */
#include "conn.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envelope.h"
#include "ipc.h"
#include "status.h"

#define SBX_CONN_MAX_SLOTS 1024

enum slot_phase { SLOT_IDLE, SLOT_SEND, SLOT_RECV };

struct slot {
	struct sbx_conn *conn;
	nng_ctx ctx;
	nng_aio *aio;
	enum slot_phase phase;
	uint64_t id;
	uint64_t deadline_ms;    /* monotonic, for the recv timeout */
	const sbx_method *method;
	sbx_conn_cb cb;
	void *arg;
	struct slot *next_free;
};

struct sbx_conn {
	nng_socket sock;
	int reset_err;
	bool fail_when_down;
	sbx_conn_pipe_cb on_pipe;
	void *pipe_arg;
	atomic_int pipes;
	atomic_bool closed;

	pthread_mutex_t lock;    /* guards the free list and n_slots */
	struct slot *free_slots;
	size_t n_slots;
	struct slot *slots[SBX_CONN_MAX_SLOTS];
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
	struct sbx_conn *c = s->conn;

	s->phase = SLOT_IDLE;
	s->cb = NULL;
	pthread_mutex_lock(&c->lock);
	s->next_free = c->free_slots;
	c->free_slots = s;
	pthread_mutex_unlock(&c->lock);
}

static void slot_complete(struct slot *s, int err, bool sent, struct sbx_reply *reply)
{
	sbx_conn_cb cb = s->cb;
	void *arg = s->arg;

	/* Release first: the callback may start the next call at once. */
	slot_release(s);
	cb(arg, err, sent, reply);
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

/* The error of a request that was sent. Closing the client cancels it
 * (whichever of the socket or its pipe nng closes first); the connection
 * dropping with the request on it is the connection's reset_err:
 * NNG_ECONNSHUT is abort_in_flight's, NNG_ECONNRESET req0's own when it
 * does not resend. */
static int recv_error(struct sbx_conn *c, int rv)
{
	if (atomic_load(&c->closed))
		return -ECANCELED;
	if (rv == NNG_ECONNSHUT || rv == NNG_ECONNRESET)
		return c->reset_err;
	return sbx_errno_from_nng(rv);
}

/* Post the receive unless the connection is closing. nng 1.5 must not see
 * a context operation while the socket closes: the operation's reference
 * on its context can end after the socket is gone, and the context's
 * teardown then locks a freed mutex ("panic: pthread_mutex_lock"). Every
 * context operation therefore runs under c->lock with closed unset, and
 * sbx_conn_shutdown sets closed under c->lock before nng_close. nng never
 * completes an aio inside nng_ctx_send or nng_ctx_recv of a req socket,
 * so no callback runs with the lock held. */
static bool ctx_recv_open(struct slot *s)
{
	struct sbx_conn *c = s->conn;
	bool open;

	pthread_mutex_lock(&c->lock);
	open = !atomic_load(&c->closed);
	if (open)
		nng_ctx_recv(s->ctx, s->aio);
	pthread_mutex_unlock(&c->lock);
	return open;
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
			slot_complete(s, atomic_load(&s->conn->closed) ? -ECANCELED : sbx_errno_from_nng(rv),
				      false, NULL);
			return;
		}
		now = sbx_clock_mono_ms();
		s->phase = SLOT_RECV;
		nng_aio_set_timeout(s->aio, s->deadline_ms > now ? (nng_duration)(s->deadline_ms - now) : 1);
		if (!ctx_recv_open(s))
			slot_complete(s, -ECANCELED, true, NULL);
		return;
	}
	if (rv != 0) {
		slot_complete(s, recv_error(s->conn, rv), true, NULL);
		return;
	}
	msg = nng_aio_get_msg(s->aio);
	r = decode_reply(s, msg, &reply);
	nng_msg_free(msg);
	slot_complete(s, r, true, r < 0 ? NULL : &reply);
}

static int slot_acquire(struct sbx_conn *c, struct slot **ret)
{
	struct slot *s = NULL;
	int rv;

	pthread_mutex_lock(&c->lock);
	if (atomic_load(&c->closed)) {
		pthread_mutex_unlock(&c->lock);
		return -ECANCELED;
	}
	s = c->free_slots;
	if (s) {
		c->free_slots = s->next_free;
		pthread_mutex_unlock(&c->lock);
		*ret = s;
		return 0;
	}
	if (c->n_slots >= SBX_CONN_MAX_SLOTS) {
		pthread_mutex_unlock(&c->lock);
		return -EAGAIN;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	s->conn = c;
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

int sbx_conn_send(struct sbx_conn *c, const sbx_method *m, uint64_t id, const void *buf,
		  size_t len, uint32_t timeout_ms, sbx_conn_cb cb, void *arg)
{
	struct slot *s = NULL;
	nng_msg *msg;
	int r;

	if (atomic_load(&c->closed))
		return -ECANCELED;
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
	/* Under the lock pipe_cb counts a drop with: a send either comes
	 * before the drop (abort_in_flight, after it, ends the send) or sees
	 * it. nng completes the aio on its own threads, never in here. */
	pthread_mutex_lock(&c->lock);
	r = atomic_load(&c->closed) ? -ECANCELED
	    : c->fail_when_down && atomic_load(&c->pipes) == 0 ? -ECONNREFUSED : 0;
	if (r < 0) {
		pthread_mutex_unlock(&c->lock);
		nng_aio_set_msg(s->aio, NULL);
		nng_msg_free(msg);
		slot_release(s);
		return r;
	}
	nng_ctx_send(s->ctx, s->aio);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* Requests are not resent (a resent Run would execute twice), so a request
 * in flight when the last connection drops would wait for its timeout:
 * abort them instead. Slots are never freed while the connection lives,
 * so aborting an idle or reused aio is harmless. */
static void abort_in_flight(struct sbx_conn *c)
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
	struct sbx_conn *c = arg;

	(void)p;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		if (atomic_fetch_add(&c->pipes, 1) == 0 && c->on_pipe)
			c->on_pipe(c->pipe_arg, true);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		bool last;

		/* Counted under the lock sbx_conn_send checks it with. */
		pthread_mutex_lock(&c->lock);
		last = atomic_fetch_sub(&c->pipes, 1) == 1;
		pthread_mutex_unlock(&c->lock);
		if (!last)
			return;
		/* Down first: a caller must not pick this node again while
		 * its calls are being aborted. */
		if (c->on_pipe)
			c->on_pipe(c->pipe_arg, false);
		abort_in_flight(c);
	}
}

int sbx_conn_connected(struct sbx_conn *c) { return atomic_load(&c->pipes) > 0; }

int sbx_conn_open(const struct sbx_conn_opts *opts, struct sbx_conn **ret)
{
	struct sbx_conn *c;
	int rv;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	atomic_init(&c->pipes, 0);
	atomic_init(&c->closed, false);
	c->reset_err = opts->reset_err;
	c->fail_when_down = opts->fail_when_down;
	c->on_pipe = opts->on_pipe;
	c->pipe_arg = opts->pipe_arg;
	rv = nng_req0_open(&c->sock);
	if (rv != 0) {
		pthread_mutex_destroy(&c->lock);
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
	rv = nng_dial(c->sock, opts->url, NULL, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		nng_close(c->sock);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? -EINVAL : sbx_errno_from_nng(rv);
	}
	*ret = c;
	return 0;
}

void sbx_conn_shutdown(struct sbx_conn *c)
{
	bool was;

	if (!c)
		return;
	/* Under the lock: no context operation is under way once closed is
	 * set (see ctx_recv_open). */
	pthread_mutex_lock(&c->lock);
	was = atomic_exchange(&c->closed, true);
	pthread_mutex_unlock(&c->lock);
	if (was)
		return;
	/* Closing the socket completes every pending aio with NNG_ECLOSED. */
	nng_close(c->sock);
}

void sbx_conn_free(struct sbx_conn *c)
{
	if (!c)
		return;
	sbx_conn_shutdown(c);
	/* nng_aio_free waits for the callbacks in progress. */
	for (size_t i = 0; i < c->n_slots; i++) {
		nng_aio_free(c->slots[i]->aio);
		free(c->slots[i]);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}
