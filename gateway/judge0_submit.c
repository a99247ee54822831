/* POST /judge0/submissions: Judge0's submission, validated as its model
 * does (app/models/submission.rb: defaults, then each validation in its
 * order, 422 {field: [messages]}), run with Execute number_of_runs times
 * (app/jobs/isolate_job.rb: stop at the first run that is not Accepted;
 * time and memory are the runs' averages), answered 201 with the fields
 * asked for. Three RPCs in a row, the connection suspended between them:
 * ListLanguages (does language_id exist, is it compiled), GetConfig (the
 * daemon's maxima cap Judge0's), then Execute per run. */
#include "judge0.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "cleanup.h"
#include "clock.h"
#include "gw_server.h"
#include "respond.h"
#include "rpc_handler.h"
#include "status.h"

/* Judge0's configuration defaults and maxima (app/helpers/config.rb). */
#define J0_CPU_TIME_LIMIT 5.0
#define J0_MAX_CPU_TIME_LIMIT 15.0
#define J0_CPU_EXTRA_TIME 1.0
#define J0_MAX_CPU_EXTRA_TIME 5.0
#define J0_WALL_TIME_LIMIT 10.0
#define J0_MAX_WALL_TIME_LIMIT 20.0
#define J0_MEMORY_LIMIT 128000
#define J0_MAX_MEMORY_LIMIT 512000
#define J0_STACK_LIMIT 64000
#define J0_MAX_STACK_LIMIT 128000
#define J0_MAX_PROCESSES 60
#define J0_MAX_MAX_PROCESSES 120
#define J0_MAX_FILE_SIZE 1024
#define J0_MAX_MAX_FILE_SIZE 4096
#define J0_NUMBER_OF_RUNS 1
#define J0_MAX_NUMBER_OF_RUNS 20
#define J0_MAX_OPTIONS_CHARS 512

static const char not_utf8_error[] = "some attributes for this submission cannot be converted to "
				     "UTF-8, use base64_encoded=true query parameter";

struct j0_ctx {
	struct gw_j0_sub sub;
	json_t *body;
	uint64_t fields;
	bool base64;
	struct sbx_reply langs; /* ListLanguages' answer, for the validation */
	uint64_t max_ms;	/* the daemon's largest time limit */
	int runs_done;
	double time_sum;
	int64_t memory_sum;
};

static void ctx_free(void *p)
{
	struct j0_ctx *c = p;

	if (!c)
		return;
	gw_j0_sub_fini(&c->sub);
	sbx_reply_fini(&c->langs);
	json_decref(c->body);
	free(c);
}

static const char *query(struct gw_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

static bool query_true(struct gw_request *req, const char *key)
{
	const char *v = query(req, key);

	return v && strcmp(v, "true") == 0;
}

/* errors[field] += message, keeping the fields in first-error order. */
static int add_error(json_t *errors, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int add_error(json_t *errors, const char *field, const char *fmt, ...)
{
	json_t *list = json_object_get(errors, field);
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!list) {
		list = json_array();
		if (!list || json_object_set_new(errors, field, list) < 0)
			return -ENOMEM;
	}
	return json_array_append_new(list, json_string(msg)) < 0 ? -ENOMEM : 0;
}

/* Rails' numericality: a JSON number or a numeric string; null or absent
 * is the default (the model's `||=`). 1: got a number, 0: absent, -1: not
 * a number. */
static int get_number(json_t *body, const char *key, double *ret)
{
	json_t *v = json_object_get(body, key);
	char *end;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_number(v)) {
		*ret = json_number_value(v);
		return 1;
	}
	if (!json_is_string(v))
		return -1;
	if (!*json_string_value(v))
		return 0; /* "" is nil to Rails */
	*ret = strtod(json_string_value(v), &end);
	return *end || !isfinite(*ret) ? -1 : 1;
}

/* Rails prints a bound the way Ruby prints the number: floats keep ".0". */
static void bound_text(double v, bool is_float, char *buf, size_t size)
{
	if (is_float && v == floor(v))
		snprintf(buf, size, "%.1f", v);
	else
		snprintf(buf, size, "%.15g", v);
}

