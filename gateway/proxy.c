#include "proxy.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "cleanup.h"
#include "deploy.pb-c.h"
#include "log.h"
#include "request.h"
#include "respond.h"
#include "rpc_handler.h"
#include "server.h"
#include "status.h"

/* Why one engine thread and a curl multi handle rather than a thread per
 * proxied request: a slow service or a slow client then costs a few
 * hundred bytes of state and two bounded buffers, not a thread stack, and
 * connections to a service are kept alive and reused across requests
 * (one connection cache). The price is that curl is driven from that one
 * thread only: other threads never call curl on a transfer, they set
 * `kick` and wake the loop (curl_multi_wakeup), which unpauses. */

#define UP_MAX (256u << 10)   /* request body bytes between client and curl */
#define DOWN_MAX (256u << 10) /* response body bytes between curl and client */
#define URL_MAX (16u << 10)   /* http://localhost + path + query */
#define RESP_HEADERS_MAX 100  /* response headers kept; more are dropped */
#define RESP_HEADER_BYTES (64u << 10)
#define MHD_BLOCK (64u << 10)
#define POLL_MAX_MS 1000

/* A bounded ring of bytes. The storage is allocated on first use, so a
 * bodiless request costs nothing. */
struct fifo {
	char *data;
	size_t cap, head, len;
};

static size_t fifo_room(const struct fifo *f)
{
	return f->cap - f->len;
}

static size_t fifo_put(struct fifo *f, const char *p, size_t n)
{
	size_t done = 0;

	if (!f->data && n && !(f->data = malloc(f->cap)))
		return 0;
	n = n < fifo_room(f) ? n : fifo_room(f);
	while (done < n) {
		size_t tail = (f->head + f->len) % f->cap;
		size_t k = f->cap - tail < n - done ? f->cap - tail : n - done;

		memcpy(f->data + tail, p + done, k);
		f->len += k;
		done += k;
	}
	return n;
}

static size_t fifo_get(struct fifo *f, char *p, size_t n)
{
	size_t done = 0;

	n = n < f->len ? n : f->len;
	while (done < n) {
		size_t k = f->cap - f->head < n - done ? f->cap - f->head : n - done;

		memcpy(p + done, f->data + f->head, k);
		f->head = (f->head + k) % f->cap;
		f->len -= k;
		done += k;
	}
	return n;
}

enum px_phase {
	PX_OPENING,   /* OpenProxy in flight */
	PX_STREAMING, /* the transfer runs */
	PX_DISCARD,   /* OpenProxy failed during the body: drop it, answer at its end */
	PX_DONE,      /* answered */
};

struct gw_proxy_engine;

/* One proxied request. References: the request's (dropped when
 * libmicrohttpd completes it), the engine's while the transfer runs, the
 * response's while libmicrohttpd holds it. Fields above `lock` belong to
 * the libmicrohttpd thread driving the request, or are set before the
 * transfer is submitted and read-only after. */
struct px {
	struct gw_request *req; /* reference held */
	struct gw_proxy_engine *eng;
	enum px_phase phase;
	enum gw_req_state saved_state; /* req->state to restore after a resume */
	bool body_expected;
	int open_err; /* PX_DISCARD: the OpenProxy outcome to answer */
	CURL *easy;
	struct curl_slist *hdrs;
	char *url;
	struct px *prev, *next; /* engine thread: active list */

	pthread_mutex_t lock; /* guards what follows */
	int refs;
	struct fifo up, down;
	bool up_done;	      /* the client's body is over */
	/* The last progress before the response headers: submitted, body
	 * bytes taken by curl, body over. With none for the proxy timeout the
	 * transfer fails (504), also when a service stops reading a body. */
	uint64_t progress_ms;
	bool mhd_waiting;     /* connection suspended until the transfer moves */
	bool read_paused, write_paused;
	bool kick;	      /* the engine should unpause */
	bool cancel;	      /* the client is gone */
	bool headers_done;
	long status;
	size_t n_hv, hv_bytes;
	char *hv[RESP_HEADERS_MAX]; /* "Name\0value" */
	int64_t content_length;	    /* -1: unknown */
	char *connection;	    /* the response's Connection header */
	bool done;		    /* the transfer ended */
	bool ok;		    /* ... completely */
	int fail_status;	    /* done before headers: the HTTP status */
	const char *fail_msg;
};

