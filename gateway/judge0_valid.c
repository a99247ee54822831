/* Judge0's validation of a submission (app/models/submission.rb): its
 * defaults (app/helpers/config.rb) filled in, then each validation in the
 * model's order, each failure a message of 422 {field: [messages]} in
 * Rails' words. A valid submission also gets what Execute needs: limits
 * (seconds to ms, KB as they are), the argument and option words. */
#include "judge0_valid.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "judge0.h"
#include "judge0_zip.h"
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
/* Judge0 CE's "Multi-file program": bash runs the archive's compile and
 * run scripts (the runtimes table's multifile row). */
#define J0_MULTI_FILE 89

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
	/* A default over a maximum the daemon lowered is that maximum: a
	 * client that sent nothing is not refused. */
	double def = fmin(r->def, r->max), v = def;
	int got = get_number(body, r->field, &v);

	*out = got > 0 ? v : def;
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
		    ProtobufCBinaryData *b, protobuf_c_boolean *has)
{
	json_t *v = json_object_get(body, key);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if (json_is_number(v)) {
		buf = json_dumps(v, JSON_ENCODE_ANY);
		return buf ? sbx_j0_set_bytes(b, has, buf, strlen(buf), false) : -ENOMEM;
	}
	if (!json_is_string(v))
		return 0;
	if (!base64)
		return sbx_j0_set_bytes(b, has, json_string_value(v), json_string_length(v), false);
	r = sbx_j0_base64_decode(json_string_value(v), json_string_length(v), &buf, &len);
	if (r == -EINVAL)
		return add_error(errors, key, "is not valid Base64");
	return r < 0 ? r : sbx_j0_set_bytes(b, has, buf, len, false);
}

/* A string attribute (never Base64): NULL when absent. */
static int get_string(json_t *body, const char *key, char **ret)
{
	json_t *v = json_object_get(body, key);

	free(*ret);
	*ret = NULL;
	if (json_is_number(v))
		*ret = json_dumps(v, JSON_ENCODE_ANY);
	else if (json_is_string(v))
		*ret = strdup(json_string_value(v));
	else
		return 0;
	return *ret ? 0 : -ENOMEM;
}

static bool blank_text(const char *t, size_t len)
{
	for (size_t i = 0; t && i < len; i++)
		if (!strchr(" \t\n\v\f\r", t[i]))
			return false;
	return true;
}

