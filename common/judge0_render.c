/* Judge0's SubmissionSerializer: the attributes asked for, in its order,
 * with Rails' JSON of each column type (decimal columns as strings like
 * "0.002" and "5.0", datetimes as ISO 8601 with milliseconds). */
#include "judge0.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"

/* BigDecimal#to_s of a decimal column: no exponent, trailing zeros gone
 * but one digit after the point kept ("5.0", "0.002", "0.0"). Times come
 * in whole microseconds at best, so six places are exact. */
static json_t *decimal(double v)
{
	char buf[48];
	size_t n;

	snprintf(buf, sizeof(buf), "%.6f", round(v * 1e6) / 1e6);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0' && buf[n - 2] != '.')
		buf[--n] = 0;
	return json_string(buf);
}

/* Rails' datetime JSON: "2024-04-18T00:15:50.123Z". */
static json_t *datetime(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[96];

	if (ms <= 0 || !gmtime_r(&t, &tm))
		return json_null();
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(buf);
}

/* A text attribute: null, Base64 (encode64), or the raw text, which must
 * then be UTF-8 (json_stringn refuses anything else). */
static json_t *text_of(const char *data, size_t len, bool set, bool base64, bool *not_utf8)
{
	json_t *j;

	if (!set)
		return json_null();
	if (base64) {
		_cleanup_free_ char *b = sbx_j0_base64_encode(data, len);

		return b ? json_string(b) : NULL;
	}
	j = json_stringn(len ? data : "", len);
	if (!j)
		*not_utf8 = true;
	return j;
}

/* An optional bytes field, and an optional string (NULL: absent). */
#define BYTES(f, b64) text_of((const char *)s->f.data, s->f.len, s->has_##f, (b64), not_utf8)
#define STR(f, b64) text_of(s->f, s->f ? strlen(s->f) : 0, s->f != NULL, (b64), not_utf8)

static json_t *opt_int(bool set, int64_t v)
{
	return set ? json_integer(v) : json_null();
}

static json_t *status_object(int id)
{
	const char *d = sbx_j0_status_description(id);

	return json_pack("{s:i, s:s}", "id", id, "description", d ? d : "");
}

static json_t *language_object(const Sbx__Judge0Submission *s)
{
	return json_pack("{s:i, s:s}", "id", s->language_id, "name",
			 s->language_name ? s->language_name : "");
}

/* The value of attribute i of the serializer, or NULL (out of memory, or
 * text that is not UTF-8 with *not_utf8 set). */
/* The value of attribute i of the serializer, or NULL (out of memory, or
 * text that is not UTF-8 with *not_utf8 set). */
static json_t *attribute(const Sbx__Judge0Submission *s, size_t i, bool b64, bool *not_utf8)
{
	int64_t updated = s->finished_ms  ? s->finished_ms
			  : s->started_ms ? s->started_ms
					  : s->created_ms;

	/* One attribute a line, in the serializer's order. */
	/* clang-format off */
	switch (i) {
	case 0: return BYTES(source_code, b64);
	case 1: return json_integer(s->language_id);
	case 2: return BYTES(stdin, b64);
	case 3: return BYTES(expected_output, b64);
	case 4: return BYTES(stdout, b64);
	case 5: return json_integer(s->status_id);
	case 6: return datetime(s->created_ms);
	case 7: return datetime(s->finished_ms);
	case 8: return s->has_time ? decimal(s->time) : json_null();
	case 9: return opt_int(s->has_memory, s->memory);
	case 10: return BYTES(stderr, b64);
	case 11: return json_string(s->token ? s->token : "");
	case 12: return json_integer(s->number_of_runs);
	case 13: return decimal(s->cpu_time_limit);
	case 14: return decimal(s->cpu_extra_time);
	case 15: return decimal(s->wall_time_limit);
	case 16: return json_integer(s->memory_limit);
	case 17: return json_integer(s->stack_limit);
	case 18: return json_integer(s->max_processes_and_or_threads);
	case 19: return json_boolean(s->per_process_time);
	case 20: return json_boolean(s->per_process_memory);
	case 21: return json_integer(s->max_file_size);
	case 22: return BYTES(compile_output, b64);
	case 23: return opt_int(s->has_exit_code, s->exit_code);
	case 24: return opt_int(s->has_exit_signal, s->exit_signal);
	case 25: return BYTES(message, b64);
	case 26: return s->has_wall_time ? decimal(s->wall_time) : json_null();
	case 27: return STR(compiler_options, false);
	case 28: return STR(command_line_arguments, false);
	case 29: return json_boolean(s->redirect_stderr_to_stdout);
	case 30: return STR(callback_url, false);
	/* Judge0 always sends additional_files Base64-encoded. */
	case 31: return BYTES(additional_files, true);
	case 32: return json_boolean(s->enable_network);
	case 33: return datetime(s->started_ms);
	case 34: return datetime(s->created_ms);
	case 35: return datetime(updated);
	case 36: return json_null();
	case 37: return s->execution_host && *s->execution_host ? json_string(s->execution_host)
								 : json_null();
	case 38: return status_object(s->status_id);
	case 39: return language_object(s);
	default: return json_null();
	}
	/* clang-format on */
}

json_t *sbx_j0_render(const Sbx__Judge0Submission *s, uint64_t fields, bool base64, bool *not_utf8)
{
	json_t *o = json_object();

	*not_utf8 = false;
	for (size_t i = 0; o && sbx_j0_field_name(i); i++) {
		json_t *v;

		if (!(fields & (UINT64_C(1) << i)))
			continue;
		v = attribute(s, i, base64, not_utf8);
		if (!v) {
			json_decref(o);
			return NULL;
		}
		if (json_object_set_new(o, sbx_j0_field_name(i), v) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