struct num_rule {
	const char *field;
	double def, min, max;
	bool min_exclusive; /* greater_than rather than greater_than_or_equal_to */
	bool is_float;	    /* Judge0's limit is a float: "15.0" */
};

/* One numericality validation; *out gets the value (or the default). */
static int check_number(json_t *body, json_t *errors, const struct num_rule *r, double *out)
{
	char b[48];
	double v = r->def;
	int got = get_number(body, r->field, &v);

	*out = got > 0 ? v : r->def;
	if (got < 0)
		return add_error(errors, r->field, "is not a number");
	if (r->min_exclusive ? v <= r->min : v < r->min) {
		bound_text(r->min, false, b, sizeof(b));
		return add_error(errors, r->field, "must be greater than %s%s",
				 r->min_exclusive ? "" : "or equal to ", b);
	}
	if (v > r->max) {
		bound_text(r->max, r->is_float, b, sizeof(b));
		return add_error(errors, r->field, "must be less than or equal to %s", b);
	}
	return 0;
}

/* A text attribute: a string, or a number as its text (Rails casts);
 * objects, arrays and null are absent. */
static int get_text(json_t *body, const char *key, bool base64, json_t *errors,
		    struct gw_j0_text *ret)
{
	json_t *v = json_object_get(body, key);
	_cleanup_free_ char *num = NULL;

	if (json_is_number(v)) {
		num = json_dumps(v, JSON_ENCODE_ANY);
		return num ? gw_j0_text_set(ret, num, strlen(num)) : -ENOMEM;
	}
	if (!json_is_string(v))
		return 0;
	if (base64) {
		int r = gw_j0_base64_decode(json_string_value(v), json_string_length(v), ret);

		return r == -EINVAL ? add_error(errors, key, "is not valid Base64") : r;
	}
	return gw_j0_text_set(ret, json_string_value(v), json_string_length(v));
}

static bool blank(const struct gw_j0_text *t)
{
	for (size_t i = 0; t->set && i < t->len; i++)
		if (!strchr(" \t\n\v\f\r", t->data[i]))
			return false;
	return true;
}

/* Rails' boolean cast: false, 0, "0", "f", "false", "off" are false. */
static bool get_bool(json_t *body, const char *key, bool def)
{
	json_t *v = json_object_get(body, key);
	const char *s;

	if (!v || json_is_null(v))
		return def;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_number(v))
		return json_number_value(v) != 0;
	s = json_is_string(v) ? json_string_value(v) : "true";
	if (!*s)
		return def;
	return strcasecmp(s, "0") && strcasecmp(s, "f") && strcasecmp(s, "false") &&
	       strcasecmp(s, "off");
}

/* The numeric attributes, in the model's validation order; Judge0's
 * maxima of times and memory lowered to the daemon's. */
static int check_numbers(struct j0_ctx *c, json_t *errors, const Sbx__ConfigReply *cfg)
{
	struct gw_j0_sub *s = &c->sub;
	double max_s = cfg && cfg->max_execution_time ? cfg->max_execution_time : 1e9;
	double max_kb = cfg && cfg->max_memory_mb ? (double)cfg->max_memory_mb * 1024 : 1e12;
	const struct num_rule rules[] = {
		{"number_of_runs", J0_NUMBER_OF_RUNS, 0, J0_MAX_NUMBER_OF_RUNS, true, false},
		{"cpu_time_limit", J0_CPU_TIME_LIMIT, 0, fmin(J0_MAX_CPU_TIME_LIMIT, max_s), false,
		 true},
		{"cpu_extra_time", J0_CPU_EXTRA_TIME, 0, J0_MAX_CPU_EXTRA_TIME, false, true},
		{"wall_time_limit", J0_WALL_TIME_LIMIT, 1, fmin(J0_MAX_WALL_TIME_LIMIT, max_s), false,
		 true},
		{"memory_limit", J0_MEMORY_LIMIT, 2048, fmin(J0_MAX_MEMORY_LIMIT, max_kb), false,
		 false},
		{"stack_limit", J0_STACK_LIMIT, 0, J0_MAX_STACK_LIMIT, false, false},
		{"max_processes_and_or_threads", J0_MAX_PROCESSES, 0, J0_MAX_MAX_PROCESSES, true,
		 false},
		{"max_file_size", J0_MAX_FILE_SIZE, 0, J0_MAX_MAX_FILE_SIZE, false, false},
	};
	double v[SBX_ARRAY_SIZE(rules)];

	for (size_t i = 0; i < SBX_ARRAY_SIZE(rules); i++)
		if (check_number(c->body, errors, &rules[i], &v[i]) < 0)
			return -ENOMEM;
	s->number_of_runs = (int64_t)v[0];
	s->cpu_time_limit = v[1];
	s->cpu_extra_time = v[2];
	s->wall_time_limit = v[3];
	s->memory_limit = (int64_t)v[4];
	s->stack_limit = (int64_t)v[5];
	s->max_processes_and_or_threads = (int64_t)v[6];
	s->max_file_size = (int64_t)v[7];
	return 0;
}

