/* Judge0's status rules, its fields and the text helpers (common/judge0.h). */
#include "judge0.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"

static const char *const statuses[] = {
	[SBX_J0_IN_QUEUE] = "In Queue",
	[SBX_J0_PROCESSING] = "Processing",
	[SBX_J0_ACCEPTED] = "Accepted",
	[SBX_J0_WRONG_ANSWER] = "Wrong Answer",
	[SBX_J0_TLE] = "Time Limit Exceeded",
	[SBX_J0_COMPILATION_ERROR] = "Compilation Error",
	[SBX_J0_SIGSEGV] = "Runtime Error (SIGSEGV)",
	[SBX_J0_SIGXFSZ] = "Runtime Error (SIGXFSZ)",
	[SBX_J0_SIGFPE] = "Runtime Error (SIGFPE)",
	[SBX_J0_SIGABRT] = "Runtime Error (SIGABRT)",
	[SBX_J0_NZEC] = "Runtime Error (NZEC)",
	[SBX_J0_OTHER] = "Runtime Error (Other)",
	[SBX_J0_INTERNAL_ERROR] = "Internal Error",
	[SBX_J0_EXEC_FORMAT_ERROR] = "Exec Format Error",
};

const char *sbx_j0_status_description(int id)
{
	return id >= 1 && id < (int)SBX_ARRAY_SIZE(statuses) ? statuses[id] : NULL;
}

int sbx_j0_set_bytes(ProtobufCBinaryData *b, protobuf_c_boolean *has, const void *data, size_t len,
		     bool empty_is_null)
{
	uint8_t *p = NULL;

	if (len || !empty_is_null) {
		p = malloc(len + 1);
		if (!p)
			return -ENOMEM;
		if (len)
			memcpy(p, data, len);
		p[len] = 0;
	}
	free(b->data);
	b->data = p;
	b->len = p ? len : 0;
	*has = p != NULL;
	return 0;
}

/* SubmissionSerializer's attributes: the submissions table's columns
 * (db/schema.rb) without id, then status and language. */
static const char *const attributes[] = {
	"source_code",
	"language_id",
	"stdin",
	"expected_output",
	"stdout",
	"status_id",
	"created_at",
	"finished_at",
	"time",
	"memory",
	"stderr",
	"token",
	"number_of_runs",
	"cpu_time_limit",
	"cpu_extra_time",
	"wall_time_limit",
	"memory_limit",
	"stack_limit",
	"max_processes_and_or_threads",
	"enable_per_process_and_thread_time_limit",
	"enable_per_process_and_thread_memory_limit",
	"max_file_size",
	"compile_output",
	"exit_code",
	"exit_signal",
	"message",
	"wall_time",
	"compiler_options",
	"command_line_arguments",
	"redirect_stderr_to_stdout",
	"callback_url",
	"additional_files",
	"enable_network",
	"started_at",
	"queued_at",
	"updated_at",
	"queue_host",
	"execution_host",
	"status",
	"language",
};

uint64_t sbx_j0_field(const char *name)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(attributes); i++)
		if (strcmp(attributes[i], name) == 0)
			return UINT64_C(1) << i;
	return 0;
}

const char *sbx_j0_field_name(size_t i)
{
	return i < SBX_ARRAY_SIZE(attributes) ? attributes[i] : NULL;
}

uint64_t sbx_j0_default_fields(void)
{
	static const char *const def[] = {"token",  "time",	      "memory",	 "stdout",
					  "stderr", "compile_output", "message", "status"};
	uint64_t f = 0;

	for (size_t i = 0; i < SBX_ARRAY_SIZE(def); i++)
		f |= sbx_j0_field(def[i]);
	return f;
}

/* Fields::Submission: split on ',' (Ruby drops trailing empty pieces),
 * `*` is every attribute, unknown names are an error listing them all. */
int sbx_j0_parse_fields(const char *spec, uint64_t *ret, char *err, size_t errlen)
{
	uint64_t f = 0;
	bool all = false;
	size_t used = 0, n_bad = 0, len = spec ? strlen(spec) : 0;

	while (len > 0 && spec[len - 1] == ',')
		len--;
	for (size_t i = 0; i < len;) {
		size_t k = strcspn(spec + i, ",");
		char name[64];
		uint64_t bit;

		if (k > len - i)
			k = len - i;
		snprintf(name, sizeof(name), "%.*s", (int)k, spec + i);
		bit = k < sizeof(name) ? sbx_j0_field(name) : 0;
		if (strcmp(name, "*") == 0)
			all = true;
		else if (bit)
			f |= bit;
		else {
			int n = snprintf(err + used, errlen - used, "%s%.*s",
					 n_bad ? ", " : "invalid fields: [", (int)k, spec + i);
			used = n > 0 && (size_t)n < errlen - used ? used + (size_t)n : used;
			n_bad++;
		}
		i += k + 1;
	}
	if (n_bad) {
		snprintf(err + used, errlen - used, "]");
		return -EINVAL;
	}
	*ret = all ? (UINT64_C(1) << SBX_ARRAY_SIZE(attributes)) - 1
	       : f ? f
		   : sbx_j0_default_fields();
	return 0;
}

