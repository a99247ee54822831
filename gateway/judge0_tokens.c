/* The routes that read or delete kept submissions by token
 * (app/controllers/submissions_controller.rb show, index, destroy,
 * batch_show). A token names the daemon that holds it (common/nodeid.h),
 * so Judge0Get and Judge0Delete go to that node; Judge0List asks them all. */
#include "gw_judge0.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "gw_server.h"
#include "respond.h"
#include "rpc_handler.h"
#include "status.h"

/* Judge0's MAX_SUBMISSION_BATCH_SIZE and per_page default; per_page is
 * capped (Judge0 does not cap it: gateway/SEED-DIFFERENCES.md). */
#define J0_MAX_BATCH 20
#define J0_PER_PAGE 20
#define J0_MAX_PER_PAGE 100

static const char one_not_utf8[] = "some attributes for this submission cannot be converted to "
				   "UTF-8, use base64_encoded=true query parameter";
static const char many_not_utf8[] = "some attributes for one or more submissions cannot be "
				    "converted to UTF-8, use base64_encoded=true query parameter";

struct tok_ctx {
	uint64_t fields;
	bool base64;
	char **tokens; /* batch: the tokens asked, NULL-terminated */
	size_t n, next;
	json_t *out;	     /* batch: the submissions so far */
	long page, per_page; /* list */
};

static void tok_ctx_free(void *p)
{
	struct tok_ctx *c = p;

	if (!c)
		return;
	sbx_j0_words_free(c->tokens);
	json_decref(c->out);
	free(c);
}

/* The context with fields and base64_encoded; 1 when answered (400). */
static int begin(struct gw_request *req, struct tok_ctx **ret)
{
	struct tok_ctx *c = calloc(1, sizeof(*c));
	char err[256];

	*ret = c;
	if (!c)
		return -ENOMEM;
	req->ctx = c;
	req->ctx_free = tok_ctx_free;
	c->base64 = gw_j0_query_true(req, "base64_encoded");
	if (sbx_j0_parse_fields(gw_j0_query(req, "fields"), &c->fields, err, sizeof(err)) < 0) {
		int r = gw_respond_error(req, 400, NULL, "%s", err);

		return r < 0 ? r : 1;
	}
	return 0;
}

static const Sbx__Judge0Submission *reply_sub(struct gw_request *req)
{
	const ProtobufCMessage *m = req->reply.msg;

	return m && m->descriptor == &sbx__judge0_submission__descriptor
		       ? (const Sbx__Judge0Submission *)m
		       : NULL;
}

/* A daemon's "no such token" is Judge0's 404; FAILED_PRECONDITION
 * (deleting one that is queued or running) its 400. */
static int respond_failure(struct gw_request *req)
{
	int err, st;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	st = err == 0 ? req->reply.status : SBX_OK;
	if (st == SBX_FAILED_PRECONDITION)
		return gw_respond_error(req, 400, NULL, "%s", req->reply.message);
	return gw_rpc_respond_call_failure(req);
}

static int one_done(struct gw_server *srv, struct gw_request *req, bool deleting)
{
	struct tok_ctx *c = req->ctx;
	const Sbx__Judge0Submission *s = reply_sub(req);
	bool not_utf8;
	json_t *out;

	(void)srv;
	if (!gw_j0_call_ok(req))
		return respond_failure(req);
	if (!s)
		return gw_rpc_respond_failure(req, -EBADMSG);
	/* destroy: base64_encoded forced, so the deleted data can be read. */
	out = sbx_j0_render(s, c->fields, deleting || c->base64, &not_utf8);
	if (!out && not_utf8)
		return gw_respond_error(req, 400, NULL, "%s", one_not_utf8);
	return out ? gw_respond(req, 200, out, NULL) : -ENOMEM;
}

static int get_done(struct gw_server *srv, struct gw_request *req)
{
	return one_done(srv, req, false);
}

static int delete_done(struct gw_server *srv, struct gw_request *req)
{
	return one_done(srv, req, true);
}

static int by_token(struct gw_server *srv, struct gw_request *req, const char *rpc,
		    gw_resume_fn done)
{
	struct tok_ctx *c;
	int r = begin(req, &c);
	Sbx__Judge0GetRequest g = SBX__JUDGE0_GET_REQUEST__INIT;

	if (r != 0)
		return r < 0 ? r : 0;
	/* Judge0GetRequest and Judge0DeleteRequest are both {token}. */
	g.token = (char *)gw_match_param(&req->match, "token");
	if (strcmp(rpc, "Judge0Delete") == 0) {
		Sbx__Judge0DeleteRequest d = SBX__JUDGE0_DELETE_REQUEST__INIT;

		d.token = g.token;
		return gw_rpc_start(srv, req, rpc, &d.base, done);
	}
	return gw_rpc_start(srv, req, rpc, &g.base, done);
}

int gw_judge0_get_handler(struct gw_server *srv, struct gw_request *req)
{
	return by_token(srv, req, "Judge0Get", get_done);
}

int gw_judge0_delete_handler(struct gw_server *srv, struct gw_request *req)
{
	return by_token(srv, req, "Judge0Delete", delete_done);
}