struct gw_proxy_engine {
	CURLM *multi;
	pthread_t thread;
	bool started;
	uint32_t timeout_ms;
	pthread_mutex_t lock; /* guards pending, stopping */
	struct px *pending;   /* submitted, not added yet (via next) */
	bool stopping;
	struct px *active;    /* engine thread only */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void px_unref(struct px *p)
{
	int left;

	pthread_mutex_lock(&p->lock);
	left = --p->refs;
	pthread_mutex_unlock(&p->lock);
	if (left > 0)
		return;
	if (p->easy)
		curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->hdrs);
	free(p->url);
	free(p->connection);
	free(p->up.data);
	free(p->down.data);
	for (size_t i = 0; i < p->n_hv; i++)
		free(p->hv[i]);
	pthread_mutex_destroy(&p->lock);
	gw_request_unref(p->req);
	free(p);
}

/* p->lock held. Let the engine unpause the transfer. */
static void px_kick(struct px *p)
{
	p->kick = true;
	curl_multi_wakeup(p->eng->multi);
}

/* p->lock held, on the libmicrohttpd thread. The lock orders this against
 * px_wake(): no wake-up is lost between deciding to wait and waiting. */
static void px_suspend(struct px *p)
{
	p->saved_state = p->req->state;
	p->mhd_waiting = true;
	gw_request_suspend(p->req, NULL);
}

/* p->lock held, any thread: the transfer moved; resume a waiting client. */
static void px_wake(struct px *p)
{
	if (p->mhd_waiting) {
		p->mhd_waiting = false;
		gw_request_resume(p->req);
	}
}

/* On the libmicrohttpd thread, at each call: account for a resume. */
static void px_back(struct px *p)
{
	if (p->req->state == GW_REQ_SUSPENDED) {
		gw_request_resumed(p->req);
		p->req->state = p->saved_state;
	}
}

