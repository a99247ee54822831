/* The libmicrohttpd side of the reverse proxy: every call of a proxied
 * request, OpenProxy, the upstream request built from the client's, the
 * body pieces into `up`, the response pulled from `down`. All of it runs
 * on the libmicrohttpd thread driving the request. */
#include "proxy_xfer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cleanup.h"
#include "clock.h"
#include "deploy.pb-c.h"
#include "log.h"
#include "request.h"
#include "respond.h"
#include "rpc_handler.h"
#include "gw_server.h"
#include "status.h"

#define URL_MAX (16u << 10) /* http://localhost + path + query */
#define MHD_BLOCK (64u << 10)

/* p->lock held, on the libmicrohttpd thread. The lock orders this against
 * px_wake(): no wake-up is lost between deciding to wait and waiting. */
static void px_suspend(struct px *p)
{
	p->saved_state = p->req->state;
	p->mhd_waiting = true;
	gw_request_suspend(p->req, NULL);
}

/* On the libmicrohttpd thread, at each call: account for a resume. */
static void px_back(struct px *p)
{
	if (p->req->state == GW_REQ_SUSPENDED) {
		gw_request_resumed(p->req);
		p->req->state = p->saved_state;
	}
}

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

static void opened(void *arg, int err, struct sbx_reply *reply)
{
	struct gw_request *req = arg;

	gw_request_finish_call(req, err, reply);
	gw_request_unref(req);
}

static const char *px_kind(const struct px *p)
{
	return p->req->match.route->stream_arg;
}

static const char *px_id(const struct px *p)
{
	return gw_match_param(&p->req->match, "id");
}

static int px_go(struct px *p, const struct px_where *w, bool later);

/* The service's name that the node's tunnel takes (README "Cluster"): its
 * socket's file name without ".sock", a UUID. 0, or -EBADMSG for a path
 * that ends otherwise. */
static int px_target(const char *socket_path, char *buf, size_t size)
{
	const char *name = strrchr(socket_path, '/');
	size_t n;

	name = name ? name + 1 : socket_path;
	n = strlen(name);
	if (n <= 5 || strcmp(name + n - 5, ".sock") != 0 || n - 5 >= size ||
	    strspn(name, "0123456789abcdef-") != n - 5)
		return -EBADMSG;
	memcpy(buf, name, n - 5);
	buf[n - 5] = '\0';
	return 0;
}

/* The host of a node's RPC address, "tcp://HOST:PORT" or
 * "tcp://[V6]:PORT" (tcp4://, tcp6:// alike), into host[size] as a URL
 * spells it; false for any other transport (ipc://: this host). */
static bool tcp_host(const char *address, char *host, size_t size)
{
	static const char *const schemes[] = {"tcp://", "tcp4://", "tcp6://"};
	const char *h = NULL, *end;

	for (size_t i = 0; i < SBX_ARRAY_SIZE(schemes) && !h; i++)
		if (strncmp(address, schemes[i], strlen(schemes[i])) == 0)
			h = address + strlen(schemes[i]);
	if (!h)
		return false;
	end = *h == '[' ? strchr(h, ']') : strrchr(h, ':');
	if (end && *h == '[')
		end++;
	if (!end || end == h || (size_t)(end - h) >= size)
		return false;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	return true;
}

/* Where OpenProxy's answer from `node` puts the service: that node's
 * tunnel when the node is reached over TCP and has one, else the socket,
 * as with one daemon. 0, or -EBADMSG for an answer that cannot be used. */
static int px_where_of(struct gw_server *srv, const char *node, const Sbx__OpenProxyReply *rep,
		       struct px_where *w)
{
	struct sbx_node n;
	char host[256], target[72];

	memset(w, 0, sizeof(*w));
	if (!rep->socket_path || rep->socket_path[0] != '/' ||
	    strlen(rep->socket_path) >= sizeof(w->path) || rep->tunnel_port > 65535)
		return -EBADMSG;
	strcpy(w->path, rep->socket_path);
	snprintf(w->node, sizeof(w->node), "%s", node);
	if (!rep->tunnel_port || gw_server_node(srv, node, &n) < 0 ||
	    !tcp_host(n.address, host, sizeof(host)))
		return 0;
	if (px_target(w->path, target, sizeof(target)) < 0)
		return -EBADMSG;
	snprintf(w->proxy, sizeof(w->proxy), "http://%s:%u", host, (unsigned)rep->tunnel_port);
	return 0;
}