/* The texts, with their presence and length validations. */
static int check_texts(struct j0_ctx *c, json_t *errors)
{
	struct gw_j0_sub *s = &c->sub;
	struct {
		const char *key;
		struct gw_j0_text *t;
		bool b64;
	} texts[] = {
		{"source_code", &s->source_code, c->base64},
		{"stdin", &s->stdin_, c->base64},
		{"expected_output", &s->expected_output, c->base64},
		{"compiler_options", &s->compiler_options, false},
		{"command_line_arguments", &s->command_line_arguments, false},
		{"callback_url", &s->callback_url, false},
		{"additional_files", &s->additional_files, false},
	};

	for (size_t i = 0; i < SBX_ARRAY_SIZE(texts); i++)
		if (get_text(c->body, texts[i].key, texts[i].b64, errors, texts[i].t) < 0)
			return -ENOMEM;
	if (blank(&s->source_code) && !json_object_get(errors, "source_code") &&
	    add_error(errors, "source_code", "can't be blank") < 0)
		return -ENOMEM;
	return 0;
}

static int check_lengths(struct gw_j0_sub *s, json_t *errors)
{
	if (s->compiler_options.len > J0_MAX_OPTIONS_CHARS &&
	    add_error(errors, "compiler_options", "is too long (maximum is %d characters)",
		      J0_MAX_OPTIONS_CHARS) < 0)
		return -ENOMEM;
	if (s->command_line_arguments.len > J0_MAX_OPTIONS_CHARS &&
	    add_error(errors, "command_line_arguments", "is too long (maximum is %d characters)",
		      J0_MAX_OPTIONS_CHARS) < 0)
		return -ENOMEM;
	return 0;
}

/* The model's own validations after the built-in ones: language, then
 * what this server allows. */
static int check_allowed(struct gw_j0_sub *s, json_t *errors, const char *lang_text, bool found)
{
	int r = 0;

	if (!found)
		r |= add_error(errors, "language_id", "language with id %s doesn't exist", lang_text);
	if (!blank(&s->compiler_options) && found && !s->lang.compiled)
		r |= add_error(errors, "compiler_options",
			       "setting compiler options is only allowed for compiled languages");
	/* Not yet: callbacks come with the asynchronous submissions. */
	if (!blank(&s->callback_url))
		r |= add_error(errors, "callback_url", "setting callback is not allowed");
	/* No zip reader in the gateway (gateway/SEED-DIFFERENCES.md). */
	if (!blank(&s->additional_files))
		r |= add_error(errors, "additional_files", "setting additional files is not allowed");
	/* NETWORK_MODE has one value, none (daemon/config.c): no sandbox
	 * gets a network. */
	if (s->enable_network)
		r |= add_error(errors, "enable_network", "enabling network is not allowed");
	return r < 0 ? -ENOMEM : 0;
}

/* Validate the body against the language list and config; 0 with *errors
 * empty when the submission may run. */