/* ---- curl callbacks: on the engine thread ---- */

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct px *p = arg;
	size_t got;

	pthread_mutex_lock(&p->lock);
	got = fifo_get(&p->up, buf, size * n);
	if (got == 0) {
		if (p->cancel)
			got = CURL_READFUNC_ABORT;
		else if (!p->up_done) {
			p->read_paused = true;
			got = CURL_READFUNC_PAUSE;
		}
	} else {
		p->progress_ms = mono_ms();
		if (fifo_room(&p->up) >= UP_MAX / 2)
			px_wake(p);
	}
	pthread_mutex_unlock(&p->lock);
	return got;
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct px *p = arg;
	size_t len = size * n, r = len;

	pthread_mutex_lock(&p->lock);
	if (p->cancel) {
		r = 0; /* aborts the transfer */
	} else if (len > DOWN_MAX) {
		r = 0; /* can never fit: curl hands at most CURL_MAX_WRITE_SIZE */
	} else if (fifo_room(&p->down) < len) {
		/* All or nothing: curl keeps a paused chunk whole. */
		p->write_paused = true;
		r = CURL_WRITEFUNC_PAUSE;
	} else if (fifo_put(&p->down, data, len) != len) {
		r = 0;
	} else {
		px_wake(p);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Hop-by-hop headers (RFC 9110, 7.6.1), never forwarded either way. */
static bool hop_by_hop(const char *name, size_t len)
{
	static const char *const names[] = {"Connection", "Keep-Alive", "TE", "Trailer",
					    "Transfer-Encoding", "Upgrade"};

	if (len >= 6 && strncasecmp(name, "Proxy-", 6) == 0)
		return true;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

/* Does the comma-separated token list `list` name `name`? */
static bool list_has(const char *list, const char *name, size_t len)
{
	while (list && *list) {
		size_t k;

		list += strspn(list, " \t,");
		k = strcspn(list, " \t,");
		if (k == len && strncasecmp(list, name, len) == 0)
			return true;
		list += k;
	}
	return false;
}

/* p->lock held. Keep one response header line (without its CRLF). */
static void keep_header(struct px *p, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	size_t nlen, vlen;
	const char *v;
	char *h;

	if (!colon || colon == line)
		return;
	nlen = (size_t)(colon - line);
	v = colon + 1;
	while (v < line + len && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(line + len - v);
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	/* The headers it names are dropped when the response is built. */
	if (nlen == 10 && strncasecmp(line, "Connection", 10) == 0 && !p->connection)
		p->connection = strndup(v, vlen);
	if (hop_by_hop(line, nlen))
		return;
	/* libmicrohttpd frames the body itself, from the size we give it. */
	if (nlen == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		p->content_length = strtoll(v, NULL, 10);
		return;
	}
	if (p->n_hv == RESP_HEADERS_MAX || p->hv_bytes + len > RESP_HEADER_BYTES)
		return;
	h = malloc(nlen + vlen + 2);
	if (!h)
		return;
	memcpy(h, line, nlen);
	h[nlen] = '\0';
	memcpy(h + nlen + 1, v, vlen);
	h[nlen + 1 + vlen] = '\0';
	p->hv[p->n_hv++] = h;
	p->hv_bytes += len;
}

/* One header line per call, status lines included; interim (1xx)
 * responses start over. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct px *p = arg;
	size_t len = size * n;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	pthread_mutex_lock(&p->lock);
	if (p->headers_done) {
		/* trailers: not forwarded */
	} else if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', len);

		p->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		for (size_t i = 0; i < p->n_hv; i++)
			free(p->hv[i]);
		p->n_hv = 0;
		p->hv_bytes = 0;
		free(p->connection);
		p->connection = NULL;
		p->content_length = -1;
	} else if (len == 0) {
		if (p->status >= 200) {
			p->headers_done = true;
			px_wake(p);
		}
	} else {
		keep_header(p, line, len);
	}
	pthread_mutex_unlock(&p->lock);
	return size * n;
}

/* ---- the engine ---- */

/* The transfer ended (result), was cut (status: 504 for the header
 * deadline, 503 at shutdown) or its client left. Engine thread, or the
 * stopping thread after the engine thread ended. */
static void finish(struct gw_proxy_engine *e, struct px *p, CURLcode result, int status,
		   const char *msg)
{
	if (p->prev)
		p->prev->next = p->next;
	else if (e->active == p)
		e->active = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	curl_multi_remove_handle(e->multi, p->easy);

	pthread_mutex_lock(&p->lock);
	p->done = true;
	p->ok = status == 0 && result == CURLE_OK;
	if (!p->headers_done) {
		if (status) {
			p->fail_status = status;
			p->fail_msg = msg;
		} else if (result == CURLE_OPERATION_TIMEDOUT) {
			p->fail_status = 504;
			p->fail_msg = "the service did not accept the connection in time";
		} else if (result == CURLE_COULDNT_CONNECT) {
			p->fail_status = 502;
			p->fail_msg = "the service refused the connection";
		} else {
			p->fail_status = 502;
			p->fail_msg = "the service closed the connection without a valid response";
		}
	}
	px_wake(p);
	pthread_mutex_unlock(&p->lock);
	px_unref(p);
}

