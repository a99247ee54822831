/* The routes of gateway/logstream.h: setting a stream up (subscribe, then
 * read the ring, then answer) and the answers that are not streams. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "api.pb-c.h"
#include "cleanup.h"
#include "envelope.h"
#include "log.h"
#include "logstream_int.h"
#include "methods.h"
#include "respond.h"
#include "gw_server.h"
#include "status.h"

/* `lines` at most: one GetLogs reply's worth (daemon/logs/logs.h). */
#define LINES_MAX 10000
#define LINES_DEFAULT 100
/* Lines per GetLogs page when resuming after Last-Event-ID. */
#define RESUME_PAGE 2000

/* What differs between the objects whose logs are followed. */
struct logs_route {
	const char *noun;	/* for the 404 sentence */
	const char *exists_rpc; /* asked when the daemon has no logs for the id */
	/* Without follow: the row's own RPC answers (else: the ring's tail as
	 * a JSON array of entries). */
	bool rpc_unless_follow;
	/* The route's parameter holding the id, and exists_rpc's request
	 * field for it. */
	const char *param, *id_field;
};

static const struct logs_route sandbox_logs = {"sandbox", "GetSandbox", true, "id", "id"};
static const struct logs_route deployment_logs = {"deployment", "GetDeployment", false, "id",
						  "id"};
static const struct logs_route session_logs = {"session", "GetSession", false, "session_id",
					       "session_id"};

/* A setting-up follow stream's request (the stream's own fields). */
struct follow_setup {
	const struct logs_route *route;
	uint32_t lines;
	bool oneshot; /* answer the tail as JSON, no stream */
	bool has_resume;
	uint64_t resume_after;
};

static void msg_freep(ProtobufCMessage **m)
{
	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}
#define _cleanup_msg_ __attribute__((cleanup(msg_freep)))

/* A query parameter, percent-decoded (the server keeps them raw), into
 * buf; NULL when absent or too long for buf. */
static const char *query_value(struct MHD_Connection *conn, const char *key, char *buf, size_t size)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);

	if (!v || strlen(v) >= size || gw_percent_decode(v, strlen(v), buf) < 0)
		return NULL;
	return buf;
}

/* follow=true|false|1|0. 0, or 1 when answered (400). */
static int parse_follow(struct gw_request *req, bool *follow)
{
	char buf[32];
	const char *v = query_value(req->conn, "follow", buf, sizeof(buf));
	int r;

	*follow = v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
	if (!v || !*v || *follow || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	r = gw_respond_error(req, 400, NULL, "query parameter 'follow' must be true or false");
	return r < 0 ? r : 1;
}

/* lines=N, 0 to LINES_MAX. 0, or 1 when answered (400). */
static int parse_lines(struct gw_request *req, uint32_t *lines)
{
	char buf[32];
	const char *v;
	int r;

	*lines = LINES_DEFAULT;
	if (!MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "lines"))
		return 0;
	v = query_value(req->conn, "lines", buf, sizeof(buf));
	if (v && *v && strspn(v, "0123456789") == strlen(v) && strlen(v) <= 6 &&
	    atoi(v) <= LINES_MAX) {
		*lines = (uint32_t)atoi(v);
		return 0;
	}
	r = gw_respond_error(req, 400, NULL,
			     "query parameter 'lines' must be an integer from 0 to %d", LINES_MAX);
	return r < 0 ? r : 1;
}

static bool wants_ndjson(struct MHD_Connection *conn)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);

	return a && strcasestr(a, "application/x-ndjson");
}

/* Take the request's reply message (the set-up's calls land there). */
static ProtobufCMessage *take_reply_msg(struct gw_request *req)
{
	ProtobufCMessage *m = req->reply.msg;

	req->reply.msg = NULL;
	sbx_reply_fini(&req->reply);
	memset(&req->reply, 0, sizeof(req->reply));
	return m;
}

static int call_err(struct gw_request *req)
{
	int err;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	return err;
}

/* The set-up ended with an answer other than the stream. */
static int abandon(struct gw_logstream *s, int r)
{
	pthread_mutex_lock(&s->lock);
	s->phase = GW_LS_DONE;
	pthread_mutex_unlock(&s->lock);
	gw_ls_unregister(s);
	return r;
}

