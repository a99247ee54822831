/* The stream machinery of gateway/logstream.h: the hub (one subscriber,
 * streams hashed by id, the keep-alive thread) and one stream's state
 * (queued events, fetched ring pages, formatted bytes, the reader).
 * Handlers that set streams up are in gateway/logroutes.c.
 *
 * Locks: hub->lock, then a stream's lock, then libmicrohttpd's and the
 * request's; a stream's lock is never held while taking the hub's. */
#include "logstream_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "respond.h"
#include "gw_server.h"
#include "status.h"

#define HUB_BUCKETS 256
/* Per stream: events queued for the reader at most. */
#define PENDING_MAX_EVENTS 8192
#define PENDING_MAX_BYTES (2u << 20)
/* Formatted bytes: the reader formats while below LOW; one entry is at
 * most SBX line (16 KiB) escaped, so MAX is never reached. */
#define OUT_LOW (128u << 10)
#define OUT_MAX (1u << 20)
/* Lines per GetLogs page. */
#define FETCH_LINES 2000
/* A quiet second after events: check the ring for lost trailing ones. */
#define QUIET_CHECK_MS 1000
/* A failed GetLogs is retried after this long. */
#define RETRY_MS 1000

struct gw_logstreams {
	struct gw_server *srv;
	struct sbx_subscription *sub;
	pthread_t ticker;
	bool ticker_started;

	pthread_mutex_t lock; /* what follows */
	pthread_cond_t tick;
	bool stopping, ended;
	unsigned count;
	uint64_t dropped_bytes; /* events dropped from full queues */
	struct gw_logstream *buckets[HUB_BUCKETS];
};

void gw_logstreams_stats(struct gw_logstreams *h, unsigned *ret_streams,
			 uint64_t *ret_dropped_bytes)
{
	*ret_streams = 0;
	*ret_dropped_bytes = 0;
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	*ret_streams = h->count;
	*ret_dropped_bytes = h->dropped_bytes;
	pthread_mutex_unlock(&h->lock);
}

static unsigned hash_id(const char *id)
{
	unsigned h = 5381;

	while (*id)
		h = h * 33 + (unsigned char)*id++;
	return h % HUB_BUCKETS;
}

/* ---- stream lifetime ------------------------------------------------- */

struct gw_logstream *gw_ls_new(struct gw_logstreams *h, struct gw_request *req,
			       enum gw_ls_kind kind, const char *id)
{
	struct gw_logstream *s = calloc(1, sizeof(*s));
	const char *key;