static void *engine_main(void *arg)
{
	struct gw_proxy_engine *e = arg;

	for (;;) {
		uint64_t now, next = 0;
		struct px *in, *p, *nx;
		CURLMsg *m;
		bool stop;
		int left, running;
		long wait;

		pthread_mutex_lock(&e->lock);
		stop = e->stopping;
		in = e->pending;
		e->pending = NULL;
		pthread_mutex_unlock(&e->lock);
		for (; in; in = nx) {
			nx = in->next;
			in->prev = NULL;
			in->next = e->active;
			if (e->active)
				e->active->prev = in;
			e->active = in;
			if (curl_multi_add_handle(e->multi, in->easy) != CURLM_OK)
				finish(e, in, CURLE_OUT_OF_MEMORY, 0, NULL);
		}
		if (stop)
			break;

		now = mono_ms();
		for (p = e->active; p; p = nx) {
			bool kick, cancel, late;

			nx = p->next;
			pthread_mutex_lock(&p->lock);
			kick = p->kick;
			cancel = p->cancel;
			if (!p->headers_done) {
				uint64_t due = p->progress_ms + e->timeout_ms;

				late = now >= due;
				if (!next || due < next)
					next = due;
			} else {
				late = false;
			}
			p->kick = false;
			if (kick)
				p->read_paused = p->write_paused = false;
			pthread_mutex_unlock(&p->lock);
			if (cancel)
				finish(e, p, CURLE_ABORTED_BY_CALLBACK, 0, NULL);
			else if (late)
				finish(e, p, CURLE_OK, 504,
				       "the service did not answer within the proxy timeout");
			else if (kick)
				curl_easy_pause(p->easy, CURLPAUSE_CONT);
		}

		curl_multi_perform(e->multi, &running);
		while ((m = curl_multi_info_read(e->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			p = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
			if (p)
				finish(e, p, m->data.result, 0, NULL);
		}
		wait = POLL_MAX_MS;
		if (next)
			wait = next <= now ? 0 : (long)(next - now) < wait ? (long)(next - now) : wait;
		curl_multi_poll(e->multi, NULL, 0, (int)wait, NULL);
	}
	while (e->active)
		finish(e, e->active, CURLE_OK, 503, "the gateway is shutting down");
	return NULL;
}

int gw_proxy_engine_new(uint32_t timeout_ms, struct gw_proxy_engine **ret)
{
	struct gw_proxy_engine *e;

	/* Not thread-safe in older libcurl: called at start-up, before the
	 * HTTP threads exist. Idempotent (reference-counted by libcurl). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	e = calloc(1, sizeof(*e));
	if (!e) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	e->timeout_ms = timeout_ms;
	pthread_mutex_init(&e->lock, NULL);
	e->multi = curl_multi_init();
	if (!e->multi || pthread_create(&e->thread, NULL, engine_main, e) != 0) {
		gw_proxy_engine_free(e);
		return -EIO;
	}
	e->started = true;
	*ret = e;
	return 0;
}

void gw_proxy_engine_stop(struct gw_proxy_engine *e)
{
	if (!e || !e->started)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	pthread_mutex_unlock(&e->lock);
	curl_multi_wakeup(e->multi);
	pthread_join(e->thread, NULL);
	e->started = false;
}

void gw_proxy_engine_free(struct gw_proxy_engine *e)
{
	if (!e)
		return;
	gw_proxy_engine_stop(e);
	if (e->multi)
		curl_multi_cleanup(e->multi);
	pthread_mutex_destroy(&e->lock);
	free(e);
	curl_global_cleanup();
}

static int engine_submit(struct gw_proxy_engine *e, struct px *p)
{
	pthread_mutex_lock(&e->lock);
	if (e->stopping) {
		pthread_mutex_unlock(&e->lock);
		return -ESHUTDOWN;
	}
	pthread_mutex_lock(&p->lock);
	p->refs++; /* the engine's */
	pthread_mutex_unlock(&p->lock);
	p->next = e->pending;
	e->pending = p;
	pthread_mutex_unlock(&e->lock);
	curl_multi_wakeup(e->multi);
	return 0;
}

/* ---- the request: on its libmicrohttpd thread ---- */

/* The request is completed: the client is gone or was answered. */
static void px_release(void *state)
{
	struct px *p = state;

	pthread_mutex_lock(&p->lock);
	p->cancel = true;
	p->mhd_waiting = false;
	if (p->easy && !p->done)
		px_kick(p);
	pthread_mutex_unlock(&p->lock);
	px_unref(p);
}

static bool has_body(struct MHD_Connection *conn)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strcmp(cl, "0") != 0) ||
	       MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static void opened(void *arg, int err, struct sbx_reply *reply)
{
	struct gw_request *req = arg;

	gw_request_finish_call(req, err, reply);
	gw_request_unref(req);
}

/* First call: ask the daemon where the service is, suspended meanwhile. */
static int px_open(struct gw_server *srv, struct gw_request *req)
{
	Sbx__OpenProxyRequest msg = SBX__OPEN_PROXY_REQUEST__INIT;
	char peer[64];
	struct px *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->refs = 1;
	p->req = gw_request_ref(req);
	p->eng = srv->proxy;
	p->up.cap = UP_MAX;
	p->down.cap = DOWN_MAX;
	p->content_length = -1;
	p->body_expected = has_body(req->conn);
	req->stream_state = p;
	req->stream_release = px_release;

	msg.kind = (char *)req->match.route->stream_arg;
	msg.id = (char *)gw_match_param(&req->match, "id");
	msg.wait_ms = srv->cfg.proxy_timeout_ms;
	p->phase = PX_OPENING;
	gw_request_suspend(req, NULL);
	gw_request_ref(req);
	gw_client_address(req->conn, peer, sizeof(peer));
	r = gw_server_call(srv, "OpenProxy", &msg.base, gw_client_api_key(req->conn), peer,
			   opened, req);
	if (r < 0) {
		gw_request_finish_call(req, r, NULL);
		gw_request_unref(req);
	}
	return 0;
}

struct hdr_ctx {
	struct curl_slist *list;
	const char *connection; /* the client's Connection header */
	const char *xff;	/* the client's X-Forwarded-For */
	bool accept, failed;
};

static void add_header(struct hdr_ctx *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add_header(struct hdr_ctx *h, const char *fmt, ...)
{
	struct curl_slist *l;
	char line[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		h->failed = true;
		return;
	}
	l = curl_slist_append(h->list, line);
	if (!l)
		h->failed = true;
	else
		h->list = l;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *name,
				   const char *value)
{
	static const char *const replaced[] = {
		"Content-Length",    "Expect",		 "X-Forwarded-For",
		"X-Forwarded-Host",  "X-Forwarded-Proto", "X-Forwarded-Prefix",
	};
	struct hdr_ctx *h = cls;
	size_t len = strlen(name);

	if (hop_by_hop(name, len) || list_has(h->connection, name, len))
		return MHD_YES;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(replaced); i++)
		if (strcasecmp(name, replaced[i]) == 0)
			return MHD_YES;
	if (strcasecmp(name, "Accept") == 0)
		h->accept = true;
	/* "Name;" is curl's spelling of a header with an empty value. */
	if (!value || !*value)
		add_header(h, "%s;", name);
	else
		add_header(h, "%s: %s", name, value);
	return MHD_YES;
}

struct query_ctx {
	struct sbx_buf *url;
	bool first;
	int r;
};

/* Rebuild the query string: libmicrohttpd hands it over split but still
 * escaped (gateway/server.c), with '+' already turned into ' '. */
static enum MHD_Result copy_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct query_ctx *q = cls;
	const char *parts[3] = {key, value ? "=" : NULL, value};

	if (q->r == 0)
		q->r = sbx_buf_append(q->url, q->first ? "?" : "&", 1);
	q->first = false;
	for (int i = 0; i < 3 && parts[i] && q->r == 0; i++)
		for (const char *c = parts[i]; *c && q->r == 0; c++)
			q->r = sbx_buf_append(q->url, *c == ' ' ? "+" : c, 1);
	return q->r == 0 ? MHD_YES : MHD_NO;
}

