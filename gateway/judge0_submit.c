/* POST /judge0/submissions and POST /judge0/submissions/batch. The
 * connection stays suspended through a chain of RPCs: ListLanguages (does
 * language_id exist, is it compiled), GetConfig (the daemon's maxima cap
 * Judge0's), then either Execute per run (wait=true: Judge0's
 * number_of_runs, stopping at the first run that is not Accepted) or
 * Judge0Submit, which queues on the least-loaded daemon and answers
 * 201 {"token"} (Judge0's default, wait=false). */
#include "gw_judge0.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "cleanup.h"
#include "clock.h"
#include "gw_server.h"
#include "envelope.h"
#include "nodeid.h"
#include "judge0_valid.h"
#include "log.h"
#include "respond.h"
#include "rpc_handler.h"
#include "status.h"

/* Judge0's MAX_SUBMISSION_BATCH_SIZE. */
#define J0_MAX_BATCH 20
/* The additional files of a whole batch, inflated: the batch is one
 * Judge0Submit, well under the RPC envelope (64 MiB). */
#define J0_MAX_BATCH_FILES (24u << 20)

static const char not_utf8_error[] = "some attributes for this submission cannot be converted to "
				     "UTF-8, use base64_encoded=true query parameter";

struct j0_ctx {
	json_t *body; /* the request: one submission, or {"submissions": [...]} */
	bool batch, wait, base64;
	uint64_t fields;
	struct sbx_reply langs;	    /* ListLanguages' answer, for the validation */
	Sbx__Judge0Submission *sub; /* wait=true: the one being run */
	double time_sum;
	int64_t memory_sum;
	json_t *answer; /* batch: the reply array, errors in place, tokens to come */
	int64_t created_ms;
};

static void ctx_free(void *p)
{
	struct j0_ctx *c = p;

	if (!c)
		return;
	json_decref(c->body);
	json_decref(c->answer);
	sbx_reply_fini(&c->langs);
	if (c->sub)
		protobuf_c_message_free_unpacked(&c->sub->base, NULL);
	free(c);
}

static int respond_sub(struct gw_request *req, struct j0_ctx *c)
{
	bool not_utf8;
	json_t *out = sbx_j0_render(c->sub, c->fields, c->base64, &not_utf8);

	if (!out && not_utf8)
		out = json_pack("{s:s, s:s}", "token", c->sub->token, "error", not_utf8_error);
	return out ? gw_respond(req, 201, out, NULL) : -ENOMEM;
}

static int run_done(struct gw_server *srv, struct gw_request *req);

/* The daemon that keeps it answered: its token is the kept one's. When
 * none could keep it, the answer still goes out, under the gateway's
 * token (a later GET of it is 404). */
static int kept_done(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c = req->ctx;
	const Sbx__Judge0SubmitReply *q = (const Sbx__Judge0SubmitReply *)req->reply.msg;
	char *t;

	(void)srv;
	if (gw_j0_call_ok(req) && q->base.descriptor == &sbx__judge0_submit_reply__descriptor &&
	    q->n_tokens == 1 && (t = strdup(q->tokens[0]))) {
		free(c->sub->token);
		c->sub->token = t;
	} else {
		sbx_log(SBX_LOG_WARN, NULL, "%s %s: judge0 submission %s was run but not kept",
			req->method, req->log_path, c->sub->token);
	}
	return respond_sub(req, c);
}

/* Judge0 keeps wait=true submissions too: hand it to a daemon, done. */
static int keep(struct gw_server *srv, struct gw_request *req, struct j0_ctx *c)
{
	Sbx__Judge0SubmitRequest q = SBX__JUDGE0_SUBMIT_REQUEST__INIT;

	q.n_submissions = 1;
	q.submissions = &c->sub;
	q.has_finished = q.finished = true;
	return gw_rpc_start(srv, req, "Judge0Submit", &q.base, kept_done);
}

