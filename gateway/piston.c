/* POST /api/v2/execute: Piston's get_job() checks, in its order and with
 * its sentences, then ListLanguages to find the runtime, then Execute,
 * then Piston's reply {language, version, run, compile?}. */
#include "piston.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.pb-c.h"
#include "cleanup.h"
#include "dialects.h"
#include "envelope.h"
#include "json_pb.h"
#include "respond.h"
#include "rpc_handler.h"
#include "semver.h"
#include "status.h"

/* One request between its RPCs: the body and the runtime chosen. */
struct piston_job {
	json_t *body;
	Sbx__ListLanguagesReply *languages; /* owns `rt` */
	const Sbx__Language *rt;
};

static void job_free(void *p)
{
	struct piston_job *j = p;

	if (!j)
		return;
	json_decref(j->body);
	if (j->languages)
		protobuf_c_message_free_unpacked(&j->languages->base, NULL);
	free(j);
}

/* Did the RPC the request was suspended for answer OK with a message? */
static bool call_ok(struct gw_request *req)
{
	int err;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	return err == 0 && req->reply.status == SBX_OK && req->reply.msg;
}

static int bad_request(struct gw_request *req, const char *msg)
{
	return gw_respond_error(req, 400, NULL, "%s", msg);
}

static bool is_utf8_file(json_t *file)
{
	json_t *e = json_object_get(file, "encoding");
	const char *enc = json_string_value(e);

	/* Piston: `!file.encoding || file.encoding === 'utf8'`. */
	return !e || json_is_null(e) || json_is_false(e) ||
	       (enc && (!*enc || !strcmp(enc, "utf8")));
}

/* v2.js get_job(), up to the runtime lookup, then what Piston leaves to
 * chance (a non-string stdin or name throws there: a 500). */
static const char *check_body(json_t *b, char *buf, size_t size)
{
	json_t *files = json_object_get(b, "files"), *f, *args = json_object_get(b, "args"), *a;
	json_t *stdin_v = json_object_get(b, "stdin");
	size_t i;

	if (!json_is_string(json_object_get(b, "language")) ||
	    !json_string_length(json_object_get(b, "language")))
		return "language is required as a string";
	if (!json_is_string(json_object_get(b, "version")) ||
	    !json_string_length(json_object_get(b, "version")))
		return "version is required as a string";
	/* C strings from here on: a NUL would cut a name short. */
	if (strlen(json_string_value(json_object_get(b, "language"))) !=
		    json_string_length(json_object_get(b, "language")) ||
	    strlen(json_string_value(json_object_get(b, "version"))) !=
		    json_string_length(json_object_get(b, "version")))
		return "language and version must not contain NUL characters";
	if (!json_is_array(files))
		return "files is required as an array";
	json_array_foreach(files, i, f)
	{
		if (!json_is_string(json_object_get(f, "content"))) {
			snprintf(buf, size, "files[%zu].content is required as a string", i);
			return buf;
		}
		if (json_object_get(f, "name") && !json_is_null(json_object_get(f, "name")) &&
		    !json_is_string(json_object_get(f, "name"))) {
			snprintf(buf, size, "files[%zu].name must be a string", i);
			return buf;
		}
		if (json_is_string(json_object_get(f, "name")) &&
		    strlen(json_string_value(json_object_get(f, "name"))) !=
			    json_string_length(json_object_get(f, "name"))) {
			snprintf(buf, size, "files[%zu].name must not contain NUL characters", i);
			return buf;
		}
	}
	if (json_array_size(files) > GW_PISTON_MAX_FILES) {
		snprintf(buf, size, "files may hold at most %d files", GW_PISTON_MAX_FILES);
		return buf;
	}
	if (stdin_v && !json_is_null(stdin_v) && !json_is_string(stdin_v))
		return "stdin must be a string";
	if (args && !json_is_null(args) && !json_is_array(args))
		return "args must be an array of strings";
	json_array_foreach(args, i, a)
	{
		if (!json_is_string(a))
			return "args must be an array of strings";
	}
	if (json_array_size(args) > GW_PISTON_MAX_ARGS) {
		snprintf(buf, size, "args may hold at most %d arguments", GW_PISTON_MAX_ARGS);
		return buf;
	}
	return NULL;
}

/* runtime.js get_latest_runtime_matching_language_version(): the name or
 * an alias (exact, as Piston compares), the highest version satisfying
 * the selector. */
