#include "rpc_handler.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cleanup.h"
#include "clock.h"
#include "envelope.h"
#include "json_pb.h"
#include "log.h"
#include "methods.h"
#include "respond.h"
#include "sentence.h"
#include "gw_server.h"
#include "status.h"

static void msg_freep(ProtobufCMessage **m)
{
	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}
#define _cleanup_msg_ __attribute__((cleanup(msg_freep)))

static const struct gw_header retry_after[] = {
	{MHD_HTTP_HEADER_RETRY_AFTER, "1"},
	{0},
};

/* libsandbox's transport errors: the call never got the daemon's answer.
 * A sentence's "%s" is the node the call went to (cluster mode). */
static const struct {
	int err;
	int http;
	const char *sentence;
} transport_errors[] = {
	{-EHOSTDOWN, 503, "node %s that holds this object is down; retry when it is back"},
	{-ECONNRESET, 503, "node %s went away while running this request; it was not retried"},
	{-ECONNREFUSED, 503, "sandbox daemon is unavailable"},
	{-ETIMEDOUT, 504, "the sandbox daemon did not answer in time"},
	{-ESHUTDOWN, 503, "the gateway is shutting down"},
	{-ECANCELED, 503, "the gateway is shutting down"},
	{-EAGAIN, 503, "the gateway has too many requests in flight; retry later"},
	{-E2BIG, 413, "the request is too large"},
	{-EBADMSG, 502, "the sandbox daemon sent a malformed reply"},
	{-ENOENT, 501, "this endpoint is not implemented yet"},
};

struct query_ctx {
	ProtobufCMessage *msg;
	const struct jpb_dialect *dialect;
	unsigned n;
	int r;
	char *err;
	size_t errlen;
};

static enum MHD_Result query_param(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct query_ctx *q = cls;
	_cleanup_free_ char *k = NULL, *v = NULL;
	int r;

	if (++q->n > GW_MAX_QUERY_PARAMS) {
		snprintf(q->err, q->errlen, "a request may have at most %d query parameters",
			 GW_MAX_QUERY_PARAMS);
		q->r = -EINVAL;
		return MHD_NO;
	}
	value = value ? value : "";
	k = malloc(strlen(key) + 1);
	v = malloc(strlen(value) + 1);
	if (!k || !v) {
		q->r = -ENOMEM;
		return MHD_NO;
	}
	if (gw_percent_decode(key, strlen(key), k) < 0 ||
	    gw_percent_decode(value, strlen(value), v) < 0) {
		snprintf(q->err, q->errlen, "the query string has a malformed percent-escape");
		q->r = -EINVAL;
		return MHD_NO;
	}
	if (!*k)
		return MHD_YES;
	r = jpb_set_from_string(q->msg, k, v, q->dialect, q->err, q->errlen);
	if (r < 0 && r != -ENOENT) {
		q->r = r;
		return MHD_NO;
	}
	return MHD_YES;
}

/* The request message from body, query string and path parameters. */
static int build_message(struct gw_request *req, const sbx_method *m, const struct jpb_dialect *dl,
			 json_t *body, ProtobufCMessage **ret, char *err, size_t errlen)
{
	const struct gw_route *rt = req->match.route;
	_cleanup_msg_ ProtobufCMessage *msg = NULL;
	struct query_ctx q = {.dialect = dl, .err = err, .errlen = errlen};
	int r;

	if (body) {
		r = jpb_from_json(m->input, body, dl, &msg, err, errlen);
		if (r < 0)
			return r;
	} else {
		msg = sbx_message_new(m->input);
		if (!msg)
			return -ENOMEM;
	}
	q.msg = msg;
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_param, &q);
	if (q.r < 0)
		return q.r;
	for (size_t i = 0; i < req->match.n_params; i++) {
		const struct gw_param *p = &req->match.params[i];

		r = jpb_set_from_string(msg, p->name, p->value, dl, err, errlen);
		if (r == -ENOENT) {
			/* The route table names a field the message lacks. */
			sbx_log(SBX_LOG_ERROR, NULL, "route %s %s: %s has no field '%s'",
				rt->method, rt->pattern, m->input->name, p->name);
			return -EPROTO;
		}
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(msg);
	return 0;
}

