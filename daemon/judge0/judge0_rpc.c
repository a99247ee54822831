/* The Judge0 RPCs and the retention of finished submissions (judge0.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "clock.h"
#include "daemon.h"
#include "envelope.h"
#include "judge0.h"
#include "judge0_daemon.h"
#include "judge0_int.h"
#include "callback.h"
#include "log.h"
#include "nodeid.h"
#include "store/store.h"

static struct sbx_judge0 *judge0_of(void *state, struct sbx_rpc_call *call)
{
	struct sbx_judge0 *j = ((struct sbx_daemon *)state)->judge0;

	if (!j)
		sbx_rpc_error(call, -ESHUTDOWN, "this daemon keeps no Judge0 submissions");
	return j;
}

/* Take s (validated by the gateway) as a new submission: a token of this
 * node, In Queue, the times; saved, then queued. A finished one (run by
 * the gateway) keeps its outcome and times and is saved done. */
static int admit(struct sbx_judge0 *j, Sbx__Judge0Submission *s, bool finished,
		 char **ret_token)
{
	char token[SBX_UUID_LEN + 1];

	sbx_tagged_uuid(j->cfg->node_tag, token);
	free(s->token);
	s->token = strdup(token);
	*ret_token = strdup(token);
	if (!s->token || !*ret_token)
		return -ENOMEM;
	if (finished)
		return sbx_j0_save(j, s, J0_DONE);
	free(s->execution_host);
	s->execution_host = NULL;
	s->has_status_id = s->has_created_ms = true;
	s->status_id = SBX_J0_IN_QUEUE;
	s->created_ms = sbx_clock_wall_ms();
	s->has_started_ms = s->has_finished_ms = s->has_runs_done = false;
	return sbx_j0_save(j, s, J0_QUEUED);
}

int sbx_rpc_judge0_submit(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			  ProtobufCMessage **ret)
{
	const Sbx__Judge0SubmitRequest *q = (const Sbx__Judge0SubmitRequest *)req;
	struct sbx_judge0 *j = judge0_of(state, call);
	Sbx__Judge0SubmitReply *r;
	int err = 0;

	if (!j)
		return -ESHUTDOWN;
	if (q->n_submissions == 0 || q->n_submissions > 100)
		return sbx_rpc_error(call, -EINVAL, "from 1 to 100 submissions at a time");
	for (size_t i = 0; i < q->n_submissions; i++) {
		const Sbx__Judge0Submission *s = q->submissions[i];
		struct sbx_j0_target t;
		char why[300];

		if (!s->runtime || !s->limits)
			return sbx_rpc_error(call, -EINVAL,
					     "submission %zu has no runtime or limits", i);
		if (q->finished && (!s->has_status_id || s->status_id <= SBX_J0_PROCESSING))
			return sbx_rpc_error(call, -EINVAL, "submission %zu has not finished", i);
		/* The gateway turns "callback_url: ..." into Judge0's 422. */
		if (s->callback_url && *s->callback_url &&
		    sbx_j0_callback_target(j->cfg->judge0_callback_allow, s->callback_url, &t, why,
					   sizeof(why)) < 0)
			return sbx_rpc_error(call, -EINVAL, "callback_url: %s", why);
	}
	r = (Sbx__Judge0SubmitReply *)sbx_message_new(&sbx__judge0_submit_reply__descriptor);
	if (!r || !(r->tokens = calloc(q->n_submissions, sizeof(char *)))) {
		if (r)
			protobuf_c_message_free_unpacked(&r->base, NULL);
		return -ENOMEM;
	}
	pthread_mutex_lock(&j->lock);
	/* All or none: Judge0 checks the room for the whole batch first. */
	if (!q->finished && j->n + q->n_submissions > j->cfg->judge0_max_queue)
		err = sbx_rpc_error(call, -EAGAIN, "queue is full");
	for (size_t i = 0; !err && i < q->n_submissions; i++) {
		err = admit(j, q->submissions[i], q->finished, &r->tokens[i]);
		r->n_tokens += r->tokens[i] != NULL;
		if (!err && !q->finished && !sbx_j0_push(j, r->tokens[i], false))
			err = -ENOMEM;
	}
	pthread_mutex_unlock(&j->lock);
	if (!err && q->finished)
		sbx_j0_retain(j);
	if (err) {
		protobuf_c_message_free_unpacked(&r->base, NULL);
		return err;
	}
	*ret = &r->base;
	return 0;
}