static const Sbx__Language *find_runtime(const Sbx__ListLanguagesReply *r, const char *lang,
					 const char *version)
{
	const Sbx__Language *best = NULL;

	for (size_t i = 0; i < r->n_languages; i++) {
		const Sbx__Language *l = r->languages[i];
		bool named = strcmp(l->name, lang) == 0;

		for (size_t k = 0; !named && k < l->n_aliases; k++)
			named = strcmp(l->aliases[k], lang) == 0;
		if (named && sbx_semver_satisfies(l->semver, version) &&
		    (!best || sbx_semver_cmp(l->semver, best->semver) > 0))
			best = l;
	}
	return best;
}

/* One of Piston's six limits: `<stage>_<what>` of the body in native
 * units (ms, KiB) into *ret, 0 when not given. Piston's checks in its
 * order; -1 for a memory limit is "no limit", here the largest the server
 * allows. max_native 0: the daemon did not say (an older node), so the
 * daemon checks. NULL when fine, else the sentence. */
static const char *one_limit(json_t *b, const char *stage, const char *what, uint64_t max_native,
			     double per_native, uint64_t *ret, char *buf, size_t size)
{
	double d, max = (double)max_native * per_native;
	char name[48];
	json_t *v;

	snprintf(name, sizeof(name), "%s_%s", stage, what);
	v = json_object_get(b, name);
	*ret = 0;
	/* `if (!constraint_value) continue;`: absent, null, 0, false, "". */
	if (!v || json_is_null(v) || json_is_false(v) ||
	    (json_is_string(v) && !json_string_length(v)) ||
	    (json_is_number(v) && json_number_value(v) == 0))
		return NULL;
	if (!json_is_number(v)) {
		snprintf(buf, size, "If specified, %s must be a number", name);
		return buf;
	}
	d = json_number_value(v);
	if (d == -1 && strcmp(what, "memory_limit") == 0) {
		*ret = max_native;
		return NULL;
	}
	if (max_native && d > max) {
		snprintf(buf, size, "%s cannot exceed the configured limit of %.0f", name, max);
		return buf;
	}
	if (d < 0) {
		snprintf(buf, size, "%s must be non-negative", name);
		return buf;
	}
	/* Whole native units, rounded up: 1.5 ms is 2, 1000 bytes 1 KiB. */
	d /= per_native;
	if (d >= 0x1p63) {
		snprintf(buf, size, "%s is too large", name);
		return buf;
	}
	*ret = (uint64_t)d + ((double)(uint64_t)d < d);
	return NULL;
}

static Sbx__Limits *limits_new(const uint64_t v[3])
{
	Sbx__Limits *l;

	if (!v[0] && !v[1] && !v[2])
		return NULL;
	l = (Sbx__Limits *)sbx_message_new(&sbx__limits__descriptor);
	if (!l)
		return NULL;
	l->has_memory_kb = v[0] != 0;
	l->memory_kb = v[0];
	l->has_wall_time_ms = v[1] != 0;
	l->wall_time_ms = v[1];
	l->has_cpu_time_ms = v[2] != 0;
	l->cpu_time_ms = v[2];
	return l;
}

/* The largest value of limit k (the order of `kinds` below), 0 unknown. */
static uint64_t limit_max(const Sbx__Limits *m, int k)
{
	if (!m)
		return 0;
	return k == 0 ? m->memory_kb : k == 1 ? m->wall_time_ms : m->cpu_time_ms;
}

/* The three limits of both stages, in Piston's order (memory, timeout,
 * cpu time; compile before run), into x. NULL, or the sentence. */
