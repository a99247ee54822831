/* Judge0 CE's API (judge0/judge0 docs/api, v1.13) under the base URL
 * /judge0: its languages (ids as Judge0 CE gives the same language), its
 * statuses, and submissions run by Execute. The routes are hand-written
 * rows of gateway/routes.c because Judge0 differs from the canonical
 * messages in more than names: validation answers 422 {field: [messages]},
 * the status is computed from the result by Judge0's rules, text fields
 * may be Base64 (Ruby's encode64), and `fields` picks the keys.
 * Differences from Judge0 CE: gateway/SEED-DIFFERENCES.md. */
#ifndef SBX_GW_JUDGE0_H
#define SBX_GW_JUDGE0_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"

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
/* POST /judge0/submissions?base64_encoded=&wait=&fields=. */
int gw_judge0_submit_handler(struct gw_server *srv, struct gw_request *req);

/* Judge0's statuses (app/enumerations/status.rb). */
enum gw_j0_status {
	GW_J0_IN_QUEUE = 1,
	GW_J0_PROCESSING = 2,
	GW_J0_ACCEPTED = 3,
	GW_J0_WRONG_ANSWER = 4,
	GW_J0_TLE = 5,
	GW_J0_COMPILATION_ERROR = 6,
	GW_J0_SIGSEGV = 7,
	GW_J0_SIGXFSZ = 8,
	GW_J0_SIGFPE = 9,
	GW_J0_SIGABRT = 10,
	GW_J0_NZEC = 11,
	GW_J0_OTHER = 12,
	GW_J0_INTERNAL_ERROR = 13,
	GW_J0_EXEC_FORMAT_ERROR = 14,
};
/* "Accepted" for 3; NULL outside 1..14. */
const char *gw_j0_status_description(int id);

/* An installed language as Judge0 names it. */
struct gw_j0_language {
	int id;
	char name[96];	   /* "Python (3.11.2)" */
	char runtime[32];  /* the runtimes table's name: what Execute takes */
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

/* Text that may be absent (Judge0's null) and may hold any bytes. */
struct gw_j0_text {
	char *data; /* NUL-terminated for convenience; len counts the bytes */
	size_t len;
	bool set;
};
void gw_j0_text_fini(struct gw_j0_text *t);
int gw_j0_text_set(struct gw_j0_text *t, const void *data, size_t len);

/* One submission: what was asked (with Judge0's defaults filled in) and
 * what came of it. */
struct gw_j0_sub {
	char token[40];
	struct gw_j0_language lang;
	struct gw_j0_text source_code, stdin_, expected_output;
	struct gw_j0_text compiler_options, command_line_arguments, callback_url,
		additional_files;
	double cpu_time_limit, cpu_extra_time, wall_time_limit; /* s */
	int64_t memory_limit, stack_limit, max_file_size;	/* KB */
	int64_t max_processes_and_or_threads, number_of_runs;
	bool per_process_time, per_process_memory, redirect_stderr_to_stdout, enable_network;

	int status_id;
	struct gw_j0_text stdout_, stderr_, compile_output, message;
	bool has_time;
	double time_s, wall_time_s;
	bool has_memory;
	int64_t memory_kb;
	bool has_exit_code, has_exit_signal;
	int exit_code, exit_signal;
	int64_t created_ms, started_ms, finished_ms; /* Unix ms; 0: not yet */
	char execution_host[64];
};
void gw_j0_sub_fini(struct gw_j0_sub *s);

/* Judge0's `fields`: a bit per attribute of its SubmissionSerializer, in
 * the serializer's order (which is the order of the reply's keys). */
uint64_t gw_j0_default_fields(void);
/* Parse a `fields` query value (NULL or "": the default fields; "*": all).
 * -EINVAL with Judge0's sentence ("invalid fields: [a, b]") in err. */
int gw_j0_parse_fields(const char *spec, uint64_t *ret, char *err, size_t errlen);
/* The bit of attribute `name`, 0 if none; the name of bit i, NULL past
 * the last. */
uint64_t gw_j0_field(const char *name);
const char *gw_j0_field_name(size_t i);

/* The submission as Judge0 serializes it: the attributes in `fields`, in
 * the serializer's order, text Base64-encoded (Ruby's encode64: lines of
 * 60, each ending in "\n") when base64. With base64 false and a text that
 * is not UTF-8: NULL and *not_utf8 set (Judge0 then answers with its
 * "cannot be converted to UTF-8" error). NULL with *not_utf8 false: out of
 * memory. */
json_t *gw_j0_render(const struct gw_j0_sub *s, uint64_t fields, bool base64, bool *not_utf8);

/* Fold one run's ExecResult into s by Judge0's rules (isolate_job.rb
 * verify/determine_status and compile): status, outputs, time, memory,
 * exit code and signal, message. */
void gw_j0_apply_result(struct gw_j0_sub *s, const Sbx__ExecResult *res);

/* Ruby's Base64.encode64 into a new string (lines of 60 characters, each
 * ending in "\n"); NULL when out of memory. */
char *gw_j0_base64_encode(const void *data, size_t len);
/* Decode Base64, ignoring whitespace (encode64's line breaks), padding
 * optional. -EINVAL on any other character or a malformed tail. */
int gw_j0_base64_decode(const char *in, size_t len, struct gw_j0_text *ret);

/* Split Judge0's command_line_arguments / compiler_options into words the
 * way its bash script would: after removing $&;<>|` (as Judge0 does),
 * blanks separate, single and double quotes group, backslash escapes.
 * *ret is a NULL-terminated array (free with gw_j0_words_free). */
int gw_j0_split_words(const char *s, char ***ret, size_t *n);
void gw_j0_words_free(char **w);

#endif
