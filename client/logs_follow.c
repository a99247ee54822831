/* sbx_logs_follow: subscribe, replay the ring (GetLogs), follow live,
 * each seq once and in order. The subscription's thread only queues
 * events (bounded: past the bounds they are dropped, which is a gap like
 * any other); the caller's thread delivers and repairs gaps from the ring.
 * A quiet second triggers a GetLogs too, so lost trailing events (with
 * no later event to reveal the gap) are found. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "logs.pb-c.h"
#include "sandbox.h"
#include "status.h"

#define Q_MAX_EVENTS 65536
#define Q_MAX_BYTES (64u << 20)
#define POLL_MS 1000
#define TOPIC_MAX 200

struct qev {
	uint64_t seq;
	int64_t time_us;
	char kind[8];
	size_t len;
	char *data;
};

struct follower {
	char topic[TOPIC_MAX];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct qev *q;
	size_t head, n, bytes;
};

static void on_event(void *arg, const struct sbx_event *ev)
{
	struct follower *f = arg;
	struct qev e = {.seq = ev->seq, .time_us = ev->time_us, .len = ev->len};

	/* The prefix "logs/<id>" also matches longer ids. */
	if (strcmp(ev->topic, f->topic) != 0)
		return;
	snprintf(e.kind, sizeof(e.kind), "%s", ev->kind);
	pthread_mutex_lock(&f->lock);
	if (f->n < Q_MAX_EVENTS && f->bytes + ev->len <= Q_MAX_BYTES &&
	    (e.data = malloc(ev->len ? ev->len : 1))) {
		memcpy(e.data, ev->data, ev->len);
		f->q[(f->head + f->n) % Q_MAX_EVENTS] = e;
		f->n++;
		f->bytes += ev->len;
		pthread_cond_signal(&f->cond);
	}
	pthread_mutex_unlock(&f->lock);
}

/* Wait up to ms for an event; true with *ret (caller frees data). */
static bool pop(struct follower *f, unsigned ms, struct qev *ret)
{
	struct timespec ts = sbx_clock_deadline(CLOCK_REALTIME, ms);
	bool got = false;

	pthread_mutex_lock(&f->lock);
	while (f->n == 0)
		if (pthread_cond_timedwait(&f->cond, &f->lock, &ts) != 0)
			break;
	if (f->n > 0) {
		*ret = f->q[f->head];
		f->head = (f->head + 1) % Q_MAX_EVENTS;
		f->n--;
		f->bytes -= ret->len;
		got = true;
	}
	pthread_mutex_unlock(&f->lock);
	return got;
}

struct state {
	struct sbx_client *c;
	struct sbx_logs_follow_opts *o;
	sbx_log_line_cb cb;
	void *arg;
	uint64_t next;   /* next seq to deliver; 0 = not known yet */
	bool stop;       /* cb asked, or until_exit saw "exit" */
	bool live;       /* past the first replay: an "exit" line ends until_exit */
	bool active;     /* the last GetLogs saw an execution writing */
	bool last_exit;  /* the newest line delivered is an "exit" line */
};

static void deliver(struct state *st, uint64_t seq, int64_t t, const char *stream,
		    const void *text, size_t len)
{
	if (st->stop || seq < st->next)
		return;
	st->next = seq + 1;
	st->last_exit = strcmp(stream, "exit") == 0;
	if (st->cb(st->arg, seq, t, stream, text, len) != 0)
		st->stop = true;
	if (st->live && st->o->until_exit && strcmp(stream, "exit") == 0)
		st->stop = true;
}

/* GetLogs pages from st->next (or the tail) up to the newest line.
 * 0, -ENOENT (no ring), or an error. */
static int replay(struct state *st, uint32_t tail)
{
	for (unsigned page = 0; page < 100000 && !st->stop; page++) {
		Sbx__GetLogsRequest q = SBX__GET_LOGS_REQUEST__INIT;
		struct sbx_reply rep;
		int r;

		q.id = (char *)st->o->id;
		q.from_seq = st->next;
		q.tail = page == 0 ? tail : 0;
		r = sbx_call(st->c, "GetLogs", &q.base, 0, &rep);
		if (r < 0)
			return r;
		if (rep.status == SBX_NOT_FOUND) {
			sbx_reply_fini(&rep);
			return -ENOENT;
		}
		if (rep.status != SBX_OK) {
			sbx_reply_fini(&rep);
			return -EPROTO;
		}
		const Sbx__GetLogsReply *g = (const Sbx__GetLogsReply *)rep.msg;
		st->active = g->active;
		if (st->next && g->first_seq > st->next)
			st->o->lost += g->first_seq - st->next;
		for (size_t i = 0; i < g->n_lines && !st->stop; i++) {
			const Sbx__LogLine *l = g->lines[i];
			deliver(st, l->seq, l->time_us, l->stream, l->text.data, l->text.len);
		}
		bool more = g->n_lines > 0 && g->next_seq <= g->last_seq;
		if (!st->next || st->next < g->next_seq)
			st->next = g->next_seq;
		sbx_reply_fini(&rep);
		if (!more)
			return 0;
	}
	return 0;
}

