#include "rpc_handler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "envelope.h"
#include "json_pb.h"
#include "log.h"
#include "methods.h"
#include "respond.h"
#include "server.h"
#include "status.h"

static void msg_freep(ProtobufCMessage **m)
{
	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}
#define _cleanup_msg_ __attribute__((cleanup(msg_freep)))

static const struct gw_header retry_after[] = {
	{MHD_HTTP_HEADER_RETRY_AFTER, "1"},
	{NULL},
};

/* libsandbox's transport errors: the call never got the daemon's answer. */
static const struct {
	int err;
	int http;
	const char *sentence;
} transport_errors[] = {
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
static int build_message(struct gw_request *req, const sbx_method *m, json_t *body,
			 ProtobufCMessage **ret, char *err, size_t errlen)
{
	const struct gw_route *rt = req->match.route;
	_cleanup_msg_ ProtobufCMessage *msg = NULL;
	struct query_ctx q = {.dialect = rt->dialect, .err = err, .errlen = errlen};
	int r;

	if (body) {
		r = jpb_from_json(m->input, body, rt->dialect, &msg, err, errlen);
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

		r = jpb_set_from_string(msg, p->name, p->value, rt->dialect, err, errlen);
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

static int respond_transport_error(struct gw_request *req, int err)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(transport_errors); i++) {
		int http = transport_errors[i].http;

		if (transport_errors[i].err == err)
			return gw_respond_error(req, http, http == 503 ? retry_after : NULL, "%s",
						transport_errors[i].sentence);
	}
	sbx_log(SBX_LOG_WARN, NULL, "%s %s: RPC %s failed: %s", req->method, req->log_path,
		req->match.route->rpc, strerror(-err));
	return gw_respond_error(req, 502, NULL, "the sandbox daemon could not be reached");
}

/* The daemon answered with a status other than OK. Its message is meant
 * for users, except behind a 500, which could carry internals. */
static int respond_status(struct gw_request *req)
{
	static const struct gw_header www_auth[] = {
		{MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"sandboxd\""},
		{NULL},
	};
	int st = req->reply.status, http = sbx_status_http(st);
	const char *msg = req->reply.message;
	const struct gw_header *hdrs = NULL;

	if (http == 500) {
		sbx_log(SBX_LOG_WARN, NULL, "%s %s: daemon answered %s: %s", req->method,
			req->log_path, sbx_status_name(st), msg ? msg : "");
		msg = "internal error";
	} else if (!msg || !*msg) {
		msg = MHD_get_reason_phrase_for((unsigned)http);
	}
	if (http == 429 || http == 503)
		hdrs = retry_after;
	else if (http == 401)
		hdrs = www_auth;
	return gw_respond_error(req, http, hdrs, "%s", msg);
}

/* On the HTTP thread, after the call completed and the connection is back. */
static int rpc_finish(struct gw_server *srv, struct gw_request *req)
{
	const struct gw_route *rt = req->match.route;
	int err, status = rt->status ? rt->status : 200;
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
	if (!out)
		return -ENOMEM;
	if (status == 204) {
		json_decref(out);
		out = NULL;
	}
	return gw_respond(req, status, out, NULL);
}

/* On an nng thread: hand the outcome over and let the HTTP thread answer. */
static void rpc_done(void *arg, int err, struct sbx_reply *reply)
{
	struct gw_request *req = arg;

	gw_request_finish_call(req, err, reply);
	gw_request_unref(req);
}

int gw_rpc_handler(struct gw_server *srv, struct gw_request *req)
{
	const struct gw_route *rt = req->match.route;
	_cleanup_msg_ ProtobufCMessage *msg = NULL;
	json_auto_t *body = NULL;
	const sbx_method *m;
	char err[256] = "";
	int r;

	if (req->body.len > 0) {
		json_error_t je;

		body = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &je);
		if (!body)
			return gw_respond_error(
				req, 400, NULL,
				"the request body is not valid JSON: %s (line %d, column %d)",
				je.text, je.line, je.column);
	}
	m = sbx_method_find(rt->rpc);
	if (!m)
		return gw_respond_error(req, 501, NULL, "this endpoint is not implemented yet");
	r = build_message(req, m, body, &msg, err, sizeof(err));
	if (r == -EINVAL)
		return gw_respond_error(req, 400, NULL, "%s",
					*err ? err : "the request is invalid");
	if (r < 0)
		return r;
	sbx_buf_fini(&req->body);

	gw_request_suspend(req, rpc_finish);
	gw_request_ref(req);
	r = gw_server_call(srv, rt->rpc, msg, rpc_done, req);
	if (r < 0) {
		/* No callback will come: finish here, the uniform way. */
		gw_request_finish_call(req, r, NULL);
		gw_request_unref(req);
	}
	return 0;
}
