#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "envelope.h"
#include "ipc.h"
#include "peer.h"

/* Bounds every wait of a call, so a wedged server cannot hang the run. */
#define ECHO_CALL_TIMEOUT_MS 10000

struct echo_peer {
	nng_socket sock;
	void *req; /* packed Health request envelope */
	size_t req_len;
};

struct echo_caller {
	struct echo_peer *peer;
	nng_ctx ctx;
	nng_aio *aio;
};

int echo_peer_open(const char *url, unsigned wait_ms, struct echo_peer **ret)
{
	struct echo_peer *p;
	uint64_t deadline_ms;
	int rv, r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/* A deadline like libsandbox's, so the envelope has the same size. */
	deadline_ms = (uint64_t)sbx_clock_wall_ms() + ECHO_CALL_TIMEOUT_MS;
	r = sbx_envelope_pack_request("Health", 1, deadline_ms, NULL, NULL, NULL, &p->req, &p->req_len);
	if (r < 0) {
		free(p);
		return r;
	}
	rv = nng_req0_open(&p->sock);
	if (rv != 0) {
		free(p->req);
		free(p);
		return sbx_errno_from_nng(rv);
	}
	/* As libsandbox: never resend a request. */
	nng_socket_set_ms(p->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	for (unsigned waited = 0;; waited += 10) {
		rv = nng_dial(p->sock, url, NULL, 0);
		if (rv == 0 || waited >= wait_ms)
			break;
		nng_msleep(10);
	}
	if (rv != 0) {
		echo_peer_close(p);
		return sbx_errno_from_nng(rv);
	}
	*ret = p;
	return 0;
}

void echo_peer_close(struct echo_peer *p)
{
	if (!p)
		return;
	nng_close(p->sock);
	free(p->req);
	free(p);
}

static void echo_caller_free(void *arg)
{
	struct echo_caller *c = arg;

	if (!c)
		return;
	nng_aio_free(c->aio);
	if (c->ctx.id > 0)
		nng_ctx_close(c->ctx);
	free(c);
}

static int echo_caller_new(void *peer, void **ret)
{
	struct echo_caller *c;
	int rv;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->peer = peer;
	rv = nng_ctx_open(&c->ctx, c->peer->sock);
	if (rv == 0)
		rv = nng_aio_alloc(&c->aio, NULL, NULL);
	if (rv != 0) {
		echo_caller_free(c);
		return sbx_errno_from_nng(rv);
	}
	nng_aio_set_timeout(c->aio, ECHO_CALL_TIMEOUT_MS);
	*ret = c;
	return 0;
}

static int echo_call(void *arg)
{
	struct echo_caller *c = arg;
	nng_msg *msg;
	int rv, r = 0;

	if (nng_msg_alloc(&msg, 0) != 0)
		return -ENOMEM;
	if (nng_msg_append(msg, c->peer->req, c->peer->req_len) != 0) {
		nng_msg_free(msg);
		return -ENOMEM;
	}
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
	nng_aio_wait(c->aio);
	rv = nng_aio_result(c->aio);
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(c->aio));
		return sbx_errno_from_nng(rv);
	}
	nng_ctx_recv(c->ctx, c->aio);
	nng_aio_wait(c->aio);
	rv = nng_aio_result(c->aio);
	if (rv != 0)
		return sbx_errno_from_nng(rv);
	msg = nng_aio_get_msg(c->aio);
	if (nng_msg_len(msg) != c->peer->req_len ||
	    memcmp(nng_msg_body(msg), c->peer->req, c->peer->req_len) != 0)
		r = -EBADMSG;
	nng_msg_free(msg);
	return r;
}

const struct peer_ops echo_peer_ops = {
	.name = "echo",
	.caller_new = echo_caller_new,
	.call = echo_call,
	.caller_free = echo_caller_free,
};
