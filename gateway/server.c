#include "gw_server.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "methods.h"
#include "logstream.h"
#include "logstream_int.h"
#include "request.h"
#include "respond.h"
#include "rpc_handler.h"

/* How long shutdown waits for cancelled requests to be resumed. */
#define RESUME_WAIT_MS 5000

/* Paths reach the router still percent-encoded, so that it can split them
 * on '/' before decoding; query strings are decoded by rpc_handler.c. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
	return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	sbx_log(SBX_LOG_WARN, NULL, "libmicrohttpd: %s", msg);
}

void gw_server_count_suspended(struct gw_server *srv, int delta)
{
	pthread_mutex_lock(&srv->lock);
	srv->suspended += (unsigned)delta;
	pthread_cond_broadcast(&srv->changed);
	pthread_mutex_unlock(&srv->lock);
}

static enum MHD_Result queued(int r)
{
	return r < 0 ? MHD_NO : MHD_YES;
}

/* Refuse a request from its headers alone. With a body announced, answer
 * at once: libmicrohttpd then skips the body and closes the connection.
 * Without one, answer at the final call, which keeps the connection. */
static enum MHD_Result refuse(struct gw_request *req, int status, const char *hdr_name,
			      const char *hdr_value, const char *fmt, ...)
{
	struct gw_header hdrs[2] = {{hdr_name, hdr_value}, {0}};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->refusal, sizeof(req->refusal), fmt, ap);
	va_end(ap);
	if (gw_request_has_body(req->conn))
		return queued(gw_respond_error(req, status, hdrs, "%s", req->refusal));
	req->state = GW_REQ_REFUSED;
	req->refusal_status = status;
	req->refusal_hdr[0] = hdr_name;
	req->refusal_hdr[1] = hdr_value;
	return MHD_YES;
}

/* A request POST /admin/api/test makes to this server (its token is
 * known to no one else). */
static bool admin_test_inner(struct gw_server *srv, struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, GW_ADMIN_TEST_HEADER);

	return v && strcmp(v, srv->admin_test_token) == 0;
}

/* First call for a request: route it and check what the headers allow. */
static enum MHD_Result begin(struct gw_server *srv, struct MHD_Connection *conn, const char *url,
			     const char *method, void **con_cls)
{
	struct gw_request *req = gw_request_new(srv, conn, method, url);
	const char *cl;

	if (!req)
		return MHD_NO;
	*con_cls = req;
	pthread_mutex_lock(&srv->lock);
	srv->in_flight++;
	pthread_mutex_unlock(&srv->lock);

	if (atomic_load(&srv->draining))
		return refuse(req, 503, MHD_HTTP_HEADER_RETRY_AFTER, "1",
			      "the gateway is shutting down");
	switch (gw_router_match(srv->routes, srv->n_routes, method, url, &req->match)) {
	case GW_MATCH_OK:
		break;
	case GW_MATCH_NOT_FOUND:
		return refuse(req, 404, NULL, NULL, "no endpoint matches this path");
	case GW_MATCH_BAD_METHOD:
		return refuse(req, 405, MHD_HTTP_HEADER_ALLOW, req->match.allow,
			      "method %s is not allowed on this path; allowed: %s", req->method,
			      req->match.allow);
	case GW_MATCH_BAD_PATH:
		return refuse(req, 400, NULL, NULL, "%s", req->match.error);
	case GW_MATCH_TOO_LONG:
		return refuse(req, 414, NULL, NULL, "the request path is longer than %d bytes",
			      GW_PATH_MAX);
	}
	if (srv->ratelimit && req->match.route->rate_limited && !admin_test_inner(srv, conn)) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		uint32_t wait_s = gw_ratelimit_take(srv->ratelimit, ci ? ci->client_addr : NULL,
						    req->start_us);

		if (wait_s) {
			snprintf(req->refusal_value, sizeof(req->refusal_value), "%u", wait_s);
			return refuse(req, 429, MHD_HTTP_HEADER_RETRY_AFTER, req->refusal_value,
				      "rate limit exceeded: %u requests per minute",
				      srv->cfg.rate_limit_per_minute);
		}
	}
	if (req->match.route->stream) {
		size_t none = 0;

		/* The body streams through: no limit, nothing collected. */
		sbx_buf_fini(&req->body);
		req->state = GW_REQ_HANDLING;
		return req->match.route->stream(srv, req, NULL, &none) < 0 ? MHD_NO : MHD_YES;
	}
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > srv->cfg.max_body)
		return refuse(req, 413, NULL, NULL,
			      "the request body is larger than the limit of %llu bytes",
			      (unsigned long long)srv->cfg.max_body);
	return MHD_YES;
}