char *sbx_j0_base64_encode(const void *data, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *in = data;
	size_t quads = (len + 2) / 3, out_len = quads * 4 + (quads + 14) / 15, o = 0, col = 0;
	char *out = malloc(out_len + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		v |= i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0;
		v |= i + 2 < len ? in[i + 2] : 0;
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
		/* encode64 is pack("m"): a line break after every 60 characters
		 * and after the last line. */
		if ((col += 4) == 60 || i + 3 >= len) {
			out[o++] = '\n';
			col = 0;
		}
	}
	out[o] = 0;
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int sbx_j0_base64_decode(const char *in, size_t len, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = malloc(len / 4 * 3 + 4);
	size_t o = 0, n = 0, pad = 0;
	uint32_t acc = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		int v = b64_value(c);

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (v < 0 || pad)
			return -EINVAL; /* a stray character, or data after padding */
		acc = acc << 6 | (uint32_t)v;
		if (++n % 4 == 0) {
			out[o++] = (char)(acc >> 16);
			out[o++] = (char)(acc >> 8);
			out[o++] = (char)acc;
			acc = 0;
		}
	}
	if (n % 4 == 1 || pad > 2 || (pad && (n + pad) % 4))
		return -EINVAL;
	if (n % 4 == 2)
		out[o++] = (char)(acc >> 4);
	else if (n % 4 == 3) {
		out[o++] = (char)(acc >> 10);
		out[o++] = (char)(acc >> 2);
	}
	out[o] = 0;
	*ret_len = o;
	*ret = TAKE_PTR(out);
	return 0;
}

void sbx_j0_words_free(char **w)
{
	for (size_t i = 0; w && w[i]; i++)
		free(w[i]);
	free(w);
}

/* Judge0 strips these before the text reaches its bash script. */
static bool dropped(char c)
{
	return c && strchr("$&;<>|`", c);
}

int sbx_j0_split_words(const char *s, char ***ret, size_t *n_ret)
{
	size_t len = strlen(s), n = 0, cap = len / 2 + 2;
	_cleanup_free_ char *word = malloc(len + 1);
	char **w = calloc(cap, sizeof(char *));
	size_t wl = 0;
	bool in_word = false;
	char quote = 0;

	if (!w || !word)
		return free(w), -ENOMEM;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (dropped(c))
			continue;
		if (c && quote) {
			if (c == quote)
				quote = 0;
			else if (c == '\\' && quote == '"' && s[i + 1] && strchr("\"\\", s[i + 1]))
				word[wl++] = s[++i];
			else
				word[wl++] = c;
			continue;
		}
		if (c == '\'' || c == '"') {
			quote = c;
			in_word = true;
		} else if (c == '\\' && s[i + 1] && !dropped(s[i + 1])) {
			word[wl++] = s[++i];
			in_word = true;
		} else if (c && c != ' ' && c != '\t' && c != '\n') {
			word[wl++] = c;
			in_word = true;
		} else if (in_word) {
			if (!(w[n] = strndup(word, wl)))
				return sbx_j0_words_free(w), -ENOMEM;
			n++;
			wl = 0;
			in_word = false;
		}
	}
	*ret = w;
	*n_ret = n;
	return 0;
}

/* isolate_job.rb's strip: every line's trailing whitespace, then the
 * text's (Ruby's rstrip: NUL, blanks, \t \n \v \f \r). */
static bool is_rspace(char c)
{
	return c == 0 || c == ' ' || (c >= '\t' && c <= '\r');
}

static size_t strip_into(const char *in, size_t len, char *out)
{
	size_t o = 0, line = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || in[i] == '\n') {
			size_t e = i;

			while (e > line && is_rspace(in[e - 1]))
				e--;
			memcpy(out + o, in + line, e - line);
			o += e - line;
			if (i < len)
				out[o++] = '\n';
			line = i + 1;
		}
	}
	while (o > 0 && is_rspace(out[o - 1]))
		o--;
	return o;
}