static int start_run(struct gw_server *srv, struct gw_request *req, struct j0_ctx *c)
{
	Sbx__ExecuteRequest x = SBX__EXECUTE_REQUEST__INIT;
	int r = sbx_j0_execute_request(c->sub, &x);

	if (r < 0)
		return r;
	r = gw_rpc_start(srv, req, "Execute", &x.base, run_done);
	free(x.code);
	return r;
}

static int run_done(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c = req->ctx;
	const Sbx__ExecResult *res = (const Sbx__ExecResult *)req->reply.msg;
	int r;

	if (!gw_j0_call_ok(req))
		return gw_rpc_respond_call_failure(req);
	if (res->base.descriptor != &sbx__exec_result__descriptor)
		return gw_rpc_respond_failure(req, -EBADMSG);
	r = sbx_j0_add_run(c->sub, res, &c->time_sum, &c->memory_sum);
	free(c->sub->execution_host);
	c->sub->execution_host = strdup(req->node);
	sbx_reply_fini(&req->reply);
	if (r < 0 || !c->sub->execution_host)
		return -ENOMEM;
	if (r > 0)
		return start_run(srv, req, c);
	c->sub->has_finished_ms = true;
	c->sub->finished_ms = sbx_clock_wall_ms();
	sbx_j0_drop_files(c->sub);
	return keep(srv, req, c);
}

/* Judge0Submit's answer: the tokens, into the reply. */
static int queued_done(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c = req->ctx;
	const Sbx__Judge0SubmitReply *q = (const Sbx__Judge0SubmitReply *)req->reply.msg;
	size_t k = 0, i;
	json_t *v;

	(void)srv;
	if (!gw_j0_call_ok(req)) {
		static const char cb[] = "callback_url: ";
		const char *m = req->reply.message ? req->reply.message : "";
		int st;

		pthread_mutex_lock(&req->lock);
		st = req->call_err == 0 ? req->reply.status : SBX_OK;
		pthread_mutex_unlock(&req->lock);
		/* Judge0's check_queue_size. */
		if (st == SBX_RESOURCE_EXHAUSTED)
			return gw_respond_error(req, 503, NULL, "queue is full");
		/* The daemon checked where the callback would go. */
		if (st == SBX_INVALID_ARGUMENT && strncmp(m, cb, strlen(cb)) == 0)
			return gw_respond(req, 422,
					  json_pack("{s:[s]}", "callback_url", m + strlen(cb)),
					  NULL);
		return gw_rpc_respond_call_failure(req);
	}
	if (q->base.descriptor != &sbx__judge0_submit_reply__descriptor)
		return gw_rpc_respond_failure(req, -EBADMSG);
	if (!c->batch)
		return q->n_tokens == 1
			       ? gw_respond(req, 201, json_pack("{s:s}", "token", q->tokens[0]),
					    NULL)
			       : gw_rpc_respond_failure(req, -EBADMSG);
	json_array_foreach(c->answer, i, v)
	{
		if (json_is_null(v) && k < q->n_tokens &&
		    json_array_set_new(c->answer, i, json_pack("{s:s}", "token", q->tokens[k++])) <
			    0)
			return -ENOMEM;
	}
	return gw_respond(req, 201, json_incref(c->answer), NULL);
}

/* One body validated into a new message: *ret, or NULL with errors set. */
static int validate_one(struct j0_ctx *c, json_t *body, const Sbx__ConfigReply *cfg, json_t *errors,
			Sbx__Judge0Submission **ret)
{
	Sbx__Judge0Submission *s =
		(Sbx__Judge0Submission *)sbx_message_new(&sbx__judge0_submission__descriptor);
	const struct gw_j0_valid_opts o = {
		.base64 = c->base64, .languages = &c->langs, .config = cfg};
	int r;

	*ret = NULL;
	if (!s)
		return -ENOMEM;
	r = json_is_object(body) ? gw_j0_validate(body, &o, s, errors)
				 : (json_object_set_new(errors, "submission",
							json_pack("[s]", "must be an object")) < 0
					    ? -ENOMEM
					    : 0);
	if (r < 0 || json_object_size(errors)) {
		protobuf_c_message_free_unpacked(&s->base, NULL);
		return r;
	}
	*ret = s;
	return 0;
}