/* A piece of the body. Never buffers past max_body: past it the rest is
 * counted and dropped so that the 413 can be sent once the body is over
 * (libmicrohttpd queues no response in the middle of a body); a client
 * that keeps sending well past the limit is disconnected instead. */
static enum MHD_Result absorb(struct gw_request *req, const char *data, size_t *size)
{
	uint64_t max = req->srv->cfg.max_body;
	size_t n = *size;
	int r;

	*size = 0;
	req->body_seen += n;
	if (req->state == GW_REQ_BODY) {
		r = sbx_buf_append(&req->body, data, n);
		if (r == -E2BIG) {
			sbx_buf_fini(&req->body);
			req->state = GW_REQ_DISCARD;
		} else if (r < 0) {
			return MHD_NO;
		}
	}
	if (req->state == GW_REQ_DISCARD && req->body_seen > 2 * max + (1u << 20)) {
		sbx_log(SBX_LOG_INFO, NULL, "%s %s: body far past the limit, disconnecting",
			req->method, req->log_path);
		return MHD_NO;
	}
	return MHD_YES;
}

/* The body is complete: run the route's handler, which queues a response
 * or suspends the connection. */
static enum MHD_Result handle(struct gw_server *srv, struct gw_request *req)
{
	const struct gw_route *rt = req->match.route;
	int r;

	if (req->state == GW_REQ_REFUSED) {
		const struct gw_header hdrs[2] = {
			{req->refusal_hdr[0], req->refusal_hdr[1]},
			{0},
		};
		return queued(gw_respond_error(req, req->refusal_status, hdrs, "%s", req->refusal));
	}
	if (req->state == GW_REQ_DISCARD)
		return queued(gw_respond_error(
			req, 413, NULL, "the request body is larger than the limit of %llu bytes",
			(unsigned long long)srv->cfg.max_body));
	if (req->state == GW_REQ_SUSPENDED) {
		gw_request_resumed(req);
		r = req->on_resume(srv, req);
	} else {
		req->state = GW_REQ_HANDLING;
		r = rt->handler ? rt->handler(srv, req) : gw_rpc_handler(srv, req);
	}
	if (req->state == GW_REQ_RESPONDED || req->state == GW_REQ_SUSPENDED)
		return MHD_YES;
	if (r < 0)
		sbx_log(SBX_LOG_ERROR, NULL, "%s %s: handler failed: %s", req->method,
			req->log_path, strerror(-r));
	/* Neither a response nor a suspend: libmicrohttpd would call again
	 * and again, so answer now. */
	return queued(gw_respond_error(req, 500, NULL, "internal error"));
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct gw_server *srv = cls;
	struct gw_request *req = *con_cls;

	if (!req)
		return begin(srv, conn, url, method, con_cls);
	/* Routed to a streaming row and not refused: it sees every call. */
	if (req->state != GW_REQ_REFUSED && req->match.route && req->match.route->stream)
		return req->match.route->stream(srv, req, upload, upload_size) < 0 ? MHD_NO : MHD_YES;
	if (*upload_size)
		return absorb(req, upload, upload_size);
	if (req->state == GW_REQ_RESPONDED)
		return MHD_YES;
	return handle(srv, req);
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return NULL;
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return "connection timed out";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return "gateway shut down";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return "client went away";
	default:
		return "connection error";
	}
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct gw_server *srv = cls;
	struct gw_request *req = *con_cls;
	const char *why = termination_name(toe);
	uint64_t us;
	char id[24];

	if (!req)
		return;
	*con_cls = NULL;
	gw_request_gone(req);
	gw_logstream_request_gone(req);
	if (req->stream_release)
		req->stream_release(req->stream_state);
	req->stream_state = NULL;
	us = (uint64_t)sbx_clock_mono_us() - req->start_us;
	gw_metrics_http(srv->metrics,
			req->match.route ? (size_t)(req->match.route - srv->routes) : srv->n_routes,
			req->status, us);
	snprintf(id, sizeof(id), "http-%llu", (unsigned long long)req->id);
	sbx_log(SBX_LOG_INFO, id, "%s %s %d %llu.%03llums%s%s", req->method, req->log_path,
		req->status, (unsigned long long)(us / 1000), (unsigned long long)(us % 1000),
		why ? " " : "", why ? why : "");
	pthread_mutex_lock(&srv->lock);
	srv->in_flight--;
	pthread_cond_broadcast(&srv->changed);
	pthread_mutex_unlock(&srv->lock);
	gw_request_unref(req);
}

int gw_server_new(const struct gw_config *cfg, const struct gw_route *routes, size_t n,
		  struct gw_server **ret, char *err, size_t errlen)
{
	unsigned char rnd[16];
	struct gw_server *srv;
	pthread_condattr_t ca;

