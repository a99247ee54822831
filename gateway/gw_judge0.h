/* Judge0 CE's API (judge0/judge0 docs/api, v1.13) under the base URL
 * /judge0: its languages (ids as Judge0 CE gives the same language), its
 * statuses and its submissions. The routes are hand-written rows of
 * gateway/routes.c because Judge0 differs from the canonical messages in
 * more than names: validation answers 422 {field: [messages]}, the status
 * is computed from the result by Judge0's rules (common/judge0.h), text
 * may be Base64, `fields` picks the keys. Synchronous submissions
 * (wait=true) run here with Execute; the others are queued, kept and run
 * by a daemon (daemon/judge0/), which the token names.
 * Differences from Judge0 CE: gateway/SEED-DIFFERENCES.md. */
#ifndef SBX_GW_JUDGE0_H
#define SBX_GW_JUDGE0_H

#include <stdbool.h>

#include "api.pb-c.h"
#include "judge0.h"

struct gw_server;
struct gw_request;
struct sbx_reply;

/* GET /judge0/languages: [{id, name}] of the installed languages Judge0
 * has an id for (or one of ours from 1000 up), in id order. */
int gw_judge0_languages_handler(struct gw_server *srv, struct gw_request *req);
/* GET /judge0/languages/{id}: {id, name, is_archived, source_file,
 * compile_cmd, run_cmd}; 404 for an id not installed. */
int gw_judge0_language_handler(struct gw_server *srv, struct gw_request *req);
/* GET /judge0/statuses: the 14 statuses, [{id, description}]. */
int gw_judge0_statuses_handler(struct gw_server *srv, struct gw_request *req);
/* POST /judge0/submissions?base64_encoded=&wait=&fields= and POST
 * /judge0/submissions/batch (gateway/judge0_submit.c). */
int gw_judge0_submit_handler(struct gw_server *srv, struct gw_request *req);
int gw_judge0_batch_submit_handler(struct gw_server *srv, struct gw_request *req);
/* GET /judge0/submissions/{token}, GET /judge0/submissions?page&per_page,
 * DELETE /judge0/submissions/{token}, GET /judge0/submissions/batch?tokens=
 * (gateway/judge0_tokens.c). */
int gw_judge0_get_handler(struct gw_server *srv, struct gw_request *req);
int gw_judge0_list_handler(struct gw_server *srv, struct gw_request *req);
int gw_judge0_delete_handler(struct gw_server *srv, struct gw_request *req);
int gw_judge0_batch_get_handler(struct gw_server *srv, struct gw_request *req);

/* An installed language as Judge0 names it. */
struct gw_j0_language {
	int id;
	char name[96];	  /* "Python (3.11.2)" */
	char runtime[32]; /* the runtimes table's name: what Execute takes */
	char source_file[64];
	bool compiled;
};
/* The Judge0 language for ListLanguages' entry l; false when Judge0 has no
 * id for it and neither has our table (gateway/judge0_lang.c). */
bool gw_j0_language_of(const Sbx__Language *l, struct gw_j0_language *ret);
/* The installed language with Judge0 id `id` in a ListLanguages reply:
 * 0, -ENOENT when none, -EBADMSG for a reply of another kind. */
int gw_j0_find_language(const struct sbx_reply *reply, int id, struct gw_j0_language *ret);
/* After a resume: did the request's RPC succeed (transport and status)? */
bool gw_j0_call_ok(struct gw_request *req);
/* The value of query parameter key, NULL when absent; is it "true"? */
const char *gw_j0_query(struct gw_request *req, const char *key);
bool gw_j0_query_true(struct gw_request *req, const char *key);

#endif