/* The bytes of s's files. */
static size_t files_size(const Sbx__Judge0Submission *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_files; i++)
		n += s->files[i]->content.len;
	return n;
}

/* A valid submission whose files would take the batch past its cap is
 * refused like an invalid one; *total counts the kept ones. */
static int check_batch_files(Sbx__Judge0Submission **sub, size_t *total, json_t *errors)
{
	size_t n = files_size(*sub);

	if (n <= J0_MAX_BATCH_FILES - *total) {
		*total += n;
		return 0;
	}
	protobuf_c_message_free_unpacked(&(*sub)->base, NULL);
	*sub = NULL;
	return json_object_set_new(errors, "additional_files",
				   json_pack("[s]", "the batch's additional files are larger than "
						    "24 MiB in all")) < 0
		       ? -ENOMEM
		       : 0;
}

/* The batch: each valid submission queued, each invalid one's errors in
 * its place (Judge0 answers 201 when at least one was valid, else 422). */
static int submit_batch(struct gw_server *srv, struct gw_request *req, struct j0_ctx *c,
			const Sbx__ConfigReply *cfg)
{
	json_t *list = json_object_get(c->body, "submissions"), *v;
	Sbx__Judge0Submission *subs[J0_MAX_BATCH];
	Sbx__Judge0SubmitRequest q = SBX__JUDGE0_SUBMIT_REQUEST__INIT;
	size_t i, files_total = 0;
	int r = 0;

	c->answer = json_array();
	if (!c->answer)
		return -ENOMEM;
	json_array_foreach(list, i, v)
	{
		json_t *errors = json_object();

		r = errors ? validate_one(c, v, cfg, errors, &subs[q.n_submissions]) : -ENOMEM;
		if (r == 0 && subs[q.n_submissions])
			r = check_batch_files(&subs[q.n_submissions], &files_total, errors);
		if (r == 0 && subs[q.n_submissions])
			q.n_submissions++;
		if (r < 0 ||
		    json_array_append_new(c->answer, json_object_size(errors) ? json_incref(errors)
									      : json_null()) < 0)
			r = -ENOMEM;
		json_decref(errors);
		if (r < 0)
			break;
	}
	q.submissions = subs;
	if (r == 0 && q.n_submissions == 0)
		r = gw_respond(req, 422, json_incref(c->answer), NULL);
	else if (r == 0)
		r = gw_rpc_start(srv, req, "Judge0Submit", &q.base, queued_done);
	for (size_t k = 0; k < q.n_submissions; k++)
		protobuf_c_message_free_unpacked(&subs[k]->base, NULL);
	return r;
}

/* Validated: 422 with the errors, else run it or queue it. */
static int config_done(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c = req->ctx;
	const Sbx__ConfigReply *cfg = (const Sbx__ConfigReply *)req->reply.msg;
	json_auto_t *errors = NULL;
	uuid_t u;
	int r;

	if (!gw_j0_call_ok(req))
		return gw_rpc_respond_call_failure(req);
	if (cfg->base.descriptor != &sbx__config_reply__descriptor)
		return gw_rpc_respond_failure(req, -EBADMSG);
	if (c->batch)
		return submit_batch(srv, req, c, cfg);
	errors = json_object();
	r = errors ? validate_one(c, c->body, cfg, errors, &c->sub) : -ENOMEM;
	if (r < 0)
		return r;
	if (!c->sub)
		return gw_respond(req, 422, json_incref(errors), NULL);
	/* The daemon sends callbacks; a wait=true submission runs here. */
	if (c->wait && c->sub->callback_url && *c->sub->callback_url)
		return gw_respond(req, 422,
				  json_pack("{s:[s]}", "callback_url",
					    "callbacks are sent for submissions made with "
					    "wait=false only"),
				  NULL);
	if (!c->wait) {
		Sbx__Judge0SubmitRequest q = SBX__JUDGE0_SUBMIT_REQUEST__INIT;

		q.n_submissions = 1;
		q.submissions = &c->sub;
		return gw_rpc_start(srv, req, "Judge0Submit", &q.base, queued_done);
	}
	sbx_reply_fini(&req->reply);
	/* A synchronous submission is the gateway's: its token is plain. */
	c->sub->token = malloc(SBX_UUID_LEN + 1);
	if (!c->sub->token)
		return -ENOMEM;
	uuid_generate_random(u);
	uuid_unparse_lower(u, c->sub->token);
	c->sub->has_created_ms = c->sub->has_started_ms = c->sub->has_status_id = true;
	c->sub->created_ms = c->created_ms;
	c->sub->started_ms = sbx_clock_wall_ms();
	c->sub->status_id = SBX_J0_PROCESSING;
	return start_run(srv, req, c);
}