	if (gw_router_check(routes, n, err, errlen) < 0 ||
	    gw_rpc_check_routes(routes, n, err, errlen) < 0)
		return -EINVAL;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		snprintf(err, errlen, "cannot read random bytes");
		return -EIO;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(srv->admin_test_token + 2 * i, 3, "%02x", rnd[i]);
	/* POST /admin/api/test's libcurl; counted, so one per server is fine. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(srv);
		snprintf(err, errlen, "cannot initialise libcurl");
		return -ENOMEM;
	}
	srv->cache = calloc(n ? n : 1, sizeof(*srv->cache));
	if (!srv->cache || gw_metrics_new(n, &srv->metrics) < 0 ||
	    (cfg->rate_limit_per_minute &&
	     gw_ratelimit_new(cfg->rate_limit_per_minute, cfg->rate_limit_burst,
			      cfg->rate_limit_clients, &srv->ratelimit) < 0)) {
		gw_metrics_free(srv->metrics);
		free(srv->cache);
		free(srv);
		curl_global_cleanup();
		snprintf(err, errlen, "cannot set up the rate limiter");
		return -ENOMEM;
	}
	srv->cfg = *cfg;
	srv->routes = routes;
	srv->n_routes = n;
	srv->listen_fd = -1;
	for (size_t i = 0; i < n; i++)
		pthread_mutex_init(&srv->cache[i].lock, NULL);
	atomic_init(&srv->next_id, 1);
	atomic_init(&srv->draining, false);
	atomic_init(&srv->admin_tests, 0);
	pthread_rwlock_init(&srv->calls_lock, NULL);
	pthread_mutex_init(&srv->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->changed, &ca);
	pthread_condattr_destroy(&ca);
	*ret = srv;
	return 0;
}

/* Bind the listen socket here rather than in libmicrohttpd, for a precise
 * error (EADDRINUSE...) and the bound port. */
static int open_listener(struct gw_server *srv, bool *ret_v6, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char port[8];
	int fd, r, one = 1;

	snprintf(port, sizeof(port), "%u", srv->cfg.port);
	r = getaddrinfo(srv->cfg.host, port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "cannot resolve listen address %s: %s", srv->cfg.host,
			 gai_strerror(r));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 512) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		r = -errno;
		close(fd);
		goto fail;
	}
	*ret_v6 = res->ai_family == AF_INET6;
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(res);
	return fd;
fail:
	snprintf(err, errlen, "cannot listen on %s:%s: %s", srv->cfg.host, port, strerror(-r));
	freeaddrinfo(res);
	return r;
}

int gw_server_start(struct gw_server *srv, char *err, size_t errlen)
{
	const struct gw_config *cfg = &srv->cfg;
	struct sbx_client_opts copts = {
		.rpc_url = cfg->rpc.joined,
		.rpc_dns = *cfg->rpc_dns ? cfg->rpc_dns : NULL,
		.cluster_key = *cfg->cluster_key ? cfg->cluster_key : NULL,
		.timeout_ms = cfg->request_timeout_ms,
	};
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	bool v6 = false;
	int fd, r;

	r = sbx_client_open(&copts, &srv->client);
	if (r < 0) {
		snprintf(err, errlen, "cannot use RPC address %s%s%s: %s",
			 cfg->rpc.joined ? cfg->rpc.joined : "",
			 cfg->rpc.joined && *cfg->rpc_dns ? ", " : "", cfg->rpc_dns, strerror(-r));
		return r;
	}
	/* One subscriber for every log stream, for the server's lifetime. */
	r = gw_logstreams_new(srv, &srv->logs);
	if (r < 0) {
		snprintf(err, errlen, "cannot use events address %s%s%s: %s",
			 cfg->events.joined ? cfg->events.joined : "",
			 cfg->events.joined && *cfg->events_dns ? ", " : "", cfg->events_dns,
			 strerror(-r));
		return r;
	}
	r = gw_proxy_engine_new(srv->cfg.proxy_timeout_ms, srv->cfg.proxy_cache_ms, &srv->proxy);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the reverse proxy: %s", strerror(-r));
		return r;
	}
	fd = open_listener(srv, &v6, err, errlen);
	if (fd < 0)
		return fd;
	if (v6)
		flags |= MHD_USE_IPv6;
	srv->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_access, srv,
		/* first, so that it sees the other options' errors */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg.conn_timeout_s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK,
		keep_escaped, NULL, MHD_OPTION_END);
	if (!srv->mhd) {
		close(fd);
		snprintf(err, errlen,
			 "cannot start the HTTP server (see the libmicrohttpd message)");
		return -EIO;
	}
	return 0;
}

