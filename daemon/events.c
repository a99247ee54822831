#include "events.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cleanup.h"
#include "ipc.h"
#include "log.h"
#include "rpc.pb-c.h"

#define EVENTS_MAX_TOPICS 65536
#define EVENTS_TOPIC_MAX 200
/* Messages queued per subscriber before it starts losing them. */
#define EVENTS_SENDBUF 8192

struct topic {
	char *name;
	uint64_t seq;
	struct topic *next;
};

struct sbx_events {
	nng_socket sock;
	pthread_mutex_t lock;    /* guards the topic table and sends, so sequence order is send order */
	struct topic *buckets[1024];
	size_t n_topics;
};

static size_t topic_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % 1024;
}

/* The topic's entry, created on first use; NULL when the table is full. */
static struct topic *topic_get(struct sbx_events *ev, const char *name)
{
	size_t h = topic_hash(name);
	struct topic *t;

	for (t = ev->buckets[h]; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	if (ev->n_topics >= EVENTS_MAX_TOPICS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->name = strdup(name))) {
		free(t);
		return NULL;
	}
	t->next = ev->buckets[h];
	ev->buckets[h] = t;
	ev->n_topics++;
	return t;
}

int sbx_events_open(const char *url, struct sbx_events **ret)
{
	struct sbx_events *ev = calloc(1, sizeof(*ev));
	int rv;

	if (!ev)
		return -ENOMEM;
	pthread_mutex_init(&ev->lock, NULL);
	if (nng_pub0_open(&ev->sock) != 0) {
		free(ev);
		return -ENOMEM;
	}
	nng_socket_set_int(ev->sock, NNG_OPT_SENDBUF, EVENTS_SENDBUF);
	sbx_ipc_prepare(url);
	rv = nng_listen(ev->sock, url, NULL, 0);
	if (rv != 0) {
		log_error("cannot listen on %s: %s", url, nng_strerror(rv));
		nng_close(ev->sock);
		free(ev);
		return rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL;
	}
	*ret = ev;
	return 0;
}

void sbx_events_close(struct sbx_events *ev)
{
	if (!ev)
		return;
	nng_close(ev->sock);
	for (size_t i = 0; i < SBX_ARRAY_SIZE(ev->buckets); i++)
		for (struct topic *t = ev->buckets[i], *n; t; t = n) {
			n = t->next;
			free(t->name);
			free(t);
		}
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

int64_t sbx_events_publish(struct sbx_events *ev, const char *topic, const char *kind,
			   const void *data, size_t len)
{
	Sbx__Event e = SBX__EVENT__INIT;
	size_t tlen = strlen(topic), plen;
	struct timeval tv;
	struct topic *t;
	nng_msg *msg;
	int64_t seq;

	if (tlen == 0 || tlen > EVENTS_TOPIC_MAX)
		return -EINVAL;
	gettimeofday(&tv, NULL);
	e.topic = (char *)topic;
	e.kind = (char *)kind;
	e.time_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	e.data.data = (uint8_t *)data;
	e.data.len = len;
	pthread_mutex_lock(&ev->lock);
	t = topic_get(ev, topic);
	if (!t) {
		pthread_mutex_unlock(&ev->lock);
		return -ENOSPC;
	}
	/* Sized with its seq: a varint, whose length the packing needs. */
	e.seq = t->seq + 1;
	plen = sbx__event__get_packed_size(&e);
	if (nng_msg_alloc(&msg, tlen + 1 + plen) != 0) {
		pthread_mutex_unlock(&ev->lock);
		return -ENOMEM;
	}
	t->seq++;
	seq = (int64_t)e.seq;
	memcpy(nng_msg_body(msg), topic, tlen + 1);
	sbx__event__pack(&e, (uint8_t *)nng_msg_body(msg) + tlen + 1);
	/* pub never blocks: a full subscriber queue drops the message. */
	if (nng_sendmsg(ev->sock, msg, 0) != 0)
		nng_msg_free(msg);
	pthread_mutex_unlock(&ev->lock);
	return seq;
}

int sbx_events_send(struct sbx_events *ev, const char *topic, const char *kind, uint64_t seq,
		    int64_t time_us, const void *data, size_t len)
{
	Sbx__Event e = SBX__EVENT__INIT;
	size_t tlen = strlen(topic);
	nng_msg *msg;

	if (tlen == 0 || tlen > EVENTS_TOPIC_MAX)
		return -EINVAL;
	e.topic = (char *)topic;
	e.kind = (char *)kind;
	e.seq = seq;
	e.time_us = time_us;
	e.data.data = (uint8_t *)data;
	e.data.len = len;
	if (nng_msg_alloc(&msg, tlen + 1 + sbx__event__get_packed_size(&e)) != 0)
		return -ENOMEM;
	memcpy(nng_msg_body(msg), topic, tlen + 1);
	sbx__event__pack(&e, (uint8_t *)nng_msg_body(msg) + tlen + 1);
	if (nng_sendmsg(ev->sock, msg, 0) != 0)
		nng_msg_free(msg);
	return 0;
}
