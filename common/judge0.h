/* Judge0 CE's rules (judge0/judge0 v1.13), shared by the gateway (which
 * validates and renders) and the daemon (which runs, keeps and calls
 * back): its statuses, how a result becomes one, its serializer's fields
 * and their JSON, and the text helpers they need (Ruby's encode64, its
 * strip, bash's words). Pure: no I/O. A submission is the proto message
 * sbx.Judge0Submission (proto/judge0.proto). */
#ifndef SBX_JUDGE0_H
#define SBX_JUDGE0_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"
#include "judge0.pb-c.h"

/* Judge0's statuses (app/enumerations/status.rb). */
enum sbx_j0_status {
	SBX_J0_IN_QUEUE = 1,
	SBX_J0_PROCESSING = 2,
	SBX_J0_ACCEPTED = 3,
	SBX_J0_WRONG_ANSWER = 4,
	SBX_J0_TLE = 5,
	SBX_J0_COMPILATION_ERROR = 6,
	SBX_J0_SIGSEGV = 7,
	SBX_J0_SIGXFSZ = 8,
	SBX_J0_SIGFPE = 9,
	SBX_J0_SIGABRT = 10,
	SBX_J0_NZEC = 11,
	SBX_J0_OTHER = 12,
	SBX_J0_INTERNAL_ERROR = 13,
	SBX_J0_EXEC_FORMAT_ERROR = 14,
};
/* "Accepted" for 3; NULL outside 1..14. */
const char *sbx_j0_status_description(int id);

/* Set an optional bytes field (a copy; len 0 leaves it absent when
 * empty_is_null, Judge0's nil for an empty output). -ENOMEM. */
int sbx_j0_set_bytes(ProtobufCBinaryData *b, protobuf_c_boolean *has, const void *data, size_t len,
		     bool empty_is_null);

/* Judge0's `fields`: a bit per attribute of its SubmissionSerializer, in
 * the serializer's order (the order of the reply's keys). */
uint64_t sbx_j0_default_fields(void);
/* Parse a `fields` query value (NULL or "": the default fields; "*": all).
 * -EINVAL with Judge0's sentence ("invalid fields: [a, b]") in err. */
int sbx_j0_parse_fields(const char *spec, uint64_t *ret, char *err, size_t errlen);
/* The bit of attribute `name`, 0 if none; the name of bit i, NULL past
 * the last. */
uint64_t sbx_j0_field(const char *name);
const char *sbx_j0_field_name(size_t i);

/* The submission as Judge0 serializes it: the attributes in `fields`, in
 * the serializer's order, text Base64-encoded (Ruby's encode64: lines of
 * 60, each ending in "\n") when base64. With base64 false and a text that
 * is not UTF-8: NULL and *not_utf8 set (Judge0 then answers with its
 * "cannot be converted to UTF-8" error). NULL with *not_utf8 false: out of
 * memory. */
json_t *sbx_j0_render(const Sbx__Judge0Submission *s, uint64_t fields, bool base64, bool *not_utf8);

/* Fold one run's ExecResult into s by Judge0's rules (isolate_job.rb
 * compile, verify and determine_status): status, outputs, time, wall time,
 * memory, exit code and signal, message. -ENOMEM. */
int sbx_j0_apply_result(Sbx__Judge0Submission *s, const Sbx__ExecResult *res);

/* The Execute request of one run of s: its fields point into s, except
 * x->code, a copy the caller frees. -ENOMEM. */
int sbx_j0_execute_request(const Sbx__Judge0Submission *s, Sbx__ExecuteRequest *x);
/* Free s's files (additional_files read by the gateway) once its runs
 * are done: a kept submission holds the archive, as Judge0's does, not
 * its files too. */
void sbx_j0_drop_files(Sbx__Judge0Submission *s);
/* Fold run res into s (sbx_j0_apply_result) and keep the runs' average
 * time and memory (*time_sum, *memory_sum: the sums so far, 0 before the
 * first). 1 when another run is due (Judge0 stops at the first run that
 * is not Accepted), 0 when s is final, -ENOMEM. */
int sbx_j0_add_run(Sbx__Judge0Submission *s, const Sbx__ExecResult *res, double *time_sum,
		   int64_t *memory_sum);

/* Ruby's Base64.encode64 into a new string (lines of 60 characters, each
 * ending in "\n"); NULL when out of memory. */
char *sbx_j0_base64_encode(const void *data, size_t len);
/* Decode Base64 into a new buffer (*ret, *ret_len; NUL-terminated),
 * ignoring whitespace (encode64's line breaks), padding optional. -EINVAL
 * on any other character or a malformed tail, -ENOMEM. */
int sbx_j0_base64_decode(const char *in, size_t len, char **ret, size_t *ret_len);

/* Split Judge0's command_line_arguments / compiler_options into words the
 * way its bash script would: after removing $&;<>|` (as Judge0 does),
 * blanks separate, single and double quotes group, backslash escapes.
 * *ret is a NULL-terminated array (free with sbx_j0_words_free). */
int sbx_j0_split_words(const char *s, char ***ret, size_t *n);
void sbx_j0_words_free(char **w);
/* The tokens of a batch_show `tokens` value, at most max (else -E2BIG),
 * into a NULL-terminated array (free with sbx_j0_words_free). */
int sbx_j0_split_tokens(const char *list, size_t max, char ***ret, size_t *n);

#endif
