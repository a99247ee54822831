/* The curl side of the reverse proxy: one thread drives every transfer
 * of a server through one curl multi handle. */
#include "proxy_xfer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cleanup.h"
#include "clock.h"

/* Why one engine thread and a curl multi handle rather than a thread per
 * proxied request: a slow service or a slow client then costs a few
 * hundred bytes of state and two bounded buffers, not a thread stack, and
 * connections to a service are kept alive and reused across requests
 * (one connection cache). The price is that curl is driven from that one
 * thread only: other threads never call curl on a transfer, they set
 * `kick` and wake the loop (curl_multi_wakeup), which unpauses. */

#define POLL_MAX_MS 1000

struct gw_proxy_engine {
	CURLM *multi;
	pthread_t thread;
	bool started;
	uint32_t timeout_ms;
	pthread_mutex_t lock; /* guards pending, stopping */
	struct px *pending;   /* submitted, not added yet (via next) */
	bool stopping;
	struct px *active; /* engine thread only */
	struct px_cache *cache;
};

struct px_cache *px_engine_cache(struct gw_proxy_engine *e)
{
	return e->cache;
}

size_t px_fifo_room(const struct px_fifo *f)
{
	return f->cap - f->len;
}

size_t px_fifo_put(struct px_fifo *f, const char *p, size_t n)
{
	size_t done = 0;

	if (!f->data && n && !(f->data = malloc(f->cap)))
		return 0;
	n = n < px_fifo_room(f) ? n : px_fifo_room(f);
	while (done < n) {
		size_t tail = (f->head + f->len) % f->cap;
		size_t k = f->cap - tail < n - done ? f->cap - tail : n - done;

		memcpy(f->data + tail, p + done, k);
		f->len += k;
		done += k;
	}
	return n;
}

size_t px_fifo_get(struct px_fifo *f, char *p, size_t n)
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

void px_unref(struct px *p)
{
	int left;

	pthread_mutex_lock(&p->lock);
	left = --p->refs;
	pthread_mutex_unlock(&p->lock);
	if (left > 0)
		return;
	if (p->easy) /* never submitted */
		curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->hdrs);
	curl_slist_free_all(p->proxy_hdrs);
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

void px_kick(struct px *p)
{
	p->kick = true;
	curl_multi_wakeup(p->eng->multi);
}

void px_wake(struct px *p)
{
	if (p->mhd_waiting) {
		p->mhd_waiting = false;
		gw_request_resume(p->req);
	}
}

/* ---- curl callbacks: on the engine thread ---- */

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct px *p = arg;
	size_t got;

	pthread_mutex_lock(&p->lock);
	got = px_fifo_get(&p->up, buf, size * n);
	if (got == 0) {
		if (p->cancel)
			got = CURL_READFUNC_ABORT;
		else if (!p->up_done) {
			p->read_paused = true;
			got = CURL_READFUNC_PAUSE;
		}
	} else {
		p->progress_ms = sbx_clock_mono_ms();
		if (px_fifo_room(&p->up) >= UP_MAX / 2)
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
	} else if (px_fifo_room(&p->down) < len) {
		/* All or nothing: curl keeps a paused chunk whole. */
		p->write_paused = true;
		r = CURL_WRITEFUNC_PAUSE;
	} else if (px_fifo_put(&p->down, data, len) != len) {
		r = 0;
	} else {
		p->progress_ms = sbx_clock_mono_ms();
		px_wake(p);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Hop-by-hop headers (RFC 9110, 7.6.1), never forwarded either way. */
bool px_hop_by_hop(const char *name, size_t len)
{
	static const char *const names[] = {"Connection", "Keep-Alive",	       "TE",
					    "Trailer",	  "Transfer-Encoding", "Upgrade"};

	if (len >= 6 && strncasecmp(name, "Proxy-", 6) == 0)
		return true;
	for (size_t i = 0; i < SBX_ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

/* Does the comma-separated token list `list` name `name`? */
bool px_list_has(const char *list, const char *name, size_t len)
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
	if (px_hop_by_hop(line, nlen))
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
			p->progress_ms = sbx_clock_mono_ms();
			px_wake(p);
		}
	} else {
		keep_header(p, line, len);
	}
	pthread_mutex_unlock(&p->lock);
	return size * n;
}

/* ---- the engine ---- */

/* A transfer through a node's tunnel that failed before the service
 * answered: when the tunnel is what failed, a sentence naming the node
 * into p->fail_buf. Engine thread, p->lock held, before the cleanup. */
static bool tunnel_failed(struct px *p, CURL *easy, CURLcode result)
{
	long code = 0;

	if (!p->tunnel)
		return false;
	curl_easy_getinfo(easy, CURLINFO_HTTP_CONNECTCODE, &code);
	if (result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_PROXY)
		snprintf(p->fail_buf, sizeof(p->fail_buf),
			 "the proxy tunnel of node %s could not be reached", p->node);
	else if (code == 407)
		snprintf(p->fail_buf, sizeof(p->fail_buf),
			 "the proxy tunnel of node %s refused the gateway's cluster key", p->node);
	else if (code == 404)
		snprintf(p->fail_buf, sizeof(p->fail_buf),
			 "the proxy tunnel of node %s found no such service", p->node);
	else if (code && code != 200)
		snprintf(p->fail_buf, sizeof(p->fail_buf),
			 "the proxy tunnel of node %s answered %ld", p->node, code);
	else
		return false;
	p->fail_status = 502;
	p->fail_msg = p->fail_buf;
	return true;
}