static int follow(struct state *st, struct follower *f)
{
	uint64_t last_line = sbx_clock_mono_ms();

	while (!st->stop) {
		struct qev e;
		if (!pop(f, POLL_MS, &e)) {
			/* Quiet: maybe the last events were lost. */
			uint64_t before = st->next;
			int r = replay(st, 0);
			if (r < 0 && r != -ENOENT)
				return r;
			if (st->next != before)
				last_line = sbx_clock_mono_ms();
			else if (st->o->idle_ms &&
				 sbx_clock_mono_ms() - last_line >= st->o->idle_ms)
				return 0;
			continue;
		}
		last_line = sbx_clock_mono_ms();
		if (!st->next)
			st->next = 1; /* no ring at replay: it starts at 1 */
		if (e.seq > st->next) {
			/* A gap: fill it from the ring first. */
			int r = replay(st, 0);
			if (r < 0 && r != -ENOENT) {
				free(e.data);
				return r;
			}
			if (e.seq > st->next) {
				st->o->lost += e.seq - st->next;
				st->next = e.seq;
			}
		}
		deliver(st, e.seq, e.time_us, e.kind, e.data, e.len);
		free(e.data);
	}
	return 0;
}

int sbx_logs_follow(struct sbx_client *c, struct sbx_logs_follow_opts *o, sbx_log_line_cb cb,
		    void *arg)
{
	struct state st = {.c = c, .o = o, .cb = cb, .arg = arg};
	struct sbx_subscription *sub = NULL;
	struct follower f = {0};
	int r;

	if (!c || !o || !o->id || !*o->id || !cb ||
	    (size_t)snprintf(f.topic, sizeof(f.topic), "logs/%s", o->id) >= sizeof(f.topic))
		return -EINVAL;
	o->lost = 0;
	if (o->follow) {
		f.q = calloc(Q_MAX_EVENTS, sizeof(*f.q));
		if (!f.q)
			return -ENOMEM;
		pthread_mutex_init(&f.lock, NULL);
		pthread_cond_init(&f.cond, NULL);
		struct sbx_subscribe_opts so = { .events_url = o->events_url,
						 .events_dns = o->events_dns, .topic_prefix = f.topic,
						 .cb = on_event, .arg = &f };

		r = sbx_subscribe_open_opts(&so, &sub);
		if (r < 0)
			goto out;
		/* Subscribe first: wait (bounded) for the connection, so that
		 * nothing published after the replay is missed. */
		for (int i = 0; i < 200 && !sbx_subscribe_connected(sub); i++) {
			struct timespec ts = {0, 10 * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	r = replay(&st, o->tail);
	st.live = true;
	/* The feed appends the "exit" line, then lets go of the ring: a
	 * replay in between ends on "exit" yet says active, and that exit
	 * will not come again live. Look again until the writer is gone or
	 * a new execution writes (bounded; then follow as usual). */
	for (int i = 0; r == 0 && o->until_exit && st.active && st.last_exit && i < 20; i++) {
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
		r = replay(&st, 0);
	}
	if (r == 0 && o->until_exit && !st.active)
		st.stop = true; /* nothing running: what was kept is all there is */
	if (r == -ENOENT && o->follow)
		r = 0; /* nothing written yet: the first event starts the count */
	if (r == 0 && o->follow)
		r = follow(&st, &f);
out:
	if (o->follow) {
		sbx_subscribe_close(sub);
		for (size_t i = 0; i < f.n; i++)
			free(f.q[(f.head + i) % Q_MAX_EVENTS].data);
		free(f.q);
		pthread_mutex_destroy(&f.lock);
		pthread_cond_destroy(&f.cond);
	}
	return r;
}