static bool same_stripped(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	_cleanup_free_ char *x = malloc(a->len + 1), *y = malloc(b->len + 1);
	size_t nx, ny;

	if (!x || !y)
		return false;
	nx = strip_into(a->len ? (const char *)a->data : "", a->len, x);
	ny = strip_into(b->len ? (const char *)b->data : "", b->len, y);
	return nx == ny && memcmp(x, y, nx) == 0;
}

/* Status::find_runtime_error_by_status_code. */
static int signal_status(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return SBX_J0_SIGSEGV;
	case SIGXFSZ:
		return SBX_J0_SIGXFSZ;
	case SIGFPE:
		return SBX_J0_SIGFPE;
	case SIGABRT:
		return SBX_J0_SIGABRT;
	default:
		return SBX_J0_OTHER;
	}
}

/* Judge0 stores an empty output as nil. */
#define SET(s, f, data, len) sbx_j0_set_bytes(&(s)->f, &(s)->has_##f, (data), (len), true)
#define CLEAR(s, f) SET(s, f, NULL, 0)

static int set_message(Sbx__Judge0Submission *s, const char *fmt, int arg)
{
	char m[160];

	snprintf(m, sizeof(m), fmt, arg);
	return SET(s, message, m, strlen(m));
}

/* compile in isolate_job.rb: stdout and stderr in one (--stderr-to-stdout). */
static int set_compile_output(Sbx__Judge0Submission *s, const Sbx__ExecResult *c)
{
	_cleanup_free_ char *both = NULL;

	if (c->status == SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT ||
	    c->status == SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT)
		return SET(s, compile_output, "Compilation time limit exceeded.", 32);
	if (c->output.len)
		return SET(s, compile_output, c->output.data, c->output.len);
	both = malloc(c->stdout.len + c->stderr.len + 1);
	if (!both)
		return -ENOMEM;
	if (c->stdout.len)
		memcpy(both, c->stdout.data, c->stdout.len);
	if (c->stderr.len)
		memcpy(both + c->stdout.len, c->stderr.data, c->stderr.len);
	return SET(s, compile_output, both, c->stdout.len + c->stderr.len);
}

/* A failed compile: nothing of a run, status 6 (isolate_job.rb compile). */
static int apply_compile_error(Sbx__Judge0Submission *s, const Sbx__ExecResult *c)
{
	CLEAR(s, stdout);
	CLEAR(s, stderr);
	CLEAR(s, message);
	s->has_time = s->has_wall_time = s->has_memory = false;
	s->has_exit_code = s->has_exit_signal = false;
	s->has_status_id = true;
	s->status_id = SBX_J0_COMPILATION_ERROR;
	return set_compile_output(s, c);
}

/* err when it failed, else status. */
static int then(int err, int status)
{
	return err < 0 ? err : status;
}

/* isolate's status: TO, SG, RE, XX or none, with its message; or -ENOMEM. */
static int run_status(Sbx__Judge0Submission *s, const Sbx__ExecResult *res)
{
	double cpu_limit_ms = s->cpu_time_limit * 1000;
	int r;

	switch (res->status) {
	case SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT:
		return then(set_message(s, "Time limit exceeded", 0), SBX_J0_TLE);
	case SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT:
		return then(set_message(s, "Time limit exceeded (wall clock)", 0), SBX_J0_TLE);
	case SBX__EXEC_STATUS__EXEC_STATUS_OUTPUT_LIMIT:
		/* Judge0's output is a file under -f: past it, SIGXFSZ. */
		return then(set_message(s, "Output limit exceeded", 0), SBX_J0_SIGXFSZ);
	case SBX__EXEC_STATUS__EXEC_STATUS_MEMORY_LIMIT:
		/* isolate's cgroup memory limit kills with SIGKILL. */
		return then(set_message(s, "Memory limit exceeded", 0), SBX_J0_OTHER);
	case SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR:
		return then(SET(s, message, res->error, strlen(res->error)), SBX_J0_INTERNAL_ERROR);
	default:
		break;
	}
	if (res->signal)
		return then(set_message(s, "Caught fatal signal %d", res->signal),
			    signal_status(res->signal));
	if (res->exit_code)
		return then(set_message(s, "Exited with error status %d", res->exit_code),
			    SBX_J0_NZEC);
	/* isolate -x: the program may run on for the extra time, but past
	 * cpu_time_limit it is a TLE all the same. */
	if (cpu_limit_ms > 0 && (double)res->cpu_time_ms > cpu_limit_ms)
		return then(set_message(s, "Time limit exceeded", 0), SBX_J0_TLE);
	r = CLEAR(s, message);
	if (r < 0 || !s->has_expected_output)
		return then(r, SBX_J0_ACCEPTED);
	return same_stripped(&s->expected_output, &s->stdout) ? SBX_J0_ACCEPTED
							      : SBX_J0_WRONG_ANSWER;
}