/* Wait until *count is 0 or deadline_ms (CLOCK_MONOTONIC) passes. */
static void wait_zero(struct gw_server *srv, const unsigned *count, uint32_t timeout_ms)
{
	struct timespec until = sbx_clock_deadline(CLOCK_MONOTONIC, timeout_ms);

	pthread_mutex_lock(&srv->lock);
	while (*count > 0 && pthread_cond_timedwait(&srv->changed, &srv->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&srv->lock);
}

static unsigned count_of(struct gw_server *srv, const unsigned *count)
{
	unsigned n;

	pthread_mutex_lock(&srv->lock);
	n = *count;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

int gw_server_shutdown(struct gw_server *srv)
{
	unsigned left;

	if (!srv->mhd)
		return 0;
	atomic_store(&srv->draining, true);
	srv->listen_fd = MHD_quiesce_daemon(srv->mhd);
	/* Log streams never end by themselves. */
	gw_logstreams_end_all(srv->logs);
	wait_zero(srv, &srv->in_flight, srv->cfg.drain_timeout_ms);
	left = count_of(srv, &srv->in_flight);
	if (left)
		log_warn("%u request(s) still in flight after %u ms, cancelling them", left,
			 srv->cfg.drain_timeout_ms);

	pthread_rwlock_wrlock(&srv->calls_lock);
	srv->closed = true;
	pthread_rwlock_unlock(&srv->calls_lock);
	/* Completes every pending call with -ECANCELED, which resumes its
	 * connection; libmicrohttpd must see them all back before it stops. */
	sbx_client_close(srv->client);
	srv->client = NULL;
	/* Likewise for proxied requests waiting on their service. */
	gw_proxy_engine_stop(srv->proxy);
	wait_zero(srv, &srv->suspended, RESUME_WAIT_MS);
	left = count_of(srv, &srv->suspended);
	if (left) {
		log_error("%u connection(s) still suspended; not stopping the HTTP server", left);
		return -EBUSY;
	}
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	srv->listen_fd = -1;
	return 0;
}

void gw_server_free(struct gw_server *srv)
{
	if (!srv)
		return;
	if (srv->mhd) {
		/* Started but not shut down: shut down first. */
		if (gw_server_shutdown(srv) < 0)
			return;
	}
	sbx_client_close(srv->client);
	gw_logstreams_free(srv->logs);
	gw_proxy_engine_free(srv->proxy);
	gw_ratelimit_free(srv->ratelimit);
	gw_metrics_free(srv->metrics);
	for (size_t i = 0; i < srv->n_routes; i++) {
		pthread_mutex_destroy(&srv->cache[i].lock);
		free(srv->cache[i].body);
	}
	free(srv->cache);
	pthread_rwlock_destroy(&srv->calls_lock);
	pthread_cond_destroy(&srv->changed);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	curl_global_cleanup();
}

struct gw_logstreams *gw_ls_hub(struct gw_server *srv)
{
	return srv->logs;
}

/* A call counted for GET /metrics when it ends. */
struct counted_call {
	struct gw_server *srv;
	int method;
	sbx_call_cb cb;
	void *arg;
};

static void counted_done(void *arg, int err, struct sbx_reply *reply)
{
	struct counted_call cc = *(struct counted_call *)arg;

	free(arg);
	gw_metrics_rpc(cc.srv->metrics, cc.method, err, err < 0 || !reply ? 0 : reply->status);
	cc.cb(cc.arg, err, reply);
}

int gw_server_call(struct gw_server *srv, const char *method, const ProtobufCMessage *msg,
		   const char *auth_token, const char *client, char *node, char *partial,
		   sbx_call_cb cb, void *arg)
{
	struct counted_call *cc = malloc(sizeof(*cc));
	struct sbx_call_opts o = {.timeout_ms = srv->cfg.request_timeout_ms,
				  .auth_token = auth_token,
				  .client = client,
				  .node = node,
				  .partial = partial};
	int r;

	if (node)
		node[0] = '\0';
	if (partial)
		partial[0] = '\0';
	if (!cc)
		return -ENOMEM;
	*cc = (struct counted_call){srv, sbx_method_index(method), cb, arg};

	pthread_rwlock_rdlock(&srv->calls_lock);
	if (srv->closed)
		r = -ESHUTDOWN;
	else
		r = sbx_call_async_opts(srv->client, method, msg, &o, counted_done, cc);
	pthread_rwlock_unlock(&srv->calls_lock);
	if (r < 0) {
		gw_metrics_rpc(srv->metrics, cc->method, r, 0);
		free(cc);
	}
	return r;
}

int gw_server_node(struct gw_server *srv, const char *name, struct sbx_node *ret)
{
	int r;

	pthread_rwlock_rdlock(&srv->calls_lock);
	r = srv->closed ? -ESHUTDOWN : sbx_client_node(srv->client, name, ret);
	pthread_rwlock_unlock(&srv->calls_lock);
	return r;
}