static int validate(struct j0_ctx *c, const struct sbx_reply *langs, const Sbx__ConfigReply *cfg,
		    json_t *errors)
{
	struct gw_j0_sub *s = &c->sub;
	json_t *lid = json_object_get(c->body, "language_id");
	double id = -1;
	int got = get_number(c->body, "language_id", &id), r;
	_cleanup_free_ char *lang_text = NULL;
	bool found = false;

	if (check_texts(c, errors) < 0)
		return -ENOMEM;
	if (got == 0 && add_error(errors, "language_id", "can't be blank") < 0)
		return -ENOMEM;
	if (check_numbers(c, errors, cfg) < 0 || check_lengths(s, errors) < 0)
		return -ENOMEM;
	s->per_process_time = get_bool(c->body, "enable_per_process_and_thread_time_limit", false);
	s->per_process_memory =
		get_bool(c->body, "enable_per_process_and_thread_memory_limit", false);
	s->redirect_stderr_to_stdout = get_bool(c->body, "redirect_stderr_to_stdout", false);
	s->enable_network = get_bool(c->body, "enable_network", false);
	if (got > 0 && id == floor(id)) {
		r = gw_j0_find_language(langs, (int)id, &s->lang);
		if (r < 0 && r != -ENOENT)
			return r;
		found = r == 0;
	}
	lang_text = json_is_string(lid) ? strdup(json_string_value(lid))
		    : got > 0		  ? json_dumps(lid, JSON_ENCODE_ANY)
					  : strdup("");
	if (!lang_text)
		return -ENOMEM;
	return check_allowed(s, errors, lang_text, found);
}

static int words_into(const struct gw_j0_text *t, char ***ret, size_t *n)
{
	*ret = NULL;
	*n = 0;
	return t->set ? gw_j0_split_words(t->data, ret, n) : 0;
}

static int run_done(struct gw_server *srv, struct gw_request *req);

/* The Execute request of one run. isolate's -t plus -x is when the
 * program is killed; past -t alone it is a TLE (gw_j0_apply_result). A
 * limit of 0 is isolate's "none": the daemon's default. */
static int start_run(struct gw_server *srv, struct gw_request *req, struct j0_ctx *c)
{
	struct gw_j0_sub *s = &c->sub;
	Sbx__ExecuteRequest x = SBX__EXECUTE_REQUEST__INIT;
	Sbx__Limits lim = SBX__LIMITS__INIT;
	char **args = NULL, **opts = NULL;
	uint64_t cpu_ms = (uint64_t)llround((s->cpu_time_limit + s->cpu_extra_time) * 1000);
	int r;

	/* The extra time is grace: never past the daemon's maximum. */
	if (c->max_ms && cpu_ms > c->max_ms)
		cpu_ms = c->max_ms;
	lim.has_cpu_time_ms = cpu_ms > 0;
	lim.cpu_time_ms = cpu_ms;
	lim.has_wall_time_ms = true;
	lim.wall_time_ms = (uint64_t)llround(s->wall_time_limit * 1000);
	lim.has_memory_kb = true;
	lim.memory_kb = (uint64_t)s->memory_limit;
	lim.has_stack_kb = s->stack_limit > 0;
	lim.stack_kb = (uint64_t)s->stack_limit;
	lim.has_pids = true;
	lim.pids = (uint32_t)s->max_processes_and_or_threads;
	lim.has_fsize_kb = s->max_file_size > 0;
	lim.fsize_kb = (uint64_t)s->max_file_size;
	x.language = s->lang.runtime;
	x.code = s->source_code.data;
	x.limits = &lim;
	x.stdin.data = (uint8_t *)s->stdin_.data;
	x.stdin.len = s->stdin_.len;
	x.merge_stderr = s->redirect_stderr_to_stdout;
	x.want_output = true; /* compile_output is stdout and stderr interleaved */
	r = words_into(&s->command_line_arguments, &args, &x.n_args);
	if (r == 0)
		r = words_into(&s->compiler_options, &opts, &x.n_compiler_options);
	x.args = args;
	x.compiler_options = opts;
	if (r == 0)
		r = gw_rpc_start(srv, req, "Execute", &x.base, run_done);
	gw_j0_words_free(args);
	gw_j0_words_free(opts);
	return r;
}

static int respond_sub(struct gw_request *req, struct j0_ctx *c)
{
	bool not_utf8;
	json_t *out = gw_j0_render(&c->sub, c->fields, c->base64, &not_utf8);

	if (!out && not_utf8)
		out = json_pack("{s:s, s:s}", "token", c->sub.token, "error", not_utf8_error);
	return out ? gw_respond(req, 201, out, NULL) : -ENOMEM;
}