int sbx_rpc_judge0_get(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
		       ProtobufCMessage **ret)
{
	const Sbx__Judge0GetRequest *q = (const Sbx__Judge0GetRequest *)req;
	struct sbx_judge0 *j = judge0_of(state, call);
	Sbx__Judge0Submission *s;
	int r;

	if (!j)
		return -ESHUTDOWN;
	r = sbx_j0_load(j, q->token ? q->token : "", &s);
	if (r == -ENOENT)
		return sbx_rpc_error(call, -ENOENT, "submission %.40s not found",
				     q->token ? q->token : "");
	if (r < 0)
		return r;
	*ret = &s->base;
	return 0;
}

int sbx_rpc_judge0_delete(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			  ProtobufCMessage **ret)
{
	const Sbx__Judge0DeleteRequest *q = (const Sbx__Judge0DeleteRequest *)req;
	struct sbx_judge0 *j = judge0_of(state, call);
	Sbx__Judge0Submission *s;
	int r;

	if (!j)
		return -ESHUTDOWN;
	/* Under the lock, so a worker cannot take it in between. */
	pthread_mutex_lock(&j->lock);
	r = sbx_j0_load(j, q->token ? q->token : "", &s);
	if (r == 0 && s->status_id <= SBX_J0_PROCESSING) {
		r = sbx_rpc_error(call, -EBUSY,
				  "submission cannot be deleted because its status is %d (%s)",
				  s->status_id, sbx_j0_status_description(s->status_id));
		sbx__judge0_submission__free_unpacked(s, NULL);
	} else if (r == 0) {
		r = sbx_store_delete_object(j->store, s->token);
		if (r < 0)
			sbx__judge0_submission__free_unpacked(s, NULL);
	}
	pthread_mutex_unlock(&j->lock);
	if (r == -ENOENT)
		return sbx_rpc_error(call, -ENOENT, "submission %.40s not found",
				     q->token ? q->token : "");
	if (r < 0)
		return r;
	*ret = &s->base;
	return 0;
}

/* A page's records at most, below the RPC envelope's 64 MiB: outputs are
 * kept whole (up to SANDBOX_MAX_OUTPUT_BYTES each), so a page of large
 * ones ends early rather than fail. */
#define PAGE_MAX_BYTES (48u << 20)

struct page {
	Sbx__Judge0ListReply *r;
	size_t cap, bytes;
};

static int page_cb(void *arg, const struct sbx_store_object *rec)
{
	struct page *p = arg;
	Sbx__Judge0Submission *s;

	if (p->r->n_submissions == p->cap || p->bytes + rec->record_len > PAGE_MAX_BYTES)
		return 0;
	p->bytes += rec->record_len;
	s = sbx__judge0_submission__unpack(NULL, rec->record_len, rec->record);
	if (!s)
		return -EBADMSG;
	p->r->submissions[p->r->n_submissions++] = s;
	return 0;
}

int sbx_rpc_judge0_list(void *state, struct sbx_rpc_call *call, const ProtobufCMessage *req,
			ProtobufCMessage **ret)
{
	const Sbx__Judge0ListRequest *q = (const Sbx__Judge0ListRequest *)req;
	struct sbx_judge0 *j = judge0_of(state, call);
	uint32_t page = q->has_page && q->page ? q->page : 1;
	uint32_t per_page = q->has_per_page ? q->per_page : 20;
	struct page p = {0};
	int r;

	if (!j)
		return -ESHUTDOWN;
	if (per_page > 1000)
		return sbx_rpc_error(call, -EINVAL, "per_page must be at most 1000");
	p.r = (Sbx__Judge0ListReply *)sbx_message_new(&sbx__judge0_list_reply__descriptor);
	if (!p.r || !(p.r->submissions = calloc(per_page + 1, sizeof(void *)))) {
		if (p.r)
			protobuf_c_message_free_unpacked(&p.r->base, NULL);
		return -ENOMEM;
	}
	p.cap = per_page;
	p.r->has_total = true;
	r = sbx_store_count_objects(j->store, SBX_J0_KIND, &p.r->total);
	if (r == 0 && per_page)
		r = sbx_store_page_objects(j->store, SBX_J0_KIND, (uint64_t)(page - 1) * per_page,
					   per_page, page_cb, &p);
	if (r < 0) {
		protobuf_c_message_free_unpacked(&p.r->base, NULL);
		return r;
	}
	*ret = &p.r->base;
	return 0;
}