/* A kept answer, unless it names a tunnel whose node is down now: then
 * OpenProxy says so (503 naming the node) rather than a failed connect. */
static bool px_cached(struct gw_server *srv, struct px *p, struct px_where *w)
{
	struct px_cache *c = px_engine_cache(p->eng);
	struct sbx_node n;

	if (!px_cache_get(c, px_kind(p), px_id(p), w))
		return false;
	if (!*w->proxy || (gw_server_node(srv, w->node, &n) == 0 && n.up))
		return true;
	px_cache_drop(c, px_kind(p), px_id(p));
	return false;
}

/* First call: ask the daemon where the service is, suspended meanwhile. */
static int px_open(struct gw_server *srv, struct gw_request *req)
{
	Sbx__OpenProxyRequest msg = SBX__OPEN_PROXY_REQUEST__INIT;
	struct px_where where;
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
	p->body_expected = gw_request_has_body(req->conn);
	req->stream_state = p;
	req->stream_release = px_release;

	/* Known where the service is: no daemon round trip. */
	if (px_cached(srv, p, &where))
		return px_go(p, &where, true);
	msg.kind = (char *)req->match.route->stream_arg;
	msg.id = (char *)gw_match_param(&req->match, "id");
	msg.wait_ms = srv->cfg.proxy_timeout_ms;
	p->phase = PX_OPENING;
	p->saved_state = GW_REQ_HANDLING;
	gw_request_suspend(req, NULL);
	gw_request_ref(req);
	gw_client_address(req->conn, peer, sizeof(peer));
	r = gw_server_call(srv, "OpenProxy", &msg.base, gw_client_api_key(req->conn), peer,
			   req->node, NULL, opened, req);
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
		"Content-Length",    "Expect",
		"X-Forwarded-For",   "X-Forwarded-Host",
		"X-Forwarded-Proto", "X-Forwarded-Prefix",
		/* the gateway's own token: never to a sandbox */
		GW_ADMIN_TEST_HEADER,
	};
	struct hdr_ctx *h = cls;
	size_t len = strlen(name);

	if (px_hop_by_hop(name, len) || px_list_has(h->connection, name, len))
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

/* Through a node's tunnel: libcurl's proxy, which it asks to CONNECT to
 * the service by name (the URL's host), with the cluster key for the
 * tunnel alone. Else the forwarder's socket on this host. */
static int px_route(struct px *p, CURL *c, const struct px_where *w)
{
	const char *key = p->req->srv->cfg.cluster_key;
	char line[GW_CLUSTER_KEY_MAX + 40];

	if (!*w->proxy) {
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, w->path);
		return 0;
	}
	if (*key) {
		snprintf(line, sizeof(line), "Proxy-Authorization: Bearer %s", key);
		p->proxy_hdrs = curl_slist_append(NULL, line);
		explicit_bzero(line, sizeof(line));
		if (!p->proxy_hdrs)
			return -ENOMEM;
		curl_easy_setopt(c, CURLOPT_PROXYHEADER, p->proxy_hdrs);
	}
	curl_easy_setopt(c, CURLOPT_PROXY, w->proxy);
	/* The environment's no_proxy must not send it around the tunnel. */
	curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(c, CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
	/* The tunnel's own answer is not the service's: keep it out of the
	 * response headers (a refused CONNECT is an error, proxy_engine.c). */
	curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	return 0;
}

/* The upstream URL's start: the socket's "http://localhost", or for the
 * tunnel the service by name at its port in its sandbox (the forwarder's
 * target), which the tunnel's CONNECT asks for. */
static int px_base(struct px *p, const struct px_where *w, char *base, size_t size)
{
	char target[72];

	p->tunnel = *w->proxy;
	snprintf(p->node, sizeof(p->node), "%s", *w->node ? w->node : "(unknown)");
	if (!p->tunnel) {
		snprintf(base, size, "http://localhost");
		return 0;
	}
	if (px_target(w->path, target, sizeof(target)) < 0)
		return -EBADMSG;
	snprintf(base, size, "http://%s:3000", target);
	return 0;
}