/* The transfer ended (result), was cut (status: 504 for the proxy
 * timeout, 503 at shutdown) or its client left. The easy handle is
 * cleaned up here, so that no thread but this one ever runs curl on a
 * handle that has been in the multi handle. */
static void finish(struct gw_proxy_engine *e, struct px *p, CURLcode result, int status,
		   const char *msg)
{
	CURL *easy;

	if (p->prev)
		p->prev->next = p->next;
	else if (e->active == p)
		e->active = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	curl_multi_remove_handle(e->multi, p->easy);

	pthread_mutex_lock(&p->lock);
	easy = p->easy;
	p->easy = NULL;
	p->done = true;
	p->ok = status == 0 && result == CURLE_OK;
	if (!p->headers_done) {
		if (status) {
			p->fail_status = status;
			p->fail_msg = msg;
		} else if (tunnel_failed(p, easy, result)) {
			/* fail_status and fail_msg set */
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
	curl_easy_cleanup(easy);
	px_unref(p);
}

/* Moves the transfers queued by the HTTP threads onto the active list and
 * into the multi handle; true once the engine is stopping. */
static bool adopt_pending(struct gw_proxy_engine *e)
{
	struct px *in, *nx;
	bool stop;

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
	return stop;
}

/* Acts on each active transfer's flags (resume, cancel) and its progress
 * timeout; returns the nearest deadline still to come, 0 if none. */
static uint64_t tend_active(struct gw_proxy_engine *e, uint64_t now)
{
	uint64_t next = 0;
	struct px *p, *nx;

	for (p = e->active; p; p = nx) {
		bool kick, cancel, late;

		nx = p->next;
		pthread_mutex_lock(&p->lock);
		kick = p->kick;
		cancel = p->cancel;
		if (!p->write_paused) {
			uint64_t due = p->progress_ms + e->timeout_ms;

			late = now >= due;
			if (!next || due < next)
				next = due;
		} else {
			late = false;
		}
		p->kick = false;
		if (kick) {
			if (p->write_paused)
				p->progress_ms = now; /* the client was the slow one */
			p->read_paused = p->write_paused = false;
		}
		pthread_mutex_unlock(&p->lock);
		if (cancel)
			finish(e, p, CURLE_ABORTED_BY_CALLBACK, 0, NULL);
		else if (late)
			finish(e, p, CURLE_OK, 504,
			       "the service did not answer within the proxy timeout");
		else if (kick)
			curl_easy_pause(p->easy, CURLPAUSE_CONT);
	}
	return next;
}

/* Finishes the transfers libcurl reports done. */
static void reap_done(struct gw_proxy_engine *e)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(e->multi, &left))) {
		struct px *p = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		if (p)
			finish(e, p, m->data.result, 0, NULL);
	}
}

static void *engine_main(void *arg)
{
	struct gw_proxy_engine *e = arg;

	while (!adopt_pending(e)) {
		uint64_t now = sbx_clock_mono_ms(), next = tend_active(e, now);
		long wait = POLL_MAX_MS;
		int running;

		curl_multi_perform(e->multi, &running);
		reap_done(e);
		if (next)
			wait = next <= now		   ? 0
			       : (long)(next - now) < wait ? (long)(next - now)
							   : wait;
		curl_multi_poll(e->multi, NULL, 0, (int)wait, NULL);
	}
	while (e->active)
		finish(e, e->active, CURLE_OK, 503, "the gateway is shutting down");
	return NULL;
}

int gw_proxy_engine_new(uint32_t timeout_ms, uint32_t cache_ms, struct gw_proxy_engine **ret)
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
	e->cache = px_cache_new(cache_ms);
	if (!e->multi || !e->cache || pthread_create(&e->thread, NULL, engine_main, e) != 0) {
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
	px_cache_free(e->cache);
	pthread_mutex_destroy(&e->lock);
	free(e);
	curl_global_cleanup();
}

int px_engine_submit(struct gw_proxy_engine *e, struct px *p)
{
	pthread_mutex_lock(&e->lock);
	if (e->stopping) {
		pthread_mutex_unlock(&e->lock);
		return -ESHUTDOWN;
	}
	/* The callbacks are the engine's: they run on its thread. */
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	curl_easy_setopt(p->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(p->easy, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(p->easy, CURLOPT_READDATA, p);
	pthread_mutex_lock(&p->lock);
	p->refs++; /* the engine's */
	pthread_mutex_unlock(&p->lock);
	p->next = e->pending;
	e->pending = p;
	pthread_mutex_unlock(&e->lock);
	curl_multi_wakeup(e->multi);
	return 0;
}