/* Rows to drop, collected during the walk: the store's lock is held in
 * its callbacks, so they are deleted after it. */
#define TRIM_BATCH 1024

struct trim {
	uint32_t keep, seen;
	int64_t oldest_ms;
	char *ids[TRIM_BATCH];
	size_t n;
};

static int trim_cb(void *arg, const struct sbx_store_object *rec)
{
	struct trim *t = arg;

	if (strcmp(rec->status, "done") != 0)
		return 0;
	if ((++t->seen > t->keep || rec->used_ms < t->oldest_ms) && t->n < TRIM_BATCH)
		t->ids[t->n++] = strdup(rec->id);
	return 0;
}

void sbx_j0_trim(struct sbx_judge0 *j, uint32_t keep, int64_t oldest_ms)
{
	struct trim *t = calloc(1, sizeof(*t));
	uint64_t n = 0;

	/* A walk of the rows when over the count, else once a minute for
	 * the age. */
	if (!t || sbx_store_count_objects(j->store, SBX_J0_KIND, &n) < 0 ||
	    (n <= keep && j->last_age_trim_ms > oldest_ms - 60000)) {
		free(t);
		return;
	}
	j->last_age_trim_ms = oldest_ms;
	t->keep = keep;
	t->oldest_ms = oldest_ms;
	if (sbx_store_page_objects(j->store, SBX_J0_KIND, 0, UINT32_MAX, trim_cb, t) < 0)
		log_warn("judge0: reading old submissions failed");
	for (size_t i = 0; i < t->n; i++) {
		if (t->ids[i] && sbx_store_delete_object(j->store, t->ids[i]) < 0)
			log_warn("judge0 %s: dropping it failed", t->ids[i]);
		free(t->ids[i]);
	}
	free(t);
}

void sbx_j0_finished(struct sbx_judge0 *j, const Sbx__Judge0Submission *s)
{
	struct j0_callback *c;

	if (!s->callback_url || !*s->callback_url)
		return;
	c = calloc(1, sizeof(*c));
	if (c) {
		c->url = strdup(s->callback_url);
		c->body = sbx_j0_callback_body(s);
	}
	pthread_mutex_lock(&j->lock);
	if (c && c->url && c->body && j->cb_n < J0_MAX_CALLBACKS) {
		*j->cb_tail = TAKE_PTR(c);
		j->cb_tail = &(*j->cb_tail)->next;
		j->cb_n++;
		pthread_cond_signal(&j->cb_cond);
	}
	pthread_mutex_unlock(&j->lock);
	if (c) {
		log_warn("judge0 %s: its callback was dropped (%u waiting)", s->token, j->cb_n);
		free(c->url);
		free(c->body);
		free(c);
	}
}

static void *callback_thread(void *arg)
{
	struct sbx_judge0 *j = arg;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		struct j0_callback *c;

		while (!j->cb_head && !j->stopping)
			pthread_cond_wait(&j->cb_cond, &j->lock);
		c = j->cb_head;
		if (!c)
			break;
		j->cb_head = c->next;
		if (!j->cb_head)
			j->cb_tail = &j->cb_head;
		j->cb_n--;
		pthread_mutex_unlock(&j->lock);
		sbx_j0_callback_send(j->cfg->judge0_callback_allow, c->url, c->body);
		free(c->url);
		free(c->body);
		free(c);
		pthread_mutex_lock(&j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

int sbx_j0_callbacks_start(struct sbx_judge0 *j)
{
	j->cb_tail = &j->cb_head;
	pthread_cond_init(&j->cb_cond, NULL);
	if (pthread_create(&j->cb_thread, NULL, callback_thread, j) != 0)
		return -EAGAIN;
	j->cb_started = true;
	return 0;
}

void sbx_j0_callbacks_stop(struct sbx_judge0 *j)
{
	if (!j->cb_tail)
		return; /* never started */
	pthread_mutex_lock(&j->lock);
	pthread_cond_broadcast(&j->cb_cond);
	pthread_mutex_unlock(&j->lock);
	if (j->cb_started)
		pthread_join(j->cb_thread, NULL);
	j->cb_started = false;
	pthread_cond_destroy(&j->cb_cond);
}