/* The upstream request for the service at w. */
static int px_setup(struct px *p, const struct px_where *w)
{
	struct gw_request *req = p->req;
	struct MHD_Connection *conn = req->conn;
	const char *rest = req->match.rest, *host, *cl;
	struct hdr_ctx h = {0};
	struct sbx_buf url;
	struct query_ctx q = {.url = &url, .first = true};
	char peer[64], base[96];
	CURL *c;

	if (px_base(p, w, base, sizeof(base)) < 0)
		return -EBADMSG;
	sbx_buf_init(&url, URL_MAX);
	q.r = sbx_buf_append(&url, base, strlen(base));
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
	if (px_route(p, c, w) < 0)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)req->srv->cfg.proxy_timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, p->hdrs);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 64L << 10);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 64L << 10);
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (p->body_expected || (cl && strcmp(req->method, "GET") != 0)) {
		/* With a size curl sends Content-Length, without one chunks. */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
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

/* A failed OpenProxy: the daemon's UNAVAILABLE means the service is down
 * (it exited; the message says how), which a proxy calls 502 Bad Gateway;
 * everything else, the daemon itself down included (503), as usual. */
static int respond_open_failure(struct gw_request *req, int err)
{
	if (err == 0 && req->reply.status == SBX_UNAVAILABLE)
		return gw_respond_error(req, 502, NULL, "%s",
					req->reply.message && *req->reply.message
						? req->reply.message
						: "the service is not running");
	return gw_rpc_respond_failure(req, err);
}

/* Set up the transfer to w and hand it to the engine; errors answered now
 * or, when `later`, at the final call. */
static int px_go(struct px *p, const struct px_where *w, bool later)
{
	struct gw_request *req = p->req;
	int r = px_setup(p, w);

	pthread_mutex_lock(&p->lock);
	p->up_done = !p->body_expected;
	p->progress_ms = sbx_clock_mono_ms();
	pthread_mutex_unlock(&p->lock);
	if (r == 0)
		r = px_engine_submit(p->eng, p);
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

static int px_start(struct gw_server *srv, struct px *p, bool later)
{
	struct gw_request *req = p->req;
	const Sbx__OpenProxyReply *rep;
	struct px_where where;
	int err;

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
		return respond_open_failure(req, err);
	}
	rep = (const Sbx__OpenProxyReply *)req->reply.msg;
	if (px_where_of(srv, req->node, rep, &where) < 0) {
		sbx_log(SBX_LOG_WARN, NULL, "%s %s: OpenProxy gave no usable socket path",
			req->method, req->log_path);
		p->open_err = -EBADMSG;
		p->phase = later ? PX_DISCARD : PX_DONE;
		return later ? 0 : gw_rpc_respond_failure(req, -EBADMSG);
	}
	px_cache_put(px_engine_cache(p->eng), px_kind(p), px_id(p), &where);
	return px_go(p, &where, later);
}

/* libmicrohttpd pulls the response body. */
static ssize_t px_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct px *p = cls;
	ssize_t r;
	size_t n;

	px_back(p);
	pthread_mutex_lock(&p->lock);
	n = px_fifo_get(&p->down, buf, max);
	if (n > 0) {
		if (p->write_paused && px_fifo_room(&p->down) >= DOWN_MAX / 2)
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
	long status;

	p->phase = PX_DONE;
	pthread_mutex_lock(&p->lock);
	if (!p->headers_done) {
		int st = p->fail_status ? p->fail_status : 502;

		/* Maybe the service is gone: ask the daemon next time. */
		px_cache_drop(px_engine_cache(p->eng), px_kind(p), px_id(p));
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
		if (!px_list_has(p->connection, p->hv[i], strlen(p->hv[i])))
			MHD_add_response_header(resp, p->hv[i], p->hv[i] + strlen(p->hv[i]) + 1);
	return gw_respond_response(req, (int)status, resp);
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
		n = px_fifo_put(&p->up, data, *size);
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
		p->progress_ms = sbx_clock_mono_ms();
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
		return respond_open_failure(req, p->open_err);
	case PX_DONE:
		*upload_size = 0;
		return 0;
	}
	if (r < 0)
		sbx_log(SBX_LOG_ERROR, NULL, "%s %s: proxy failed: %s", req->method, req->log_path,
			strerror(-r));
	return r;
}
