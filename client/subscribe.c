/* Event subscriptions: an nng sub socket with a raised receive buffer and
 * one thread that decodes each message ("<topic>\0" + packed sbx.Event)
 * and hands it to the callback. */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.pb-c.h"
#include "sandbox.h"

/* Messages nng holds for us while the callback runs (nng's maximum). */
#define SUB_RECVBUF 8192

struct sbx_subscription {
	nng_socket sock;
	pthread_t thread;
	sbx_event_cb cb;
	void *arg;
	int connected;
};

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct sbx_subscription *s = arg;

	(void)p;
	__atomic_store_n(&s->connected, ev == NNG_PIPE_EV_ADD_POST, __ATOMIC_RELAXED);
}

static void deliver(struct sbx_subscription *s, nng_msg *m)
{
	const char *body = nng_msg_body(m);
	size_t len = nng_msg_len(m);
	const char *nul = memchr(body, 0, len);
	Sbx__Event *e;

	if (!nul)
		return;
	e = sbx__event__unpack(NULL, len - (size_t)(nul + 1 - body), (const uint8_t *)nul + 1);
	if (!e)
		return;
	struct sbx_event ev = {
		.topic = body,
		.seq = e->seq,
		.time_us = e->time_us,
		.kind = e->kind ? e->kind : "",
		.data = e->data.data,
		.len = e->data.len,
	};
	s->cb(s->arg, &ev);
	sbx__event__free_unpacked(e, NULL);
}

static void *run(void *arg)
{
	struct sbx_subscription *s = arg;
	nng_msg *m;

	/* Ends when sbx_subscribe_close closes the socket (NNG_ECLOSED). */
	for (;;) {
		int rv = nng_recvmsg(s->sock, &m, 0);
		if (rv == NNG_ECLOSED)
			break;
		if (rv != 0)
			continue;
		deliver(s, m);
		nng_msg_free(m);
	}
	return NULL;
}

int sbx_subscribe_open(const char *events_url, const char *topic_prefix, sbx_event_cb cb,
		       void *arg, struct sbx_subscription **ret)
{
	struct sbx_subscription *s;

	if (!cb || !topic_prefix)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cb = cb;
	s->arg = arg;
	if (nng_sub0_open(&s->sock) != 0) {
		free(s);
		return -ENOMEM;
	}
	nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, SUB_RECVBUF);
	nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, on_pipe, s);
	nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, on_pipe, s);
	if (nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, topic_prefix, strlen(topic_prefix)) != 0 ||
	    nng_dial(s->sock, events_url ? events_url : SBX_DEFAULT_EVENTS_URL, NULL,
		     NNG_FLAG_NONBLOCK) != 0) {
		nng_close(s->sock);
		free(s);
		return -EINVAL;
	}
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		nng_close(s->sock);
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

int sbx_subscribe_connected(struct sbx_subscription *s)
{
	return __atomic_load_n(&s->connected, __ATOMIC_RELAXED);
}

void sbx_subscribe_close(struct sbx_subscription *s)
{
	if (!s)
		return;
	nng_close(s->sock);
	pthread_join(s->thread, NULL);
	free(s);
}