static const char *set_limits(json_t *b, const Sbx__Language *rt, Sbx__ExecuteRequest *x, bool *oom,
			      char *buf, size_t size)
{
	static const char *const stages[] = {"compile", "run"};
	static const struct {
		const char *what;
		double per_native; /* Piston's units in one of ours */
	} kinds[] = {{"memory_limit", 1024}, {"timeout", 1}, {"cpu_time", 1}};
	uint64_t v[2][3] = {{0}};
	const char *e;

	for (int k = 0; k < 3; k++)
		for (int s = 0; s < 2; s++) {
			const Sbx__Limits *max = s == 0 ? rt->max_compile_limits : rt->max_limits;

			e = one_limit(b, stages[s], kinds[k].what, limit_max(max, k),
				      kinds[k].per_native, &v[s][k], buf, size);
			if (e)
				return e;
		}
	x->limits = limits_new(v[1]);
	/* An interpreted language has no compile step to limit. */
	if (rt->compiled)
		x->compile_limits = limits_new(v[0]);
	*oom = (!x->limits && (v[1][0] || v[1][1] || v[1][2])) ||
	       (rt->compiled && !x->compile_limits && (v[0][0] || v[0][1] || v[0][2]));
	return NULL;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *s, size_t n, ProtobufCBinaryData *out)
{
	uint8_t *p;

	if (n % 2)
		return -EINVAL;
	p = malloc(n / 2 + 1);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit((unsigned char)s[i]), lo = hex_digit((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0) {
			free(p);
			return -EINVAL;
		}
		p[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*out = (ProtobufCBinaryData){.len = n / 2, .data = p};
	return 0;
}

/* File i of the body into f: job.js names a nameless file "file<i>.code";
 * content decoded from its encoding. 0, -EINVAL (sentence in buf), -ENOMEM. */
static int file_of(json_t *jf, size_t i, Sbx__File *f, char *buf, size_t size)
{
	const char *name = json_string_value(json_object_get(jf, "name"));
	const char *enc = json_string_value(json_object_get(jf, "encoding"));
	const char *s = json_string_value(json_object_get(jf, "content"));
	size_t n = json_string_length(json_object_get(jf, "content"));
	int r = 0;

	if (name && *name)
		f->path = strdup(name);
	else if (asprintf(&f->path, "file%zu.code", i) < 0)
		f->path = NULL;
	if (!f->path)
		return -ENOMEM;
	if (is_utf8_file(jf)) {
		f->content.data = n ? malloc(n) : NULL;
		if (n && !f->content.data)
			return -ENOMEM;
		if (n)
			memcpy(f->content.data, s, n);
		f->content.len = n;
	} else if (enc && strcmp(enc, "base64") == 0) {
		r = jpb_b64_decode(s, n, &f->content);
	} else if (enc && strcmp(enc, "hex") == 0) {
		r = hex_decode(s, n, &f->content);
	} else {
		snprintf(buf, size, "files[%zu].encoding must be one of utf8, base64, hex", i);
		return -EINVAL;
	}
	if (r == -EINVAL)
		snprintf(buf, size, "files[%zu].content is not valid %s", i, enc);
	return r;
}

/* The files into x: the first utf8 one is the program (job.js runs
 * code_files[0]), the others files beside it. */
static int set_files(json_t *files, Sbx__ExecuteRequest *x, char *buf, size_t size)
{
	size_t n = json_array_size(files), i, main_i = n;
	json_t *jf, *code;
	int r;

	json_array_foreach(files, i, jf)
	{
		if (main_i == n && is_utf8_file(jf))
			main_i = i;
	}
	code = json_object_get(json_array_get(files, main_i), "content");
	x->code = strdup(json_string_value(code));
	x->files = calloc(n ? n : 1, sizeof(*x->files));
	if (!x->code || !x->files)
		return -ENOMEM;
	/* The program is a C string in the request: a NUL would cut it. */
	if (strlen(x->code) != json_string_length(code)) {
		snprintf(buf, size, "files[%zu].content must not contain NUL characters", main_i);
		return -EINVAL;
	}
	json_array_foreach(files, i, jf)
	{
		Sbx__File *f;

		if (i == main_i)
			continue;
		f = (Sbx__File *)sbx_message_new(&sbx__file__descriptor);
		if (!f)
			return -ENOMEM;
		x->files[x->n_files++] = f;
		r = file_of(jf, i, f, buf, size);
		if (r < 0)
			return r;
	}
	return 0;
}

/* stdin with job.js's trailing newline, args, and want_output. */
static int set_io(json_t *b, Sbx__ExecuteRequest *x)
{
	const char *in = json_string_value(json_object_get(b, "stdin"));
	size_t n = in ? json_string_length(json_object_get(b, "stdin")) : 0, i;
	json_t *args = json_object_get(b, "args"), *a;

	x->stdin.data = malloc(n + 1);
	if (!x->stdin.data)
		return -ENOMEM;
	if (n)
		memcpy(x->stdin.data, in, n);
	x->stdin.len = n;
	if (!n || in[n - 1] != '\n')
		x->stdin.data[x->stdin.len++] = '\n';
	x->want_output = true;
	x->args = calloc(json_array_size(args) + 1, sizeof(char *));
	if (!x->args)
		return -ENOMEM;
	json_array_foreach(args, i, a)
	{
		if (strlen(json_string_value(a)) != json_string_length(a))
			return -EINVAL;
		if (!(x->args[x->n_args++] = strdup(json_string_value(a))))
			return -ENOMEM;
	}
	return 0;
}

/* The Execute request for the job, or an answered 400 (returns 1). */
static int build_execute(struct gw_request *req, struct piston_job *j, Sbx__ExecuteRequest **ret)
{
	Sbx__ExecuteRequest *x =
		(Sbx__ExecuteRequest *)sbx_message_new(&sbx__execute_request__descriptor);
	char buf[192];
	const char *e;
	bool oom = false;
	int r;

	if (!x)
		return -ENOMEM;
	x->language = strdup(j->rt->name);
	e = set_limits(j->body, j->rt, x, &oom, buf, sizeof(buf));
	r = !x->language || oom ? -ENOMEM : 0;
	if (!e && r == 0) {
		r = set_files(json_object_get(j->body, "files"), x, buf, sizeof(buf));
		e = r == -EINVAL ? buf : NULL;
	}
	if (!e && r == 0) {
		r = set_io(j->body, x);
		e = r == -EINVAL ? "args must not contain NUL characters" : NULL;
	}
	if (e || r < 0) {
		protobuf_c_message_free_unpacked(&x->base, NULL);
		if (!e)
			return r;
		r = bad_request(req, e);
		return r < 0 ? r : 1;
	}
	*ret = x;
	return 0;
}

/* globals.js SIGNALS: Linux's names, real-time ones counted from the ends. */
static void signal_name(int sig, char *buf, size_t size)
{
	static const char *const names[] = {
		NULL,	    "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP",   "SIGABRT",
		"SIGBUS",   "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV", "SIGUSR2",   "SIGPIPE",
		"SIGALRM",  "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",   "SIGTSTP",
		"SIGTTIN",  "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
		"SIGWINCH", "SIGIO",   "SIGPWR",    "SIGSYS",
	};

	if (sig > 0 && (size_t)sig < SBX_ARRAY_SIZE(names))
		snprintf(buf, size, "%s", names[sig]);
	else if (sig == 34)
		snprintf(buf, size, "SIGRTMIN");
	else if (sig > 34 && sig < 50)
		snprintf(buf, size, "SIGRTMIN+%d", sig - 34);
	else if (sig >= 50 && sig < 64)
		snprintf(buf, size, "SIGRTMAX-%d", 64 - sig);
	else if (sig == 64)
		snprintf(buf, size, "SIGRTMAX");
	else
		buf[0] = 0;
}

/* isolate's two-letter status and message as job.js reports them: TO,
 * OL and EL were SIGKILLed, so they carry that signal and no code; an
 * out-of-memory kill is isolate's "SG" for the SIGKILL it is. */
static int stage_status(json_t *s, const Sbx__ExecResult *r)
{
	const char *status = NULL;
	char msg[96] = "", sig[24] = "";
	int signo = r->signal;

	switch (r->status) {
	case SBX__EXEC_STATUS__EXEC_STATUS_OK:
		break;
	case SBX__EXEC_STATUS__EXEC_STATUS_RUNTIME_ERROR:
		status = "RE";
		snprintf(msg, sizeof(msg), "Exited with error status %d", r->exit_code);
		break;
	case SBX__EXEC_STATUS__EXEC_STATUS_TIME_LIMIT:
	case SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT:
		status = "TO";
		signo = 9;
		snprintf(msg, sizeof(msg), "Time limit exceeded%s",
			 r->status == SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT
				 ? " (wall clock)"
				 : "");
		break;
	case SBX__EXEC_STATUS__EXEC_STATUS_OUTPUT_LIMIT:
		/* Which stream went past the limit; stdout when both did. */
		status = r->stderr_truncated && !r->stdout_truncated ? "EL" : "OL";
		signo = 9;
		snprintf(msg, sizeof(msg), "%s length exceeded",
			 *status == 'E' ? "stderr" : "stdout");
		break;
	case SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR:
		status = "XX";
		snprintf(msg, sizeof(msg), "%s",
			 r->error && *r->error ? r->error : "internal error");
		break;
	default: /* signaled, out of memory, stopped */
		status = "SG";
		signo = signo ? signo : 9;
		snprintf(msg, sizeof(msg), "Caught fatal signal %d", signo);
	}
	if (r->status != SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR)
		signal_name(signo, sig, sizeof(sig));
	/* isolate writes an exit code only for a process that exited. */
	if ((*sig || r->status == SBX__EXEC_STATUS__EXEC_STATUS_INTERNAL_ERROR) &&
	    json_object_set_new(s, "code", json_null()) < 0)
		return -ENOMEM;
	if (json_object_set_new(s, "signal", *sig ? json_string(sig) : json_null()) < 0 ||
	    json_object_set_new(s, "message", *msg ? json_string(msg) : json_null()) < 0 ||
	    json_object_set_new(s, "status", status ? json_string(status) : json_null()) < 0)
		return -ENOMEM;
	return 0;
}

static json_t *stage_json(const Sbx__ExecResult *r)
{
	json_t *s = jpb_to_json(&r->base, &gw_dialect_piston_stage);

	if (s && stage_status(s, r) < 0) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* v2.js: {language, version, run, compile?}; a failed compile is its own
 * run ("Backward compatibility when the run stage is not started"), which
 * the daemon's result already is (ExecResult.compile's contract). */
static int on_executed(struct gw_server *srv, struct gw_request *req)
{
	struct piston_job *j = req->ctx;
	const Sbx__ExecResult *r = (const Sbx__ExecResult *)req->reply.msg;
	json_t *out;

	(void)srv;
	if (!call_ok(req))
		return gw_rpc_respond_call_failure(req);
	out = json_pack("{s:s, s:s, s:o*}", "language", j->rt->name, "version", j->rt->semver,
			"run", stage_json(r));
	if (out && json_object_size(out) == 3 && r->compile &&
	    json_object_set_new(out, "compile", stage_json(r->compile)) < 0) {
		json_decref(out);
		out = NULL;
	}
	if (!out || json_object_size(out) < 3)
		return -ENOMEM;
	return gw_respond(req, 200, out, NULL);
}

/* The installed languages are known: the runtime, the checks that need
 * it, and the Execute call. */
static int on_languages(struct gw_server *srv, struct gw_request *req)
{
	struct piston_job *j = req->ctx;
	const char *lang = json_string_value(json_object_get(j->body, "language"));
	const char *ver = json_string_value(json_object_get(j->body, "version"));
	Sbx__ExecuteRequest *x = NULL;
	json_t *f;
	size_t i;
	bool utf8 = false;
	int r;

	if (!call_ok(req))
		return gw_rpc_respond_call_failure(req);
	/* The reply moves to the job: the request's slot takes the next one. */
	j->languages = (Sbx__ListLanguagesReply *)TAKE_PTR(req->reply.msg);
	sbx_reply_fini(&req->reply);
	memset(&req->reply, 0, sizeof(req->reply));
	j->rt = find_runtime(j->languages, lang, ver);
	if (!j->rt)
		return gw_respond_error(req, 400, NULL, "%s-%s runtime is unknown", lang, ver);
	json_array_foreach(json_object_get(j->body, "files"), i, f)
	{
		utf8 = utf8 || is_utf8_file(f);
	}
	if (!utf8)
		return bad_request(req, "files must include at least one utf8 encoded file");
	r = build_execute(req, j, &x);
	if (r != 0)
		return r < 0 ? r : 0;
	r = gw_rpc_start(srv, req, "Execute", &x->base, on_executed);
	protobuf_c_message_free_unpacked(&x->base, NULL);
	return r;
}

int gw_piston_execute_handler(struct gw_server *srv, struct gw_request *req)
{
	Sbx__ListLanguagesRequest q = SBX__LIST_LANGUAGES_REQUEST__INIT;
	struct piston_job *j;
	json_error_t je;
	json_t *body;
	char buf[128];
	const char *e;

	/* NUL is fine in stdin and in files beside the program; names and
	 * the program, C strings, are checked for it. */
	body = json_loadb(req->body.data ? req->body.data : "", req->body.len,
			  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!body)
		return gw_respond_error(
			req, 400, NULL,
			"the request body is not valid JSON: %s (line %d, column %d)", je.text,
			je.line, je.column);
	e = check_body(body, buf, sizeof(buf));
	if (e) {
		json_decref(body);
		return bad_request(req, e);
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		json_decref(body);
		return -ENOMEM;
	}
	j->body = body;
	req->ctx = j;
	req->ctx_free = job_free;
	sbx_buf_fini(&req->body);
	return gw_rpc_start(srv, req, "ListLanguages", &q.base, on_languages);
}