/* The last `lines` kept lines as a JSON array of the seed's entries. */
static int respond_tail(struct gw_request *req, const char *id, const Sbx__GetLogsReply *g,
			uint32_t lines)
{
	size_t skip = g && g->n_lines > lines ? g->n_lines - lines : 0;
	struct sbx_buf b;
	bool first = true;
	int r;

	sbx_buf_init(&b, 64u << 20);
	sbx_buf_append(&b, "[", 1);
	for (size_t i = skip; g && i < g->n_lines; i++) {
		const Sbx__LogLine *l = g->lines[i];
		int code = gw_ls_stream_code(l->stream ? l->stream : "");

		if (code < 0)
			continue;
		if (!first)
			sbx_buf_append(&b, ",", 1);
		first = false;
		gw_ls_entry_json(&b, id, l->seq, l->time_us, code, l->text.data, l->text.len,
				 false);
	}
	if (sbx_buf_append(&b, "]", 1) < 0) {
		sbx_buf_fini(&b);
		return -ENOMEM;
	}
	r = gw_respond_text(req, 200, b.data);
	sbx_buf_fini(&b);
	return r;
}

/* The daemon has no logs for the id: does the object exist at all? */
static int got_exists(struct gw_server *srv, struct gw_request *req)
{
	struct gw_logstream *s = req->stream;
	const struct follow_setup *fs = s->setup;
	int err = call_err(req);

	(void)srv;
	if (err == 0 &&
	    (req->reply.status == SBX_NOT_FOUND || req->reply.status == SBX_UNIMPLEMENTED))
		return abandon(s, gw_respond_error(req, 404, NULL, "%s '%s' not found",
						   fs->route->noun, s->id));
	if (err < 0 || req->reply.status != SBX_OK)
		return abandon(s, gw_rpc_respond_call_failure(req));
	sbx_reply_fini(&req->reply);
	memset(&req->reply, 0, sizeof(req->reply));
	if (fs->oneshot)
		return abandon(s, respond_tail(req, s->id, NULL, 0));
	/* No line yet: the ring will start at 1. */
	pthread_mutex_lock(&s->lock);
	s->next = fs->has_resume ? fs->resume_after + 1 : 1;
	pthread_mutex_unlock(&s->lock);
	return gw_ls_respond(s);
}

static int got_logs(struct gw_server *srv, struct gw_request *req)
{
	struct gw_logstream *s = req->stream;
	const struct follow_setup *fs = s->setup;
	_cleanup_msg_ ProtobufCMessage *q = NULL;
	Sbx__GetLogsReply *g;
	int err = call_err(req);
	size_t skip;

	if (err == 0 && req->reply.status == SBX_NOT_FOUND) {
		const sbx_method *m = sbx_method_find(fs->route->exists_rpc);
		char why[128];

		sbx_reply_fini(&req->reply);
		memset(&req->reply, 0, sizeof(req->reply));
		if (!m || !(q = sbx_message_new(m->input)))
			return abandon(s, -ENOMEM);
		if (jpb_set_from_string(q, fs->route->id_field, s->id, NULL, why, sizeof(why)) < 0)
			return abandon(s, -EPROTO);
		return gw_rpc_start(srv, req, fs->route->exists_rpc, q, got_exists);
	}
	if (err < 0 || req->reply.status != SBX_OK || !req->reply.msg)
		return abandon(s, gw_rpc_respond_call_failure(req));
	g = (Sbx__GetLogsReply *)take_reply_msg(req);
	if (fs->oneshot) {
		int r = respond_tail(req, s->id, g, fs->lines);

		sbx__get_logs_reply__free_unpacked(g, NULL);
		return abandon(s, r);
	}
	/* Replay: the page goes out through the reader like any other, from
	 * the first line wanted; events queued meanwhile follow it. */
	pthread_mutex_lock(&s->lock);
	if (fs->has_resume) {
		s->next = fs->resume_after + 1;
	} else {
		skip = g->n_lines > fs->lines ? g->n_lines - fs->lines : 0;
		s->next = skip < g->n_lines ? g->lines[skip]->seq : g->next_seq;
	}
	s->fetched = g;
	s->fetched_i = 0;
	s->fetch_started_applying = false;
	s->fetch_covers = 0;
	pthread_mutex_unlock(&s->lock);
	return gw_ls_respond(s);
}