/* The upstream request for the service behind socket_path. */
static int px_setup(struct px *p, const char *socket_path)
{
	struct gw_request *req = p->req;
	struct MHD_Connection *conn = req->conn;
	const char *rest = req->match.rest, *host, *cl;
	struct hdr_ctx h = {0};
	struct sbx_buf url;
	struct query_ctx q = {.url = &url, .first = true};
	char peer[64];
	CURL *c;

	sbx_buf_init(&url, URL_MAX);
	q.r = sbx_buf_append(&url, "http://localhost", 16);
	if (q.r == 0)
		q.r = rest && *rest ? sbx_buf_append(&url, rest, strlen(rest))
				    : sbx_buf_append(&url, "/", 1);
	if (q.r == 0)
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, copy_arg, &q);
	if (q.r < 0) {
		sbx_buf_fini(&url);
		return q.r;
	}
	p->url = sbx_buf_steal(&url, NULL);

	h.connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
	h.xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
	host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, copy_header, &h);
	gw_client_address(conn, peer, sizeof(peer));
	if (h.xff && *peer)
		add_header(&h, "X-Forwarded-For: %s, %s", h.xff, peer);
	else if (*peer)
		add_header(&h, "X-Forwarded-For: %s", peer);
	if (host)
		add_header(&h, "X-Forwarded-Host: %s", host);
	add_header(&h, "X-Forwarded-Proto: http");
	add_header(&h, "X-Forwarded-Prefix: /%s/%s", req->match.route->stream_arg,
		   gw_match_param(&req->match, "id"));
	/* Nothing of curl's own: no "Expect: 100-continue" round trip, no
	 * "Accept: * / *" the client did not send. */
	add_header(&h, "Expect:");
	if (!h.accept)
		add_header(&h, "Accept:");
	p->hdrs = h.list;
	if (h.failed)
		return -ENOMEM;

	c = p->easy = curl_easy_init();
	if (!c)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, p->url);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)p->eng->timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, p->hdrs);
	curl_easy_setopt(c, CURLOPT_PRIVATE, p);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 64L << 10);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 64L << 10);
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (p->body_expected || (cl && strcmp(req->method, "GET") != 0)) {
		/* With a size curl sends Content-Length, without one chunks. */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, p);
		if (cl)
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
					 (curl_off_t)strtoll(cl, NULL, 10));
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
	return 0;
}