/* Keep the language list for the validation, then ask for the config. */
static int languages_done(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c = req->ctx;

	if (!gw_j0_call_ok(req))
		return gw_rpc_respond_call_failure(req);
	c->langs = req->reply;
	req->reply = (struct sbx_reply){0};
	return gw_rpc_start(srv, req, "GetConfig",
			    &(Sbx__GetConfigRequest)SBX__GET_CONFIG_REQUEST__INIT.base,
			    config_done);
}

/* The context and the parsed body; 1 when the request was answered. */
static int begin(struct gw_request *req, bool batch, struct j0_ctx **ret)
{
	struct j0_ctx *c = calloc(1, sizeof(*c));
	char err[256];
	json_error_t je;
	int r;

	if (!c)
		return -ENOMEM;
	req->ctx = c;
	req->ctx_free = ctx_free;
	c->batch = batch;
	c->created_ms = sbx_clock_wall_ms();
	c->base64 = gw_j0_query_true(req, "base64_encoded");
	c->wait = !batch && gw_j0_query_true(req, "wait");
	/* Judge0 ignores fields in a batch create. */
	if (!batch &&
	    sbx_j0_parse_fields(gw_j0_query(req, "fields"), &c->fields, err, sizeof(err)) < 0)
		r = gw_respond_error(req, 400, NULL, "%s", err);
	else if (!(c->body = req->body.len ? json_loadb(req->body.data, req->body.len, 0, &je)
					   : json_object()))
		r = gw_respond_error(req, 400, NULL,
				     "the request body is not valid JSON: %s (line %d, column %d)",
				     je.text, je.line, je.column);
	else if (!json_is_object(c->body))
		r = gw_respond_error(req, 400, NULL, "the request body must be a JSON object");
	else
		r = 0;
	*ret = c;
	return r < 0 ? r : req->state == GW_REQ_RESPONDED;
}

static int start(struct gw_server *srv, struct gw_request *req)
{
	return gw_rpc_start(srv, req, "ListLanguages",
			    &(Sbx__ListLanguagesRequest)SBX__LIST_LANGUAGES_REQUEST__INIT.base,
			    languages_done);
}

int gw_judge0_submit_handler(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c;
	int r = begin(req, false, &c);

	if (r != 0)
		return r < 0 ? r : 0;
	return start(srv, req);
}

int gw_judge0_batch_submit_handler(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c;
	json_t *list;
	int r = begin(req, true, &c);

	if (r != 0)
		return r < 0 ? r : 0;
	list = json_object_get(c->body, "submissions");
	if (json_array_size(list) > J0_MAX_BATCH)
		return gw_respond_error(req, 400, NULL,
					"number of submissions in a batch should be less than or "
					"equal to %d",
					J0_MAX_BATCH);
	if (json_array_size(list) == 0)
		return gw_respond_error(req, 400, NULL,
					"there should be at least one submission in a batch");
	return start(srv, req);
}