static int last_event_id(struct MHD_Connection *conn, uint64_t *ret)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
	char *end;

	if (!v || !*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 19)
		return 0;
	*ret = strtoull(v, &end, 10);
	return 1;
}

static int logs_handler(struct gw_server *srv, struct gw_request *req, const struct logs_route *lr)
{
	Sbx__GetLogsRequest q = SBX__GET_LOGS_REQUEST__INIT;
	const char *id = gw_match_param(&req->match, lr->param);
	struct follow_setup *fs;
	struct gw_logstream *s;
	bool follow;
	uint32_t lines;
	int r;

	r = parse_follow(req, &follow);
	if (r != 0)
		return r < 0 ? r : 0;
	/* Without follow, `lines` is the RPC's, with its own bounds. */
	if (!follow && lr->rpc_unless_follow)
		return gw_rpc_handler(srv, req);
	r = parse_lines(req, &lines);
	if (r != 0)
		return r < 0 ? r : 0;
	if (!id || strlen(id) > GW_LS_ID_MAX)
		return gw_respond_error(req, 404, NULL, "%s not found", lr->noun);
	s = gw_ls_new(gw_ls_hub(srv), req, GW_LS_FOLLOW, id);
	fs = calloc(1, sizeof(*fs));
	if (!s || !fs) {
		free(fs);
		gw_ls_unref(s);
		return -ENOMEM;
	}
	s->setup = fs;
	fs->route = lr;
	fs->lines = lines;
	fs->oneshot = !follow;
	fs->has_resume = follow && last_event_id(req->conn, &fs->resume_after);
	s->ndjson = wants_ndjson(req->conn);
	req->stream = s; /* the caller's reference, until the request is gone */
	if (follow) {
		r = gw_ls_register(s);
		if (r == -EBUSY) {
			return gw_respond_error(
				req, 429,
				(const struct gw_header[]){{MHD_HTTP_HEADER_RETRY_AFTER, "1"},
							   {0}},
				"too many log streams are open (at most %u); retry later",
				srv->cfg.max_log_streams);
		}
		if (r < 0)
			return gw_respond_error(req, 503, NULL, "the gateway is shutting down");
	}
	q.id = s->id;
	if (fs->has_resume) {
		q.from_seq = fs->resume_after + 1;
		q.limit = RESUME_PAGE;
	} else {
		/* tail 0 would mean "from the oldest": ask for one line to
		 * learn where the ring is, and send none of it. */
		q.tail = lines ? lines : 1;
	}
	return gw_rpc_start(srv, req, "GetLogs", &q.base, got_logs);
}

int gw_logs_sandbox_handler(struct gw_server *srv, struct gw_request *req)
{
	return logs_handler(srv, req, &sandbox_logs);
}

int gw_logs_deployment_handler(struct gw_server *srv, struct gw_request *req)
{
	return logs_handler(srv, req, &deployment_logs);
}

int gw_logs_session_handler(struct gw_server *srv, struct gw_request *req)
{
	return logs_handler(srv, req, &session_logs);
}

/* ---- POST /api/v1/execute/stream ------------------------------------- */

/* The sentence of a failed Execute, for the stream's error event. */
static char *failure_json(int err, const struct sbx_reply *rep)
{
	const char *msg = "the sandbox daemon could not be reached";
	json_t *j;
	char *text;

	if (err == 0 && rep->status != SBX_OK)
		msg = sbx_status_http(rep->status) == 500 || !rep->message || !*rep->message
			      ? "internal error"
			      : rep->message;
	j = json_pack("{s:s}", "error", msg);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return text;
}