	if (!s)
		return NULL;
	s->hub = h;
	s->srv = h->srv;
	s->req = gw_request_ref(req);
	s->conn = req->conn;
	s->kind = kind;
	snprintf(s->id, sizeof(s->id), "%s", id);
	key = gw_client_api_key(req->conn);
	if (key && strlen(key) < sizeof(s->api_key))
		snprintf(s->api_key, sizeof(s->api_key), "%s", key);
	gw_client_address(req->conn, s->peer, sizeof(s->peer));
	s->refs = 1;
	s->next = 1;
	s->last_write_ms = sbx_clock_mono_ms();
	sbx_buf_init(&s->out, OUT_MAX);
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

void gw_ls_ref(struct gw_logstream *s)
{
	pthread_mutex_lock(&s->lock);
	s->refs++;
	pthread_mutex_unlock(&s->lock);
}

static void pending_clear(struct gw_logstream *s)
{
	while (s->head) {
		struct gw_ls_event *e = s->head;

		s->head = e->next;
		free(e);
	}
	s->tail = NULL;
	s->n_pending = 0;
	s->pending_bytes = 0;
}

void gw_ls_unref(struct gw_logstream *s)
{
	int left;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	left = --s->refs;
	pthread_mutex_unlock(&s->lock);
	if (left > 0)
		return;
	pending_clear(s);
	if (s->fetched)
		sbx__get_logs_reply__free_unpacked(s->fetched, NULL);
	sbx_reply_fini(&s->exec_reply);
	sbx_buf_fini(&s->out);
	free(s->exec_json);
	free(s->setup);
	gw_request_unref(s->req);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int gw_ls_register(struct gw_logstream *s)
{
	struct gw_logstreams *h = s->hub;
	unsigned b = hash_id(s->id);
	int r = 0;

	pthread_mutex_lock(&h->lock);
	if (h->ended)
		r = -ESHUTDOWN;
	else if (h->count >= h->srv->cfg.max_log_streams)
		r = -EBUSY;
	if (r == 0) {
		gw_ls_ref(s);
		s->registered = true;
		s->hnext = h->buckets[b];
		h->buckets[b] = s;
		h->count++;
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}

void gw_ls_unregister(struct gw_logstream *s)
{
	struct gw_logstreams *h = s->hub;
	bool was = false;

	pthread_mutex_lock(&h->lock);
	if (s->registered) {
		for (struct gw_logstream **p = &h->buckets[hash_id(s->id)]; *p; p = &(*p)->hnext)
			if (*p == s) {
				*p = s->hnext;
				break;
			}
		s->registered = false;
		h->count--;
		was = true;
	}
	pthread_mutex_unlock(&h->lock);
	if (was)
		gw_ls_unref(s);
}

/* Under s->lock: get the reader going again. In the set-up phase of an
 * execution stream, that is the request's first answer (logroutes.c). */
void gw_ls_wake(struct gw_logstream *s)
{
	if (s->phase == GW_LS_SETUP) {
		if (s->kind == GW_LS_EXEC && !s->setup_woken) {
			s->setup_woken = true;
			gw_request_finish_call(s->req, 0, NULL);
		}
		return;
	}
	if (s->suspended && !s->gone) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
		gw_server_count_suspended(s->srv, -1);
	}
}

void gw_logstream_request_gone(struct gw_request *req)
{
	struct gw_logstream *s = req->stream;

	if (!s)
		return;
	req->stream = NULL;
	pthread_mutex_lock(&s->lock);
	s->gone = true;
	if (s->suspended) {
		s->suspended = false;
		gw_server_count_suspended(s->srv, -1);
	}
	s->phase = GW_LS_DONE;
	pending_clear(s);
	pthread_mutex_unlock(&s->lock);
	gw_ls_unregister(s);
	gw_ls_unref(s);
}

/* ---- the subscriber's side ------------------------------------------- */

int gw_ls_stream_code(const char *kind)
{
	if (strcmp(kind, "stdout") == 0)
		return GW_LS_STDOUT;
	if (strcmp(kind, "stderr") == 0)
		return GW_LS_STDERR;
	if (strcmp(kind, "exit") == 0)
		return GW_LS_EXIT;
	return -1;
}

/* Queue ev on s, or drop it (a gap the reader refills from the ring).
 * Returns the bytes dropped. */
static size_t enqueue(struct gw_logstream *s, const struct sbx_event *ev, int code, uint64_t now)
{
	struct gw_ls_event *e;
	size_t dropped = 0;

	pthread_mutex_lock(&s->lock);
	if (s->phase == GW_LS_DONE || ev->seq < s->next) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	if (s->n_pending >= PENDING_MAX_EVENTS || s->pending_bytes + ev->len > PENDING_MAX_BYTES ||
	    !(e = malloc(sizeof(*e) + ev->len))) {
		s->dropped = true;
		dropped = ev->len;
	} else {
		e->next = NULL;
		e->seq = ev->seq;
		e->time_us = ev->time_us;
		e->stream = (uint8_t)code;
		e->len = ev->len;
		memcpy(e->data, ev->data, ev->len);
		if (s->tail)
			s->tail->next = e;
		else
			s->head = e;
		s->tail = e;
		s->n_pending++;
		s->pending_bytes += ev->len;
	}
	s->last_event_ms = now;
	s->check_due = true;
	gw_ls_wake(s);
	pthread_mutex_unlock(&s->lock);
	return dropped;
}

/* The subscription's thread: never blocks on a client. */
static void on_event(void *arg, const struct sbx_event *ev)
{
	struct gw_logstreams *h = arg;
	const char *id;
	uint64_t now;
	int code;

	if (strncmp(ev->topic, "logs/", 5) != 0 || (code = gw_ls_stream_code(ev->kind)) < 0)
		return;
	id = ev->topic + 5;
	now = sbx_clock_mono_ms();
	pthread_mutex_lock(&h->lock);
	for (struct gw_logstream *s = h->buckets[hash_id(id)]; s; s = s->hnext)
		if (strcmp(s->id, id) == 0)
			h->dropped_bytes += enqueue(s, ev, code, now);
	pthread_mutex_unlock(&h->lock);
}

/* Once a second: keep-alives for idle streams, and a ring check for
 * streams that went quiet after events (lost trailing events show no
 * gap until the next one). */
static void *ticker(void *arg)
{
	struct gw_logstreams *h = arg;
	uint64_t ka_ms = (uint64_t)h->srv->cfg.log_keepalive_s * 1000;
	bool was_connected = false;

	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		struct timespec until = sbx_clock_deadline(CLOCK_MONOTONIC, 1000);
		uint64_t now;
		bool connected, poll;

		pthread_cond_timedwait(&h->tick, &h->lock, &until);
		now = sbx_clock_mono_ms();
		/* Without the daemon's events (not connected yet, or it
		 * restarted) every stream reads its ring once a second, and
		 * once more right after the events are back. */
		connected = sbx_subscribe_connected(h->sub);
		poll = !connected || !was_connected;
		was_connected = connected;
		for (unsigned b = 0; b < HUB_BUCKETS; b++)
			for (struct gw_logstream *s = h->buckets[b]; s; s = s->hnext) {
				bool wake = false;

				pthread_mutex_lock(&s->lock);
				/* An execution without output yet: send the
				 * headers, then keep-alives, so that proxies
				 * do not give up on it. */
				if (s->phase == GW_LS_SETUP && s->kind == GW_LS_EXEC &&
				    now - s->last_write_ms >= ka_ms) {
					s->ka_due = true;
					gw_ls_wake(s);
				}
				if (s->phase == GW_LS_STREAMING) {
					if (now - s->last_write_ms >= ka_ms && !s->ka_due)
						wake = s->ka_due = true;
					if (poll || (s->check_due &&
						     now - s->last_event_ms >= QUIET_CHECK_MS)) {
						s->check_due = false;
						s->need_fetch = true;
						wake = true;
					}
					if (s->retry_at_ms && now >= s->retry_at_ms)
						wake = true;
					if (wake)
						gw_ls_wake(s);
				}
				pthread_mutex_unlock(&s->lock);
			}
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int gw_logstreams_new(struct gw_server *srv, struct gw_logstreams **ret)
{
	struct gw_logstreams *h = calloc(1, sizeof(*h));
	/* Every node's publisher in cluster mode: a stream's object may be
	 * on any of them (their ids never collide: they name their node). */
	struct sbx_subscribe_opts so = {
		.events_url = srv->cfg.events.joined,
		.events_dns = *srv->cfg.events_dns ? srv->cfg.events_dns : NULL,
		.topic_prefix = "logs/",
		.cb = on_event,
		.arg = h,
	};
	pthread_condattr_t ca;
	int r;

	if (!h)
		return -ENOMEM;
	h->srv = srv;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->tick, &ca);
	pthread_condattr_destroy(&ca);
	r = sbx_subscribe_open_opts(&so, &h->sub);
	if (r < 0)
		goto fail;
	if (pthread_create(&h->ticker, NULL, ticker, h) != 0) {
		r = -ENOMEM;
		goto fail;
	}
	h->ticker_started = true;
	*ret = h;
	return 0;
fail:
	gw_logstreams_free(h);
	return r;
}

void gw_logstreams_end_all(struct gw_logstreams *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->ended = true;
	for (unsigned b = 0; b < HUB_BUCKETS; b++)
		for (struct gw_logstream *s = h->buckets[b]; s; s = s->hnext) {
			pthread_mutex_lock(&s->lock);
			s->closing = true;
			gw_ls_wake(s);
			pthread_mutex_unlock(&s->lock);
		}
	pthread_mutex_unlock(&h->lock);
}

void gw_logstreams_free(struct gw_logstreams *h)
{
	if (!h)
		return;
	if (h->ticker_started) {
		pthread_mutex_lock(&h->lock);
		h->stopping = true;
		pthread_cond_broadcast(&h->tick);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->ticker, NULL);
	}
	/* The one close of the one subscriber, after every stream is gone. */
	sbx_subscribe_close(h->sub);
	pthread_cond_destroy(&h->tick);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* ---- formatting -------------------------------------------------------- */

static const char *const stream_names[] = {"stdout", "stderr", "exit"};

/* One line as the stream's client sees it. */
static void emit_line(struct gw_logstream *s, uint64_t seq, int64_t time_us, int code,
		      const void *text, size_t len)
{
	struct sbx_buf *b = &s->out;
	const char *name = stream_names[code];
	char head[64];

	if (s->kind == GW_LS_EXEC && code == GW_LS_EXIT)
		return; /* the result event says how it ended */
	if (!s->ndjson) {
		snprintf(head, sizeof(head), "id: %llu\nevent: %s\ndata: ", (unsigned long long)seq,
			 name);
		sbx_buf_append(b, head, strlen(head));
	}
	if (s->kind == GW_LS_EXEC) {
		snprintf(head, sizeof(head), "{\"seq\":%llu,\"stream\":\"%s\",\"data\":\"",
			 (unsigned long long)seq, name);
		sbx_buf_append(b, head, strlen(head));
		gw_ls_json_escape(b, text, len);
		sbx_buf_append(b, "\\n\"}", 4);
	} else {
		gw_ls_entry_json(b, s->id, seq, time_us, code, text, len, true);
	}
	sbx_buf_append(b, s->ndjson ? "\n" : "\n\n", s->ndjson ? 1 : 2);
}

/* `n` lines the ring no longer had: say so, in the stream's format. */
static void emit_lost(struct gw_logstream *s, uint64_t n)
{
	char text[160];

	s->lost += n;
	if (s->ndjson)
		snprintf(text, sizeof(text),
			 "{\"event\":\"lost\",\"lost\":%llu,\"next_seq\":%llu}\n",
			 (unsigned long long)n, (unsigned long long)(s->next + n));
	else
		snprintf(text, sizeof(text),
			 "event: lost\ndata: {\"lost\":%llu,\"next_seq\":%llu}\n\n",
			 (unsigned long long)n, (unsigned long long)(s->next + n));
	sbx_buf_append(&s->out, text, strlen(text));
}

void gw_ls_emit_raw(struct gw_logstream *s, const char *event, const char *json)
{
	if (s->ndjson) {
		sbx_buf_append(&s->out, "{\"event\":\"", 10);
		sbx_buf_append(&s->out, event, strlen(event));
		sbx_buf_append(&s->out, "\",\"data\":", 9);
		sbx_buf_append(&s->out, json, strlen(json));
		sbx_buf_append(&s->out, "}\n", 2);
		return;
	}
	sbx_buf_append(&s->out, "event: ", 7);
	sbx_buf_append(&s->out, event, strlen(event));
	sbx_buf_append(&s->out, "\ndata: ", 7);
	sbx_buf_append(&s->out, json, strlen(json));
	sbx_buf_append(&s->out, "\n\n", 2);
}

/* ---- the reader -------------------------------------------------------- */

/* The lines before seq are gone for good. */
static void lost_until(struct gw_logstream *s, uint64_t seq)
{
	if (seq > s->next) {
		emit_lost(s, seq - s->next);
		s->next = seq;
	}
}

/* A fetch read the ring to its newest line: whatever was queued when it
 * started and is still missing will not come. */
static void fetch_settled(struct gw_logstream *s)
{
	s->settled_covers = s->fetch_covers;
	if (s->final_state == GW_LS_FINAL_FETCHING)
		s->final_state = GW_LS_FINAL_DONE;
}

/* Deliver line seq (and advance); older seqs were delivered already, a
 * newer one means the lines between are gone for good. */
static void deliver(struct gw_logstream *s, uint64_t seq, int64_t time_us, int code,
		    const void *text, size_t len)
{
	if (seq < s->next)
		return;
	if (seq > s->next)
		emit_lost(s, seq - s->next);
	emit_line(s, seq, time_us, code, text, len);
	s->next = seq + 1;
}

/* Format what is ready, in seq order, while below OUT_LOW: the fetched
 * page first, then queued events up to the first gap. */
static void fill(struct gw_logstream *s)
{
	Sbx__GetLogsReply *g = s->fetched;

	if (g) {
		if (!s->fetch_started_applying) {
			s->fetch_started_applying = true;
			if (g->last_seq + 1 < s->next) {
				/* A ring behind what was sent: the daemon dropped
				 * it and made a new one, numbered from 1 again —
				 * if a second page read now agrees. */
				if (s->ring_doubt)
					s->next = g->first_seq ? g->first_seq : 1;
				s->ring_doubt = !s->ring_doubt;
				s->need_fetch = true;
				sbx__get_logs_reply__free_unpacked(g, NULL);
				s->fetched = NULL;
				return;
			}
			s->ring_doubt = false;
			if (g->n_lines && g->first_seq > s->next)
				lost_until(s, g->first_seq);
		}
		while (s->fetched_i < g->n_lines && s->out.len < OUT_LOW) {
			const Sbx__LogLine *l = g->lines[s->fetched_i++];
			int code = gw_ls_stream_code(l->stream ? l->stream : "");

			if (code >= 0)
				deliver(s, l->seq, l->time_us, code, l->text.data, l->text.len);
			else if (l->seq >= s->next)
				s->next = l->seq + 1;
		}
		if (s->fetched_i < g->n_lines)
			return;
		if (g->n_lines > 0 && g->next_seq <= g->last_seq)
			s->need_fetch = true; /* more pages */
		else
			fetch_settled(s);
		sbx__get_logs_reply__free_unpacked(g, NULL);
		s->fetched = NULL;
	}
	while (s->head && s->out.len < OUT_LOW) {
		struct gw_ls_event *e = s->head;

		if (e->seq > s->next) {
			/* Not in the ring either when it was read after e came. */
			if (e->seq <= s->settled_covers)
				lost_until(s, e->seq);
			else {
				if (!s->fetching)
					s->need_fetch = true;
				return;
			}
		}
		s->head = e->next;
		if (!s->head)
			s->tail = NULL;
		s->n_pending--;
		s->pending_bytes -= e->len;
		if (e->seq == s->next)
			deliver(s, e->seq, e->time_us, e->stream, e->data, e->len);
		free(e);
	}
	if (!s->head && s->dropped && !s->fetching) {
		s->dropped = false;
		s->need_fetch = true;
	}
}

/* On an nng thread: a page of the ring (or why not). */
static void fetch_done(void *arg, int err, struct sbx_reply *reply)
{
	struct gw_logstream *s = arg;

	pthread_mutex_lock(&s->lock);
	s->fetching = false;
	if (err == 0 && reply->status == SBX_OK && reply->msg) {
		s->fetched = (Sbx__GetLogsReply *)reply->msg;
		reply->msg = NULL;
		s->fetched_i = 0;
		s->fetch_started_applying = false;
	} else if (err == 0 && reply->status == SBX_NOT_FOUND) {
		fetch_settled(s); /* no ring (yet): nothing was kept */
	} else {
		if (!s->retry_at_ms)
			sbx_log(SBX_LOG_WARN, s->id, "log stream: GetLogs failed: %s",
				err < 0 ? strerror(-err) : sbx_status_name(reply->status));
		s->retry_at_ms = sbx_clock_mono_ms() + RETRY_MS;
		s->need_fetch = true;
	}
	if (err == 0)
		sbx_reply_fini(reply);
	gw_ls_wake(s);
	pthread_mutex_unlock(&s->lock);
	gw_ls_unref(s);
}

/* Under s->lock (dropped while the call starts): GetLogs from s->next. */
static void start_fetch(struct gw_logstream *s)
{
	Sbx__GetLogsRequest q = SBX__GET_LOGS_REQUEST__INIT;
	int r;

	q.id = s->id;
	q.from_seq = s->next;
	q.limit = FETCH_LINES;
	s->fetching = true;
	s->need_fetch = false;
	s->fetch_covers = s->tail ? s->tail->seq : s->next - 1;
	s->refs++;
	pthread_mutex_unlock(&s->lock);
	r = gw_server_call(s->srv, "GetLogs", &q.base, s->api_key[0] ? s->api_key : NULL, s->peer,
			   NULL, NULL, fetch_done, s);
	pthread_mutex_lock(&s->lock);
	if (r < 0) {
		s->fetching = false;
		s->refs--; /* the reader's own reference keeps s alive */
		s->closing = true;
	}
}

/* Under s->lock: the execution is over and every line is out. */
static bool exec_finished(struct gw_logstream *s)
{
	if (s->kind != GW_LS_EXEC || !s->result_ready || s->fetching || s->fetched)
		return false;
	if (s->final_state == GW_LS_FINAL_NONE) {
		s->final_state = GW_LS_FINAL_FETCHING;
		s->need_fetch = true;
		return false;
	}
	return s->final_state == GW_LS_FINAL_DONE && !s->need_fetch;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gw_logstream *s = cls;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->out_off < s->out.len) {
			n = (ssize_t)(s->out.len - s->out_off < max ? s->out.len - s->out_off
								    : max);
			memcpy(buf, s->out.data + s->out_off, (size_t)n);
			s->out_off += (size_t)n;
			if (s->out_off == s->out.len) {
				sbx_buf_reset(&s->out);
				s->out_off = 0;
			}
			s->last_write_ms = sbx_clock_mono_ms();
			pthread_mutex_unlock(&s->lock);
			return n;
		}
		if (s->closing || s->gone || s->phase == GW_LS_DONE) {
			s->phase = GW_LS_DONE;
			pthread_mutex_unlock(&s->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		fill(s);
		if (s->out.len)
			continue;
		if (s->need_fetch && !s->fetching &&
		    (!s->retry_at_ms || (uint64_t)sbx_clock_mono_ms() >= s->retry_at_ms)) {
			s->retry_at_ms = 0;
			start_fetch(s);
			continue;
		}
		if (exec_finished(s)) {
			gw_ls_emit_raw(s, s->exec_failed ? "error" : "result",
				       s->exec_json ? s->exec_json
						    : "{\"error\":\"internal error\"}");
			s->phase = GW_LS_DONE; /* after the result is sent */
			continue;
		}
		if (s->need_fetch && !s->fetching && !s->retry_at_ms)
			continue;
		if (s->ka_due) {
			s->ka_due = false;
			sbx_buf_append(&s->out, s->ndjson ? "\n" : ": keep-alive\n\n",
				       s->ndjson ? 1 : 14);
			continue;
		}
		s->suspended = true;
		gw_server_count_suspended(s->srv, 1);
		MHD_suspend_connection(s->conn);
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
}

static void reader_free(void *cls)
{
	gw_ls_unref(cls);
}

int gw_ls_respond(struct gw_logstream *s)
{
	struct MHD_Response *resp;

	pthread_mutex_lock(&s->lock);
	s->phase = GW_LS_STREAMING;
	s->refs++; /* the response's */
	pthread_mutex_unlock(&s->lock);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 << 10, reader, s,
						 reader_free);
	if (!resp) {
		gw_ls_unref(s);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				s->ndjson ? "application/x-ndjson" : "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* nginx and friends must not buffer a stream. */
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return gw_respond_response(s->req, 200, resp);
}