/* The OpenProxy outcome is in: start the transfer, or answer the error
 * now or, when `later`, at the final call (PX_DISCARD). */
static int px_start(struct gw_server *srv, struct px *p, bool later)
{
	struct gw_request *req = p->req;
	const Sbx__OpenProxyReply *rep;
	int err, r;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	if (err == 0 && req->reply.status == SBX_OK && !req->reply.msg)
		err = -EBADMSG;
	if (err < 0 || req->reply.status != SBX_OK) {
		if (later) {
			p->open_err = err;
			p->phase = PX_DISCARD;
			return 0;
		}
		p->phase = PX_DONE;
		return gw_rpc_respond_failure(req, err);
	}
	rep = (const Sbx__OpenProxyReply *)req->reply.msg;
	if (!rep->socket_path || rep->socket_path[0] != '/') {
		sbx_log(SBX_LOG_WARN, NULL, "%s %s: OpenProxy gave no socket path", req->method,
			req->log_path);
		p->open_err = -EBADMSG;
		p->phase = later ? PX_DISCARD : PX_DONE;
		return later ? 0 : gw_rpc_respond_failure(req, -EBADMSG);
	}
	r = px_setup(p, rep->socket_path);
	pthread_mutex_lock(&p->lock);
	p->up_done = !p->body_expected;
	p->progress_ms = mono_ms();
	pthread_mutex_unlock(&p->lock);
	if (r == 0)
		r = engine_submit(p->eng, p);
	if (r < 0) {
		p->open_err = r == -ESHUTDOWN ? r : -EIO;
		p->phase = later ? PX_DISCARD : PX_DONE;
		if (later)
			return 0;
		if (r == -ESHUTDOWN)
			return gw_rpc_respond_failure(req, r);
		return gw_respond_error(req, 502, NULL, "the service could not be reached");
	}
	p->phase = PX_STREAMING;
	return 0;
}