static int list_done(struct gw_server *srv, struct gw_request *req)
{
	struct tok_ctx *c = req->ctx;
	const Sbx__Judge0ListReply *l = (const Sbx__Judge0ListReply *)req->reply.msg;
	long page = c->page, per_page = c->per_page, pages;
	json_t *subs = json_array(), *out;
	bool not_utf8 = false;

	(void)srv;
	if (!gw_j0_call_ok(req)) {
		json_decref(subs);
		return gw_rpc_respond_call_failure(req);
	}
	for (size_t i = 0; subs && i < l->n_submissions && !not_utf8; i++) {
		json_t *v = sbx_j0_render(l->submissions[i], c->fields, c->base64, &not_utf8);

		if ((!v && !not_utf8) || (v && json_array_append_new(subs, v) < 0)) {
			json_decref(subs);
			return -ENOMEM;
		}
	}
	if (not_utf8) {
		json_decref(subs);
		return gw_respond_error(req, 400, NULL, "%s", many_not_utf8);
	}
	/* will_paginate's meta. */
	pages = per_page ? ((long)l->total + per_page - 1) / per_page : 0;
	out = json_pack("{s:o, s:{s:i, s:o, s:o, s:i, s:i}}", "submissions", subs, "meta",
			"current_page", page, "next_page",
			page < pages ? json_integer(page + 1) : json_null(), "prev_page",
			page > 1 ? json_integer(page - 1) : json_null(), "total_pages", pages,
			"total_count", (json_int_t)l->total);
	return out ? gw_respond(req, 200, out, NULL) : -ENOMEM;
}

/* Ruby's to_i: leading digits with a sign, else 0. */
static long ruby_to_i(const char *s, long dflt)
{
	return s ? strtol(s, NULL, 10) : dflt;
}

int gw_judge0_list_handler(struct gw_server *srv, struct gw_request *req)
{
	Sbx__Judge0ListRequest q = SBX__JUDGE0_LIST_REQUEST__INIT;
	struct tok_ctx *c;
	long page = ruby_to_i(gw_j0_query(req, "page"), 1);
	long per_page = ruby_to_i(gw_j0_query(req, "per_page"), J0_PER_PAGE);
	int r = begin(req, &c);

	if (r != 0)
		return r < 0 ? r : 0;
	if (page <= 0)
		return gw_respond_error(req, 400, NULL, "invalid page: %ld", page);
	if (per_page < 0)
		return gw_respond_error(req, 400, NULL, "invalid per_page: %ld", per_page);
	if (per_page > J0_MAX_PER_PAGE || page > 1000000)
		return gw_respond_error(req, 400, NULL, "per_page may be at most %d",
					J0_MAX_PER_PAGE);
	c->page = page;
	c->per_page = per_page;
	q.has_page = q.has_per_page = true;
	q.page = (uint32_t)page;
	q.per_page = (uint32_t)per_page;
	return gw_rpc_start(srv, req, "Judge0List", &q.base, list_done);
}

static int batch_next(struct gw_server *srv, struct gw_request *req);

static int batch_done(struct gw_server *srv, struct gw_request *req)
{
	struct tok_ctx *c = req->ctx;
	const Sbx__Judge0Submission *s = reply_sub(req);
	bool not_utf8 = false;
	json_t *v;

	if (gw_j0_call_ok(req) && s) {
		v = sbx_j0_render(s, c->fields, c->base64, &not_utf8);
		if (!v && not_utf8)
			return gw_respond_error(req, 400, NULL, "%s", many_not_utf8);
	} else {
		int err;

		pthread_mutex_lock(&req->lock);
		err = req->call_err;
		pthread_mutex_unlock(&req->lock);
		/* A token nobody has is null in its place. */
		if (err < 0 || req->reply.status != SBX_NOT_FOUND)
			return gw_rpc_respond_call_failure(req);
		v = json_null();
	}
	if (!v || json_array_append_new(c->out, v) < 0)
		return -ENOMEM;
	sbx_reply_fini(&req->reply);
	return batch_next(srv, req);
}

static int batch_next(struct gw_server *srv, struct gw_request *req)
{
	struct tok_ctx *c = req->ctx;
	Sbx__Judge0GetRequest g = SBX__JUDGE0_GET_REQUEST__INIT;

	if (c->next == c->n)
		return gw_respond(req, 200, json_pack("{s:O}", "submissions", c->out), NULL);
	g.token = c->tokens[c->next++];
	return gw_rpc_start(srv, req, "Judge0Get", &g.base, batch_done);
}

/* tokens=a,b (or a `tokens` header, as Judge0 reads it). */
int gw_judge0_batch_get_handler(struct gw_server *srv, struct gw_request *req)
{
	const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "tokens");
	const char *list = h ? h : gw_j0_query(req, "tokens");
	struct tok_ctx *c;
	int r = begin(req, &c);

	if (r != 0)
		return r < 0 ? r : 0;
	r = sbx_j0_split_tokens(list ? list : "", J0_MAX_BATCH, &c->tokens, &c->n);
	if (r == -E2BIG)
		return gw_respond_error(req, 400, NULL,
					"number of submissions in a batch should be less than or "
					"equal to %d",
					J0_MAX_BATCH);
	if (r < 0)
		return r;
	if (c->n == 0)
		return gw_respond_error(req, 400, NULL,
					"there should be at least one submission in a batch");
	c->out = json_array();
	return c->out ? batch_next(srv, req) : -ENOMEM;
}
