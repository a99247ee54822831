#include "echo-server.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define ECHO_MAX_CONTEXTS 4096

enum echo_phase { ECHO_RECV, ECHO_SEND };

struct echo_ctx {
	nng_ctx ctx;
	nng_aio *aio;
	enum echo_phase phase;
};

static void echo_cb(void *arg)
{
	struct echo_ctx *e = arg;
	int rv = nng_aio_result(e->aio);

	switch (e->phase) {
	case ECHO_RECV:
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		if (rv != 0) {
			nng_ctx_recv(e->ctx, e->aio);
			return;
		}
		/* The request message goes back unchanged as the reply. */
		e->phase = ECHO_SEND;
		nng_aio_set_msg(e->aio, nng_aio_get_msg(e->aio));
		nng_ctx_send(e->ctx, e->aio);
		return;
	case ECHO_SEND:
		if (rv != 0)
			nng_msg_free(nng_aio_get_msg(e->aio));
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		e->phase = ECHO_RECV;
		nng_ctx_recv(e->ctx, e->aio);
		return;
	}
}

int echo_server_run(const char *url, unsigned contexts)
{
	struct echo_ctx *ctxs;
	nng_socket sock;
	sigset_t sigs;
	int rv, sig, r = 0;

	if (contexts == 0 || contexts > ECHO_MAX_CONTEXTS)
		return -EINVAL;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	ctxs = calloc(contexts, sizeof(*ctxs));
	if (!ctxs)
		return -ENOMEM;
	rv = nng_rep0_open(&sock);
	if (rv != 0) {
		free(ctxs);
		return -ENOMEM;
	}
	rv = nng_listen(sock, url, NULL, 0);
	if (rv != 0) {
		fprintf(stderr, "echo-server: cannot listen on %s: %s\n", url, nng_strerror(rv));
		r = rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL;
		goto out;
	}
	for (unsigned i = 0; i < contexts; i++) {
		if (nng_aio_alloc(&ctxs[i].aio, echo_cb, &ctxs[i]) != 0 ||
		    nng_ctx_open(&ctxs[i].ctx, sock) != 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (unsigned i = 0; i < contexts; i++) {
		ctxs[i].phase = ECHO_RECV;
		nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
	}
	sigwait(&sigs, &sig);
out:
	/* Closing fails every pending aio with NNG_ECLOSED; the callbacks
	 * then stop rescheduling and nng_aio_free waits for them. */
	nng_close(sock);
	for (unsigned i = 0; i < contexts; i++)
		nng_aio_free(ctxs[i].aio);
	free(ctxs);
	return r;
}