static int run_done(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c = req->ctx;
	struct gw_j0_sub *s = &c->sub;
	const Sbx__ExecResult *res = (const Sbx__ExecResult *)req->reply.msg;

	if (!gw_j0_call_ok(req))
		return gw_rpc_respond_call_failure(req);
	if (res->base.descriptor != &sbx__exec_result__descriptor)
		return gw_rpc_respond_failure(req, -EBADMSG);
	gw_j0_apply_result(s, res);
	snprintf(s->execution_host, sizeof(s->execution_host), "%s", req->node);
	sbx_reply_fini(&req->reply);
	if (s->status_id == GW_J0_COMPILATION_ERROR) {
		s->finished_ms = sbx_clock_wall_ms();
		return respond_sub(req, c);
	}
	c->runs_done++;
	c->time_sum += s->time_s;
	c->memory_sum += s->memory_kb;
	if (s->status_id == GW_J0_ACCEPTED && c->runs_done < s->number_of_runs)
		return start_run(srv, req, c);
	/* isolate_job.rb: the average of the runs made; memory is an integer
	 * column, so Ruby's float average is truncated. */
	s->time_s = c->time_sum / c->runs_done;
	s->memory_kb = c->memory_sum / c->runs_done;
	s->finished_ms = sbx_clock_wall_ms();
	return respond_sub(req, c);
}

/* Validated: 422 with the errors, else the first run. */
static int config_done(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c = req->ctx;
	const Sbx__ConfigReply *cfg = (const Sbx__ConfigReply *)req->reply.msg;
	json_t *errors;
	int r;

	if (!gw_j0_call_ok(req))
		return gw_rpc_respond_call_failure(req);
	if (cfg->base.descriptor != &sbx__config_reply__descriptor)
		return gw_rpc_respond_failure(req, -EBADMSG);
	errors = json_object();
	if (!errors)
		return -ENOMEM;
	r = validate(c, &c->langs, cfg, errors);
	if (r < 0) {
		json_decref(errors);
		return r;
	}
	if (json_object_size(errors))
		return gw_respond(req, 422, errors, NULL);
	json_decref(errors);
	c->max_ms = (uint64_t)cfg->max_execution_time * 1000;
	sbx_reply_fini(&req->reply);
	c->sub.started_ms = sbx_clock_wall_ms();
	c->sub.status_id = GW_J0_PROCESSING;
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
			    &(Sbx__GetConfigRequest)SBX__GET_CONFIG_REQUEST__INIT.base, config_done);
}

int gw_judge0_submit_handler(struct gw_server *srv, struct gw_request *req)
{
	struct j0_ctx *c;
	char err[256];
	json_error_t je;
	uuid_t u;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	req->ctx = c;
	req->ctx_free = ctx_free;
	if (gw_j0_parse_fields(query(req, "fields"), &c->fields, err, sizeof(err)) < 0)
		return gw_respond_error(req, 400, NULL, "%s", err);
	c->base64 = query_true(req, "base64_encoded");
	if (!query_true(req, "wait"))
		return gw_respond_error(req, 501, NULL,
					"asynchronous submissions (wait=false) are not "
					"implemented yet; use wait=true");
	c->body = req->body.len ? json_loadb(req->body.data, req->body.len, 0, &je)
				: json_object();
	if (!c->body)
		return gw_respond_error(req, 400, NULL,
					"the request body is not valid JSON: %s (line %d, column %d)",
					je.text, je.line, je.column);
	if (!json_is_object(c->body))
		return gw_respond_error(req, 400, NULL, "the request body must be a JSON object");
	uuid_generate_random(u);
	uuid_unparse_lower(u, c->sub.token);
	c->sub.created_ms = sbx_clock_wall_ms();
	c->sub.status_id = GW_J0_IN_QUEUE;
	return gw_rpc_start(srv, req, "ListLanguages",
			    &(Sbx__ListLanguagesRequest)SBX__LIST_LANGUAGES_REQUEST__INIT.base,
			    languages_done);
}