int sbx_j0_apply_result(Sbx__Judge0Submission *s, const Sbx__ExecResult *res)
{
	const Sbx__ExecResult *c = res->compile;
	int r;

	if (c && c->status != SBX__EXEC_STATUS__EXEC_STATUS_OK)
		return apply_compile_error(s, c);
	r = c ? set_compile_output(s, c) : CLEAR(s, compile_output);
	if (r == 0)
		r = SET(s, stdout, res->stdout.data, res->stdout.len);
	if (r == 0)
		r = SET(s, stderr, res->stderr.data, res->stderr.len);
	if (r < 0)
		return r;
	s->has_time = s->has_wall_time = s->has_memory = s->has_exit_code = true;
	s->time = (double)res->cpu_time_ms / 1000;
	s->wall_time = (double)res->wall_time_ms / 1000;
	s->memory = (int64_t)res->memory_peak_kb;
	s->exit_code = res->exit_code;
	s->has_exit_signal = res->signal != 0;
	s->exit_signal = res->signal;
	r = run_status(s, res);
	if (r < 0)
		return r;
	s->has_status_id = true;
	s->status_id = r;
	return 0;
}

int sbx_j0_execute_request(const Sbx__Judge0Submission *s, Sbx__ExecuteRequest *x)
{
	char *code = malloc(s->source_code.len + 1);

	if (!code)
		return -ENOMEM;
	if (s->source_code.len)
		memcpy(code, s->source_code.data, s->source_code.len);
	code[s->source_code.len] = 0;
	x->language = s->runtime;
	x->code = code;
	x->limits = s->limits;
	x->stdin = s->stdin;
	x->args = s->args;
	x->n_args = s->n_args;
	x->compiler_options = s->compiler_option_words;
	x->n_compiler_options = s->n_compiler_option_words;
	x->merge_stderr = s->redirect_stderr_to_stdout;
	x->files = s->files;
	x->n_files = s->n_files;
	x->network = s->enable_network;
	/* compile_output is the compiler's stdout and stderr interleaved. */
	x->want_output = true;
	return 0;
}

void sbx_j0_drop_files(Sbx__Judge0Submission *s)
{
	for (size_t i = 0; i < s->n_files; i++)
		protobuf_c_message_free_unpacked(&s->files[i]->base, NULL);
	free(s->files);
	s->files = NULL;
	s->n_files = 0;
}

int sbx_j0_add_run(Sbx__Judge0Submission *s, const Sbx__ExecResult *res, double *time_sum,
		   int64_t *memory_sum)
{
	int r = sbx_j0_apply_result(s, res);

	if (r < 0 || s->status_id == SBX_J0_COMPILATION_ERROR)
		return r < 0 ? r : 0;
	s->runs_done++;
	s->has_runs_done = true;
	*time_sum += s->time;
	*memory_sum += s->memory;
	/* isolate_job.rb: the average of the runs made; memory is an integer
	 * column, so Ruby's float average is truncated. */
	s->time = *time_sum / s->runs_done;
	s->memory = *memory_sum / s->runs_done;
	return s->status_id == SBX_J0_ACCEPTED && s->runs_done < s->number_of_runs;
}

/* batch_show: tokens.to_s.strip.split(","), which drops trailing empty
 * pieces and keeps the others (an empty one matches nothing). */
int sbx_j0_split_tokens(const char *list, size_t max, char ***ret, size_t *n_ret)
{
	size_t len, n = 0;
	char **v;

	while (*list && strchr(" \t\n\v\f\r", *list))
		list++;
	len = strlen(list);
	while (len && (strchr(" \t\n\v\f\r", list[len - 1]) || list[len - 1] == ','))
		len--;
	v = calloc(max + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; len && i <= len;) {
		size_t k = strcspn(list + i, ",");

		if (k > len - i)
			k = len - i;
		if (n == max) {
			sbx_j0_words_free(v);
			return -E2BIG;
		}
		if (!(v[n++] = strndup(list + i, k))) {
			sbx_j0_words_free(v);
			return -ENOMEM;
		}
		i += k + 1;
	}
	*ret = v;
	*n_ret = n;
	return 0;
}