/* The daemon names canonical fields ("limit 'memory_kb' must be ..."); a
 * client of a dialect sent other names. The first canonical name the
 * sentence quotes that the dialect renames becomes the client's: 'mem'
 * when the units agree, else "'wall_time_ms' (from 'timeout' x 1000)" so
 * the numbers that follow still read right. */
static const char *respell_fields(const struct jpb_dialect *dl, const char *msg, char *buf,
				  size_t size)
{
	for (const struct jpb_field_map *fm = dl && msg ? dl->in : NULL; fm && fm->json; fm++) {
		const char *leaf = strrchr(fm->path, '.'), *at;
		char quoted[96];
		int n;

		leaf = leaf ? leaf + 1 : fm->path;
		snprintf(quoted, sizeof(quoted), "'%s'", leaf);
		at = strstr(msg, quoted);
		if (!at)
			continue;
		if (fm->scale == 0 || fm->scale == 1)
			n = snprintf(buf, size, "%.*s'%s'%s", (int)(at - msg), msg, fm->json,
				     at + strlen(quoted));
		else
			n = snprintf(buf, size, "%.*s%s (from '%s' x %g)%s", (int)(at - msg), msg,
				     quoted, fm->json, fm->scale, at + strlen(quoted));
		return n > 0 && (size_t)n < size ? buf : msg;
	}
	return msg;
}

/* The HTTP client's API key: `Authorization: Bearer KEY`, else
 * `X-API-Key: KEY`; NULL when it sent neither. Points into the
 * connection's headers: valid while the request is being handled. */
const char *gw_client_api_key(struct MHD_Connection *conn)
{
	const char *v =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	if (v && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		v += strspn(v, " \t");
		if (*v)
			return v;
	}
	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-API-Key");
	return v && *v ? v : NULL;
}

/* The HTTP client's address as text ("198.51.100.23", "::1"), for the
 * daemon's history and audit log; "" when MHD cannot tell. */
void gw_client_address(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	buf[0] = 0;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)size);
}

/* Fill the keys the body lacks from the dialect's defaults (checked to be
 * an object at start-up). *body may be NULL (no body): it becomes {}. */
static int apply_defaults(const struct jpb_dialect *dl, json_t **body)
{
	json_auto_t *defaults = NULL;

	if (!dl || !dl->defaults || (*body && !json_is_object(*body)))
		return 0;
	defaults = json_loads(dl->defaults, 0, NULL);
	if (!defaults)
		return -ENOMEM;
	if (!*body && !(*body = json_object()))
		return -ENOMEM;
	return json_object_update_missing(*body, defaults) < 0 ? -ENOMEM : 0;
}

int gw_rpc_check_routes(const struct gw_route *table, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct jpb_dialect *dl = table[i].dialect;
		json_auto_t *j = NULL;
		json_error_t je;

		/* A cached answer ignores the request: only for plain GETs. */
		if (table[i].cache_ms && (strcmp(table[i].method, "GET") != 0 ||
					  strpbrk(table[i].pattern, "{*"))) {
			snprintf(err, errlen, "route %s %s: only GET routes without parameters may be cached",
				 table[i].method, table[i].pattern);
			return -EINVAL;
		}
		if (!dl || !dl->defaults)
			continue;
		j = json_loads(dl->defaults, 0, &je);
		if (!json_is_object(j)) {
			snprintf(err, errlen,
				 "route %s %s: the defaults of dialect '%s' are not a "
				 "JSON object: %s",
				 table[i].method, table[i].pattern, dl->name ? dl->name : "?",
				 j ? "another JSON value" : je.text);
			return -EINVAL;
		}
	}
	return 0;
}