/* On an nng thread: the execution is over. */
static void exec_done(void *arg, int err, struct sbx_reply *reply)
{
	struct gw_logstream *s = arg;
	json_t *j = NULL;

	pthread_mutex_lock(&s->lock);
	s->result_ready = true;
	s->exec_err = err;
	if (err == 0) {
		s->exec_reply = *reply;
		memset(reply, 0, sizeof(*reply));
	}
	if (err == 0 && s->exec_reply.status == SBX_OK && s->exec_reply.msg &&
	    (j = jpb_to_json(s->exec_reply.msg, s->req->match.route->dialect)))
		s->exec_json = json_dumps(j, JSON_COMPACT);
	else
		s->exec_failed = true;
	if (s->exec_failed)
		s->exec_json = failure_json(err, &s->exec_reply);
	json_decref(j);
	gw_ls_wake(s);
	pthread_mutex_unlock(&s->lock);
	gw_ls_unref(s);
}

/* The first output or the result came: answer. A request refused before
 * any output gets the status the non-streaming route would give. */
static int exec_begin(struct gw_server *srv, struct gw_request *req)
{
	struct gw_logstream *s = req->stream;

	(void)srv;
	pthread_mutex_lock(&s->lock);
	if (s->result_ready && s->exec_failed && !s->head && !s->dropped && s->next == 1) {
		pthread_mutex_lock(&req->lock);
		req->call_err = s->exec_err;
		pthread_mutex_unlock(&req->lock);
		sbx_reply_fini(&req->reply);
		req->reply = s->exec_reply;
		memset(&s->exec_reply, 0, sizeof(s->exec_reply));
		pthread_mutex_unlock(&s->lock);
		return abandon(s, gw_rpc_respond_call_failure(req));
	}
	pthread_mutex_unlock(&s->lock);
	return gw_ls_respond(s);
}

int gw_execute_stream_handler(struct gw_server *srv, struct gw_request *req)
{
	const struct gw_route *rt = req->match.route;
	_cleanup_msg_ ProtobufCMessage *msg = NULL;
	Sbx__ExecuteRequest *x;
	char log_id[48], peer[INET6_ADDRSTRLEN];
	struct gw_logstream *s;
	uuid_t u;
	int r;

	r = gw_rpc_build_request(req, rt->rpc, rt->dialect, &msg);
	if (r != 0)
		return r < 0 ? r : 0;
	if (msg->descriptor != &sbx__execute_request__descriptor)
		return -EPROTO;
	x = (Sbx__ExecuteRequest *)msg;
	uuid_generate_random(u);
	memcpy(log_id, "live-", 5);
	uuid_unparse_lower(u, log_id + 5);
	/* The gateway's id, whatever the body said. */
	if (x->log_id && x->log_id != protobuf_c_empty_string)
		free(x->log_id);
	x->log_id = strdup(log_id);
	s = gw_ls_new(gw_ls_hub(srv), req, GW_LS_EXEC, log_id);
	if (!x->log_id || !s) {
		gw_ls_unref(s);
		return -ENOMEM;
	}
	s->ndjson = wants_ndjson(req->conn);
	req->stream = s;
	/* Woken only once the request is suspended (gw_ls_wake resumes it). */
	s->setup_woken = true;
	r = gw_ls_register(s);
	if (r == -EBUSY)
		return gw_respond_error(
			req, 429,
			(const struct gw_header[]){{MHD_HTTP_HEADER_RETRY_AFTER, "1"}, {0}},
			"too many log streams are open (at most %u); retry later",
			srv->cfg.max_log_streams);
	if (r < 0)
		return gw_respond_error(req, 503, NULL, "the gateway is shutting down");

	gw_request_suspend(req, exec_begin);
	pthread_mutex_lock(&s->lock);
	s->setup_woken = false;
	if (s->closing) /* shutdown came first */
		gw_ls_wake(s);
	pthread_mutex_unlock(&s->lock);
	gw_ls_ref(s);
	gw_client_address(req->conn, peer, sizeof(peer));
	r = gw_server_call(srv, rt->rpc, msg, gw_client_api_key(req->conn), peer, req->node,
			   req->partial, exec_done, s);
	if (r < 0) {
		struct sbx_reply none = {0};

		/* No callback will come: finish the uniform way. */
		exec_done(s, r, &none);
	}
	return 0;
}