static bool blank(const char *s)
{
	return blank_text(s, s ? strlen(s) : 0);
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
static int check_numbers(json_t *body, json_t *errors, const Sbx__ConfigReply *cfg,
			 Sbx__Judge0Submission *s)
{
	double max_s = cfg->max_execution_time ? cfg->max_execution_time : 1e9;
	double max_kb = cfg->max_memory_mb ? (double)cfg->max_memory_mb * 1024 : 1e12;
	const struct num_rule rules[] = {
		{"number_of_runs", J0_NUMBER_OF_RUNS, 0, J0_MAX_NUMBER_OF_RUNS, true, false},
		{"cpu_time_limit", J0_CPU_TIME_LIMIT, 0, fmin(J0_MAX_CPU_TIME_LIMIT, max_s), false,
		 true},
		{"cpu_extra_time", J0_CPU_EXTRA_TIME, 0, J0_MAX_CPU_EXTRA_TIME, false, true},
		{"wall_time_limit", J0_WALL_TIME_LIMIT, 1, fmin(J0_MAX_WALL_TIME_LIMIT, max_s),
		 false, true},
		{"memory_limit", J0_MEMORY_LIMIT, 2048, fmin(J0_MAX_MEMORY_LIMIT, max_kb), false,
		 false},
		{"stack_limit", J0_STACK_LIMIT, 0, J0_MAX_STACK_LIMIT, false, false},
		{"max_processes_and_or_threads", J0_MAX_PROCESSES, 0, J0_MAX_MAX_PROCESSES, true,
		 false},
		{"max_file_size", J0_MAX_FILE_SIZE, 0, J0_MAX_MAX_FILE_SIZE, false, false},
	};
	double v[SBX_ARRAY_SIZE(rules)];

	for (size_t i = 0; i < SBX_ARRAY_SIZE(rules); i++)
		if (check_number(body, errors, &rules[i], &v[i]) < 0)
			return -ENOMEM;
	s->has_number_of_runs = s->has_cpu_time_limit = s->has_cpu_extra_time = true;
	s->has_wall_time_limit = s->has_memory_limit = s->has_stack_limit = true;
	s->has_max_processes_and_or_threads = s->has_max_file_size = true;
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

static bool multi_file(json_t *body)
{
	double id = 0;

	return get_number(body, "language_id", &id) > 0 && id == J0_MULTI_FILE;
}

/* The texts, with the presence and length validations. */
static int check_texts(json_t *body, bool base64, json_t *errors, Sbx__Judge0Submission *s)
{
	struct {
		const char *key;
		ProtobufCBinaryData *b;
		protobuf_c_boolean *has;
		bool b64;
	} texts[] = {
		{"source_code", &s->source_code, &s->has_source_code, base64},
		{"stdin", &s->stdin, &s->has_stdin, base64},
		{"expected_output", &s->expected_output, &s->has_expected_output, base64},
		/* Judge0 sends it Base64-encoded always (a zip). */
		{"additional_files", &s->additional_files, &s->has_additional_files, true},
	};
	int r = 0;

	for (size_t i = 0; i < SBX_ARRAY_SIZE(texts) && r == 0; i++)
		r = get_text(body, texts[i].key, texts[i].b64, errors, texts[i].b, texts[i].has);
	if (r == 0)
		r = get_string(body, "compiler_options", &s->compiler_options);
	if (r == 0)
		r = get_string(body, "command_line_arguments", &s->command_line_arguments);
	if (r == 0)
		r = get_string(body, "callback_url", &s->callback_url);
	/* A Multi-file program may have its run script in the archive. */
	if (r == 0 && blank_text((const char *)s->source_code.data, s->source_code.len) &&
	    !json_object_get(errors, "source_code") && !multi_file(body))
		r = add_error(errors, "source_code", "can't be blank");
	return r;
}

static int check_lengths(Sbx__Judge0Submission *s, json_t *errors)
{
	if (s->compiler_options && strlen(s->compiler_options) > J0_MAX_OPTIONS_CHARS &&
	    add_error(errors, "compiler_options", "is too long (maximum is %d characters)",
		      J0_MAX_OPTIONS_CHARS) < 0)
		return -ENOMEM;
	if (s->command_line_arguments && strlen(s->command_line_arguments) > J0_MAX_OPTIONS_CHARS &&
	    add_error(errors, "command_line_arguments", "is too long (maximum is %d characters)",
		      J0_MAX_OPTIONS_CHARS) < 0)
		return -ENOMEM;
	return 0;
}

/* The archive's files become the submission's; none may replace the
 * source file, except that a Multi-file program without source_code
 * takes its run script from the archive. -ENOMEM, else 0 (errors set). */
static int check_files(Sbx__Judge0Submission *s, const struct gw_j0_language *l, json_t *errors)
{
	bool blank_src = blank_text((const char *)s->source_code.data, s->source_code.len);
	char why[GW_J0_ZIP_MAX_PATH + 160];
	size_t k;
	int r;

	if (!s->has_additional_files || !s->additional_files.len)
		return l->id == J0_MULTI_FILE && blank_src
			       ? add_error(errors, "additional_files", "can't be blank")
			       : 0;
	r = gw_j0_unzip(s->additional_files.data, s->additional_files.len, &s->files, &s->n_files,
			why, sizeof(why));
	if (r < 0)
		return r == -EINVAL ? add_error(errors, "additional_files", "%s", why) : r;
	for (k = 0; k < s->n_files && strcmp(s->files[k]->path, l->source_file) != 0; k++)
		;
	if (k < s->n_files && l->id == J0_MULTI_FILE && blank_src) {
		Sbx__File *f = s->files[k];

		free(s->source_code.data);
		s->source_code = f->content;
		s->has_source_code = true;
		f->content = (ProtobufCBinaryData){0};
		protobuf_c_message_free_unpacked(&f->base, NULL);
		s->files[k] = s->files[--s->n_files];
		return 0;
	}
	if (k < s->n_files)
		return add_error(errors, "additional_files",
				 "must not contain %s, the submission's source file",
				 l->source_file);
	return l->id == J0_MULTI_FILE && blank_src
		       ? add_error(errors, "additional_files", "must contain a run script")
		       : 0;
}

/* The model's own validations after the built-in ones: language, then
 * what this server allows. */
static int check_allowed(Sbx__Judge0Submission *s, json_t *errors, const char *lang_text,
			 const struct gw_j0_language *l, const struct gw_j0_valid_opts *o)
{
	bool found = l != NULL;
	int r = 0;

	if (!found)
		r |= add_error(errors, "language_id", "language with id %s doesn't exist",
			       lang_text);
	if (!blank(s->compiler_options) && found && !s->compiled)
		r |= add_error(errors, "compiler_options",
			       "setting compiler options is only allowed for compiled languages");
	if (!blank(s->callback_url) && o->check_callback) {
		char why[160] = "setting callback is not allowed";

		if (o->check_callback(o->arg, s->callback_url, why, sizeof(why)) < 0)
			r |= add_error(errors, "callback_url", "%s", why);
	}
	if (found && check_files(s, l, errors) < 0)
		return -ENOMEM;
	/* Only a daemon in NETWORK_MODE=bridge gives a sandbox a network
	 * (under its egress policy); the daemon refuses it otherwise too. */
	if (s->enable_network &&
	    (!o->config || !o->config->network_mode || strcmp(o->config->network_mode, "bridge")))
		r |= add_error(errors, "enable_network", "enabling network is not allowed");
	return r < 0 ? -ENOMEM : 0;
}

/* language_id: blank, an id we have, or the text of one we do not. */
static int check_language(json_t *body, json_t *errors, const struct gw_j0_valid_opts *o,
			  Sbx__Judge0Submission *s, char **lang_text, struct gw_j0_language *ret,
			  bool *found)
{
	json_t *lid = json_object_get(body, "language_id");
	struct gw_j0_language l;
	double id = -1;
	int got = get_number(body, "language_id", &id), r;

	*found = false;
	if (got == 0 && add_error(errors, "language_id", "can't be blank") < 0)
		return -ENOMEM;
	if (got > 0 && id == floor(id) && fabs(id) < 1e9) {
		r = gw_j0_find_language(o->languages, (int)id, &l);
		if (r < 0 && r != -ENOENT)
			return r;
		*found = r == 0;
	}
	if (*found) {
		s->has_language_id = s->has_compiled = true;
		s->language_id = l.id;
		s->compiled = l.compiled;
		s->language_name = strdup(l.name);
		s->runtime = strdup(l.runtime);
		if (!s->language_name || !s->runtime)
			return -ENOMEM;
		*ret = l;
	}
	*lang_text = json_is_string(lid) ? strdup(json_string_value(lid))
		     : got > 0		 ? json_dumps(lid, JSON_ENCODE_ANY)
					 : strdup("");
	return *lang_text ? 0 : -ENOMEM;
}

/* What Execute gets. isolate's -t plus -x is when the program is killed;
 * past -t alone it is a TLE (common/judge0.c). A limit of 0 is isolate's
 * "none": the daemon's default. The extra time is grace: never past the
 * daemon's largest limit. */
static int execute_parts(Sbx__Judge0Submission *s, const Sbx__ConfigReply *cfg)
{
	Sbx__Limits *l = malloc(sizeof(*l));
	uint64_t cpu_ms = (uint64_t)llround((s->cpu_time_limit + s->cpu_extra_time) * 1000);
	uint64_t max_ms = (uint64_t)cfg->max_execution_time * 1000;
	int r;

	if (!l)
		return -ENOMEM;
	sbx__limits__init(l);
	s->limits = l;
	if (max_ms && cpu_ms > max_ms)
		cpu_ms = max_ms;
	l->has_cpu_time_ms = cpu_ms > 0;
	l->cpu_time_ms = cpu_ms;
	l->has_wall_time_ms = l->has_memory_kb = l->has_pids = true;
	l->wall_time_ms = (uint64_t)llround(s->wall_time_limit * 1000);
	l->memory_kb = (uint64_t)s->memory_limit;
	l->pids = (uint32_t)s->max_processes_and_or_threads;
	l->has_stack_kb = s->stack_limit > 0;
	l->stack_kb = (uint64_t)s->stack_limit;
	/* isolate's -f: the run's RLIMIT_FSIZE, 0 its "none". The compile
	 * keeps the row's own (Judge0 compiles under MAX_MAX_FILE_SIZE). */
	l->has_fsize_kb = s->max_file_size > 0;
	l->fsize_kb = (uint64_t)s->max_file_size;
	r = s->command_line_arguments
		    ? sbx_j0_split_words(s->command_line_arguments, &s->args, &s->n_args)
		    : 0;
	if (r == 0 && s->compiler_options)
		r = sbx_j0_split_words(s->compiler_options, &s->compiler_option_words,
				       &s->n_compiler_option_words);
	return r;
}

int gw_j0_validate(json_t *body, const struct gw_j0_valid_opts *o, Sbx__Judge0Submission *s,
		   json_t *errors)
{
	_cleanup_free_ char *lang_text = NULL;
	struct gw_j0_language l;
	bool found = false;
	int r;

	r = check_texts(body, o->base64, errors, s);
	if (r == 0)
		r = check_language(body, errors, o, s, &lang_text, &l, &found);
	if (r == 0)
		r = check_numbers(body, errors, o->config, s);
	if (r == 0)
		r = check_lengths(s, errors);
	if (r < 0)
		return r;
	s->has_per_process_time = s->has_per_process_memory = true;
	s->has_redirect_stderr_to_stdout = s->has_enable_network = true;
	s->per_process_time = get_bool(body, "enable_per_process_and_thread_time_limit", false);
	s->per_process_memory = get_bool(body, "enable_per_process_and_thread_memory_limit", false);
	s->redirect_stderr_to_stdout = get_bool(body, "redirect_stderr_to_stdout", false);
	s->enable_network = get_bool(body, "enable_network", false);
	r = check_allowed(s, errors, lang_text, found ? &l : NULL, o);
	if (r < 0 || json_object_size(errors))
		return r;
	s->has_status_id = true;
	s->status_id = SBX_J0_IN_QUEUE;
	return execute_parts(s, o->config);
}