int gw_rpc_transport_status(int err, const char *node, char *msg, size_t size)
{
	node = node && *node ? node : "(unknown)";
	for (size_t i = 0; i < SBX_ARRAY_SIZE(transport_errors); i++)
		if (transport_errors[i].err == err) {
			/* The table's sentences are constants; some take the node. */
			snprintf(msg, size, transport_errors[i].sentence, node);
			return transport_errors[i].http;
		}
	snprintf(msg, size, "the sandbox daemon could not be reached");
	return 502;
}

static int respond_transport_error(struct gw_request *req, int err)
{
	char msg[SBX_SENTENCE_MAX];
	int http = gw_rpc_transport_status(err, req->node, msg, sizeof(msg));

	/* Worth an operator's look: a call that may have run, and errors the
	 * table does not know. */
	if (err == -ECONNRESET || (http == 502 && err != -EBADMSG))
		sbx_log(SBX_LOG_WARN, NULL, "%s %s: RPC %s failed on node %s: %s", req->method,
			req->log_path, req->match.route->rpc, *req->node ? req->node : "?",
			strerror(-err));
	return gw_respond_error(req, http, http == 503 ? retry_after : NULL, "%s", msg);
}

/* The daemon answered with a status other than OK. Its message is meant
 * for users, except behind a 500, which could carry internals. */
static int respond_status(struct gw_request *req)
{
	static const struct gw_header www_auth[] = {
		{MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sandboxd\""},
		{0},
	};
	int st = req->reply.status, http = sbx_status_http(st);
	const char *msg = req->reply.message;
	const struct gw_header *hdrs = NULL;
	char respelled[512];

	if (http == 500) {
		sbx_log(SBX_LOG_WARN, NULL, "%s %s: daemon answered %s: %s", req->method,
			req->log_path, sbx_status_name(st), msg ? msg : "");
		msg = "internal error";
	} else if (!msg || !*msg) {
		msg = MHD_get_reason_phrase_for((unsigned)http);
	} else if (http == 400) {
		msg = respell_fields(req->match.route->dialect, msg, respelled, sizeof(respelled));
	}
	if (http == 429 || http == 503)
		hdrs = retry_after;
	else if (http == 401)
		hdrs = www_auth;
	return gw_respond_error(req, http, hdrs, "%s", msg);
}

int gw_rpc_respond_failure(struct gw_request *req, int err)
{
	return err < 0 ? respond_transport_error(req, err) : respond_status(req);
}

/* Answer a cached route from its last successful answer, if still fresh
 * and the daemon is connected. Returns 1 when answered. */
static int respond_cached(struct gw_server *srv, struct gw_request *req)
{
	const struct gw_route *rt = req->match.route;
	struct gw_reply_cache *c = &srv->cache[rt - srv->routes];
	int r = 0;

	if (!rt->cache_ms || !sbx_client_connected(srv->client))
		return 0;
	pthread_mutex_lock(&c->lock);
	if (c->body && (uint64_t)sbx_clock_mono_ms() < c->until_ms)
		r = gw_respond_text(req, c->status, c->body) == 0 ? 1 : -EIO;
	pthread_mutex_unlock(&c->lock);
	return r;
}

static void cache_store(struct gw_server *srv, const struct gw_route *rt, int status, json_t *out)
{
	struct gw_reply_cache *c = &srv->cache[rt - srv->routes];
	char *text = json_dumps(out, JSON_COMPACT);

	if (!text)
		return;
	pthread_mutex_lock(&c->lock);
	free(c->body);
	c->body = text;
	c->status = status;
	c->until_ms = sbx_clock_mono_ms() + rt->cache_ms;
	pthread_mutex_unlock(&c->lock);
}

int gw_rpc_mark_partial(json_t *out, const char *partial, struct gw_header hdrs[2])
{
	if (json_is_object(out) && json_is_array(json_object_get(out, "nodes")) &&
	    json_object_set_new(out, "partial", json_boolean(*partial)) < 0)
		return -ENOMEM;
	if (*partial)
		hdrs[0] = (struct gw_header){GW_PARTIAL_HEADER, partial};
	return 0;
}