/* libmicrohttpd pulls the response body. */
static ssize_t px_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct px *p = cls;
	ssize_t r;
	size_t n;

	px_back(p);
	pthread_mutex_lock(&p->lock);
	n = fifo_get(&p->down, buf, max);
	if (n > 0) {
		if (p->write_paused && fifo_room(&p->down) >= DOWN_MAX / 2)
			px_kick(p);
		r = (ssize_t)n;
	} else if (p->done) {
		r = p->ok ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
	} else {
		/* Returning 0 without suspending would spin. */
		px_suspend(p);
		r = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

static void px_response_free(void *cls)
{
	px_unref(cls);
}

/* Headers are in (or the transfer failed first): queue the response. */
static int px_respond(struct px *p)
{
	struct gw_request *req = p->req;
	struct MHD_Response *resp;
	uint64_t size = MHD_SIZE_UNKNOWN;
	enum MHD_Result queued;
	long status;

	p->phase = PX_DONE;
	pthread_mutex_lock(&p->lock);
	if (!p->headers_done) {
		int st = p->fail_status ? p->fail_status : 502;
		const char *msg = p->fail_msg ? p->fail_msg : "the service did not answer";

		pthread_mutex_unlock(&p->lock);
		sbx_log(SBX_LOG_INFO, NULL, "%s %s: %s", req->method, req->log_path, msg);
		return gw_respond_error(req, st, NULL, "%s", msg);
	}
	status = p->status;
	if (p->content_length >= 0)
		size = (uint64_t)p->content_length;
	if (status == 204 || status == 304)
		size = 0;
	p->refs++; /* the response's */
	pthread_mutex_unlock(&p->lock);

	/* The header list is only written before headers_done. */
	resp = MHD_create_response_from_callback(size, MHD_BLOCK, px_read, p, px_response_free);
	if (!resp) {
		px_unref(p);
		return -EIO;
	}
	for (size_t i = 0; i < p->n_hv; i++)
		if (!list_has(p->connection, p->hv[i], strlen(p->hv[i])))
			MHD_add_response_header(resp, p->hv[i], p->hv[i] + strlen(p->hv[i]) + 1);
	queued = MHD_queue_response(req->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (queued != MHD_YES)
		return -EIO;
	req->status = (int)status;
	req->state = GW_REQ_RESPONDED;
	return 0;
}

/* A piece of the client's body: into `up`, as much as fits. */
static int px_upload(struct px *p, const char *data, size_t *size)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	if (p->done || p->cancel) {
		/* The service is done with this request: drop the rest. */
		*size = 0;
	} else {
		n = fifo_put(&p->up, data, *size);
		*size -= n;
		if (n && p->read_paused)
			px_kick(p);
		if (*size)
			px_suspend(p);
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* The client's body is over: wait for the response headers. */
static int px_body_over(struct px *p)
{
	pthread_mutex_lock(&p->lock);
	if (!p->up_done) {
		/* Kicked either way: the engine starts the header clock. */
		p->up_done = true;
		p->progress_ms = mono_ms();
		if (p->easy)
			px_kick(p);
	}
	if (!p->headers_done && !p->done) {
		px_suspend(p);
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	pthread_mutex_unlock(&p->lock);
	return px_respond(p);
}

int gw_proxy_stream(struct gw_server *srv, struct gw_request *req, const char *upload,
		    size_t *upload_size)
{
	struct px *p = req->stream_state;
	int r = 0;

	if (!p)
		return px_open(srv, req);
	px_back(p);
	switch (p->phase) {
	case PX_OPENING:
		/* Back from OpenProxy: libmicrohttpd calls again while still
		 * before the body (unless data came). A response queued now
		 * closes the connection (it might have a body we did not
		 * read): right for an error with a body to skip, wasteful
		 * otherwise, so without a body everything waits for the
		 * final call, which comes next. */
		r = px_start(srv, p, *upload_size > 0 || !p->body_expected);
		if (p->phase == PX_DISCARD)
			*upload_size = 0;
		if (r < 0 || p->phase != PX_STREAMING)
			break;
		if (*upload_size)
			return px_upload(p, upload, upload_size);
		return 0;
	case PX_STREAMING:
		if (*upload_size)
			return px_upload(p, upload, upload_size);
		return px_body_over(p);
	case PX_DISCARD:
		if (*upload_size) {
			*upload_size = 0;
			return 0;
		}
		p->phase = PX_DONE;
		return gw_rpc_respond_failure(req, p->open_err);
	case PX_DONE:
		*upload_size = 0;
		return 0;
	}
	if (r < 0)
		sbx_log(SBX_LOG_ERROR, NULL, "%s %s: proxy failed: %s", req->method, req->log_path,
			strerror(-r));
	return r;
}