/* On the HTTP thread, after the call completed and the connection is back. */
static int rpc_finish(struct gw_server *srv, struct gw_request *req)
{
	const struct gw_route *rt = req->match.route;
	int err, status = rt->status ? rt->status : 200;
	struct gw_header hdrs[2] = {{0}, {0}};
	json_t *out;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	if (err < 0)
		return respond_transport_error(req, err);
	if (req->reply.status != SBX_OK)
		return respond_status(req);
	if (!req->reply.msg)
		return respond_transport_error(req, -EBADMSG);
	out = jpb_to_json(req->reply.msg, rt->dialect);
	if (!out || gw_rpc_mark_partial(out, req->partial, hdrs) < 0) {
		json_decref(out);
		return -ENOMEM;
	}
	if (status == 204) {
		json_decref(out);
		out = NULL;
	}
	if (out && rt->cache_ms)
		cache_store(srv, rt, status, out);
	return gw_respond(req, status, out, hdrs);
}

/* On an nng thread: hand the outcome over and let the HTTP thread answer. */
static void rpc_done(void *arg, int err, struct sbx_reply *reply)
{
	struct gw_request *req = arg;

	gw_request_finish_call(req, err, reply);
	gw_request_unref(req);
}

int gw_rpc_build_request(struct gw_request *req, const char *rpc, const struct jpb_dialect *dl,
			 ProtobufCMessage **ret)
{
	_cleanup_msg_ ProtobufCMessage *msg = NULL;
	json_auto_t *body = NULL;
	const sbx_method *m;
	char err[256] = "";
	int r;

	if (req->body.len > 0) {
		json_error_t je;

		body = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &je);
		if (!body) {
			r = gw_respond_error(
				req, 400, NULL,
				"the request body is not valid JSON: %s (line %d, column %d)",
				je.text, je.line, je.column);
			return r < 0 ? r : 1;
		}
	}
	m = sbx_method_find(rpc);
	if (!m) {
		r = gw_respond_error(req, 501, NULL, "this endpoint is not implemented yet");
		return r < 0 ? r : 1;
	}
	r = apply_defaults(dl, &body);
	if (r < 0)
		return r;
	r = build_message(req, m, dl, body, &msg, err, sizeof(err));
	if (r == -EINVAL) {
		r = gw_respond_error(req, 400, NULL, "%s", *err ? err : "the request is invalid");
		return r < 0 ? r : 1;
	}
	if (r < 0)
		return r;
	sbx_buf_fini(&req->body);
	*ret = TAKE_PTR(msg);
	return 0;
}

int gw_rpc_start(struct gw_server *srv, struct gw_request *req, const char *rpc,
		 const ProtobufCMessage *msg, gw_resume_fn on_resume)
{
	char peer[INET6_ADDRSTRLEN];
	int r;

	gw_request_suspend(req, on_resume);
	gw_request_ref(req);
	gw_client_address(req->conn, peer, sizeof(peer));
	r = gw_server_call(srv, rpc, msg, gw_client_api_key(req->conn), peer, req->node,
			   req->partial, rpc_done, req);
	if (r < 0) {
		/* No callback will come: finish here, the uniform way. */
		gw_request_finish_call(req, r, NULL);
		gw_request_unref(req);
	}
	return 0;
}

int gw_rpc_respond_call_failure(struct gw_request *req)
{
	int err;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	return gw_rpc_respond_failure(req, err < 0 || req->reply.status != SBX_OK ? err : -EBADMSG);
}

int gw_rpc_handler(struct gw_server *srv, struct gw_request *req)
{
	const struct gw_route *rt = req->match.route;
	_cleanup_msg_ ProtobufCMessage *msg = NULL;
	int r;

	r = respond_cached(srv, req);
	if (r != 0)
		return r < 0 ? r : 0;
	r = gw_rpc_build_request(req, rt->rpc, rt->dialect, &msg);
	if (r != 0)
		return r < 0 ? r : 0;
	return gw_rpc_start(srv, req, rt->rpc, msg, rpc_finish);
}
