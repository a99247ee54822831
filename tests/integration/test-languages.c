/* The language matrix through the real sandboxd: ListLanguages lists
 * exactly the runtimes table's installed languages (the same probe the
 * daemon makes, asked in-process here), each with a real version; then
 * for every listed language, by Execute, the five programs of
 * tests/lang/snippets.h:
 *   hello          OK, exit 0, stdout exactly "Hello, World!\n", no stderr;
 *   echo           stdin's line back on stdout;
 *   compile_error  compiled: RUNTIME_ERROR, and the reply's `compile` (the
 *                  compile step's own result) is that failure; interpreted:
 *                  not OK, no compile step;
 *   runtime_error  RUNTIME_ERROR with the program's exit status;
 *   loop           with a 2 s CPU limit: TIME_LIMIT or WALL_TIME_LIMIT;
 * and the compile and runtime errors again through the gateway's Piston
 * route (POST /api/v2/execute), in Piston's vocabulary:
 *   piston_compile_error  compiled: `compile` has a non-zero code, status
 *                  RE, and `run` is its copy; interpreted: run RE, no
 *                  compile stage;
 *   piston_runtime_error  run RE with the program's exit code.
 * Judge0's vocabulary has a matrix of its own (test-judge0-languages.c).
 * A listed language without a snippets row fails the test. Cases run on
 * SBX_LANG_JOBS threads (default 2: the JVM compilers are slow, the host
 * small); SBX_LANG_ONLY=java,go narrows the matrix for debugging. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "httpc.h"
#include "rpcc.h"
#include "stack.h"
#include "runtimes.h"
#include "snippets.h"

#define MAX_LANGS SBX_RT_LANGUAGES_MAX
#define CALL_MS 300000 /* one Execute, a JVM compile on a loaded host included */
#define LOOP_CPU_MS 2000
#define LOOP_WALL_MS 8000

enum lang_case {
	CASE_HELLO,
	CASE_ECHO,
	CASE_COMPILE_ERROR,
	CASE_RUNTIME_ERROR,
	CASE_LOOP,
	CASE_PISTON_COMPILE_ERROR,
	CASE_PISTON_RUNTIME_ERROR,
	N_CASES
};
static const char *const case_names[N_CASES] = {"hello",
						"echo",
						"compile_error",
						"runtime_error",
						"loop",
						"piston_compile_error",
						"piston_runtime_error"};

struct lang {
	char name[32];
	bool compiled;
	const struct sbx_lang_snippets *sn;
	int64_t ms[N_CASES];
};

static struct th_stack st;
static struct lang langs[MAX_LANGS];
static size_t n_langs;
static pthread_mutex_t next_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t next_job;

static const char *program(const struct sbx_lang_snippets *sn, enum lang_case c)
{
	const char *const p[N_CASES] = {sn->hello,	   sn->echo, sn->compile_error,
					sn->runtime_error, sn->loop, sn->compile_error,
					sn->runtime_error};
	return p[c];
}

/* The reply's status; OK may be left out of the JSON (proto3's zero). */
static const char *status_of(const struct th_rep *r)
{
	const char *s = th_rep_str(r, "status");
	return *s ? s : "EXEC_STATUS_OK";
}

static long long exit_of(const struct th_rep *r)
{
	return th_rep_get(r, "exit_code") ? th_rep_int(r, "exit_code") : 0;
}

static struct th_rep execute(const struct lang *l, enum lang_case c)
{
	json_t *j = json_pack("{s:s, s:s}", "language", l->name, "code", program(l->sn, c));
	struct th_rep r;
	char *body;

	if (c == CASE_ECHO)
		json_object_set_new(j, "stdin", json_string(SBX_LANG_ECHO_IN));
	if (c == CASE_LOOP)
		json_object_set_new(j, "limits",
				    json_pack("{s:i, s:i}", "cpu_time_ms", LOOP_CPU_MS,
					      "wall_time_ms", LOOP_WALL_MS));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	r = th_rpc(st.rpc, CALL_MS, "Execute", "%s", body);
	free(body);
	return r;
}

/* Print what came back, for a failed check. */
static void show(const struct lang *l, enum lang_case c, const struct th_rep *r)
{
	printf("%s %s: status %s exit %lld error '%.300s'\n  stdout '%.300s'\n  stderr '%.600s'\n",
	       l->name, case_names[c], status_of(r), exit_of(r), th_rep_str(r, "error"),
	       th_rep_str(r, "stdout"), th_rep_str(r, "stderr"));
}

static bool check_case(const struct lang *l, enum lang_case c, const struct th_rep *r)
{
	const char *st = status_of(r), *err = th_rep_str(r, "error");
	json_t *compile = th_rep_get(r, "compile");
	const char *compile_st = json_string_value(json_object_get(compile, "status"));
	const char *compile_err = json_string_value(json_object_get(compile, "error"));
	bool ok = false;

	compile_st = compile_st ? compile_st : "EXEC_STATUS_OK";
	/* A compiled language's program ran after a compile step that
	 * succeeded; an interpreted one had none. */
	if (c != CASE_COMPILE_ERROR &&
	    (l->compiled ? !compile || strcmp(compile_st, "EXEC_STATUS_OK") != 0 : compile != NULL))
		return false;

	switch (c) {
	case CASE_HELLO:
		ok = strcmp(st, "EXEC_STATUS_OK") == 0 && exit_of(r) == 0 &&
		     strcmp(th_rep_str(r, "stdout"), SBX_LANG_HELLO) == 0 &&
		     strcmp(th_rep_str(r, "stderr"), "") == 0;
		break;
	case CASE_ECHO:
		ok = strcmp(st, "EXEC_STATUS_OK") == 0 && exit_of(r) == 0 &&
		     strcmp(th_rep_str(r, "stdout"), SBX_LANG_ECHO_IN) == 0;
		break;
	case CASE_COMPILE_ERROR:
		ok = l->compiled ? strcmp(st, "EXEC_STATUS_RUNTIME_ERROR") == 0 && compile &&
					   strcmp(compile_st, "EXEC_STATUS_RUNTIME_ERROR") == 0 &&
					   strcmp(compile_err ? compile_err : "", err) == 0
				 : strcmp(st, "EXEC_STATUS_OK") != 0 && !compile;
		break;
	case CASE_RUNTIME_ERROR:
		ok = strcmp(st, "EXEC_STATUS_RUNTIME_ERROR") == 0 && exit_of(r) == l->sn->exit_code;
		break;
	case CASE_LOOP:
		ok = strcmp(st, "EXEC_STATUS_TIME_LIMIT") == 0 ||
		     strcmp(st, "EXEC_STATUS_WALL_TIME_LIMIT") == 0;
		break;
	default:
		break;
	}
	return ok;
}

/* Piston's stage object: its code (-1 when null) and status ("" when
 * null). */
static long long stage_code(json_t *s)
{
	json_t *c = json_object_get(s, "code");
	return json_is_integer(c) ? json_integer_value(c) : -1;
}

static const char *stage_status(json_t *s)
{
	const char *st = json_string_value(json_object_get(s, "status"));
	return st ? st : "";
}

/* The program through POST /api/v2/execute; its reply checked in
 * Piston's words. */
static bool piston_case(const struct lang *l, enum lang_case c)
{
	json_t *req = json_pack("{s:s, s:s, s:[{s:s}]}", "language", l->name, "version", "*",
				"files", "content", program(l->sn, c));
	char *body = json_dumps(req, JSON_COMPACT);
	struct th_resp r = {0};
	json_t *j, *run, *compile;
	bool ok;

	th_http(st.base, "POST", "/api/v2/execute", body, NULL, CALL_MS, &r);
	j = r.status == 200 ? th_json(&r) : NULL;
	run = json_object_get(j, "run");
	compile = json_object_get(j, "compile");
	if (c == CASE_PISTON_COMPILE_ERROR)
		ok = l->compiled ? compile && stage_code(compile) > 0 &&
					   strcmp(stage_status(compile), "RE") == 0 &&
					   stage_code(run) == stage_code(compile) &&
					   strcmp(stage_status(run), "RE") == 0
				 : !compile && stage_code(run) > 0 &&
					   strcmp(stage_status(run), "RE") == 0;
	else
		ok = (!l->compiled || (compile && stage_code(compile) == 0)) &&
		     strcmp(stage_status(run), "RE") == 0 && stage_code(run) == l->sn->exit_code;
	if (!ok)
		printf("%s %s: HTTP %ld %.1500s\n", l->name, case_names[c], r.status, r.body);
	json_decref(j);
	json_decref(req);
	free(body);
	th_resp_fini(&r);
	return ok;
}

static void run_case(struct lang *l, enum lang_case c)
{
	int64_t t0 = sbx_clock_mono_ms();
	struct th_rep r;

	if (c == CASE_PISTON_COMPILE_ERROR || c == CASE_PISTON_RUNTIME_ERROR) {
		bool ok = piston_case(l, c);

		l->ms[c] = sbx_clock_mono_ms() - t0;
		CHECKF(ok, "%s: %s", l->name, case_names[c]);
		return;
	}
	r = execute(l, c);

	l->ms[c] = sbx_clock_mono_ms() - t0;
	TH_CHECK_STATUS(r, SBX_OK);
	if (r.status == SBX_OK) {
		bool ok = check_case(l, c, &r);

		if (!ok)
			show(l, c, &r);
		CHECKF(ok, "%s: %s", l->name, case_names[c]);
	}
	th_rep_fini(&r);
}

/* Jobs are (language, case) in `langs` order: the slow ones first (see
 * list_languages), the short ones fill in around them. */
static void *worker(void *arg)
{
	for (;;) {
		size_t j;

		pthread_mutex_lock(&next_lock);
		j = next_job++;
		pthread_mutex_unlock(&next_lock);
		if (j >= n_langs * N_CASES)
			return NULL;
		run_case(&langs[j / N_CASES], (enum lang_case)(j % N_CASES));
	}
}

static bool wanted(const char *name)
{
	const char *only = getenv("SBX_LANG_ONLY");
	char list[512];

	if (!only || !*only)
		return true;
	snprintf(list, sizeof(list), ",%s,", only);
	for (char *p = strstr(list, name); p; p = strstr(p + 1, name))
		if (p[-1] == ',' && p[strlen(name)] == ',')
			return true;
	return false;
}

/* ListLanguages: the table's installed languages exactly, with versions;
 * each one (wanted) becomes a row of `langs`. */
static void list_languages(void)
{
	int64_t t0 = sbx_clock_mono_ms();
	struct th_rep r = th_rpc(st.rpc, 120000, "ListLanguages", "{}");
	struct sbx_runtimes *rt = NULL;
	json_t *arr = th_rep_get(&r, "languages"), *it;
	size_t i, n_installed = 0;

	TH_CHECK_STATUS(r, SBX_OK);
	/* The first call asks every binary its version. */
	printf("ListLanguages: %lld ms\n", (long long)(sbx_clock_mono_ms() - t0));
	CHECK_INT(sbx_runtimes_new(0, &rt), 0);
	while (rt && sbx_runtimes_at(rt, n_installed))
		n_installed++;
	CHECKF(json_array_size(arr) == n_installed, "ListLanguages lists %zu, %zu installed",
	       json_array_size(arr), n_installed);
	json_array_foreach(arr, i, it)
	{
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *v = json_string_value(json_object_get(it, "version"));
		const struct sbx_runtime *row = rt && name ? sbx_runtimes_find(rt, name) : NULL;

		CHECKF(row && strcmp(row->name, name) == 0, "%s is listed, not installed",
		       name ? name : "?");
		CHECKF(v && *v && strpbrk(v, "0123456789") && !strchr(v, '\n'), "%s: version '%s'",
		       name ? name : "?", v ? v : "(none)");
		printf("%-12s %s\n", name ? name : "?", v ? v : "");
		if (!name || !wanted(name) || n_langs >= MAX_LANGS)
			continue;
		struct lang *l = &langs[n_langs++];
		snprintf(l->name, sizeof(l->name), "%s", name);
		l->compiled = json_is_true(json_object_get(it, "compiled"));
		l->sn = sbx_lang_snippets_find(name);
		CHECKF(l->sn != NULL, "%s has no row in tests/lang/snippets.c", name);
		if (!l->sn)
			n_langs--;
	}
	/* The JVM compilers first: they take longest. */
	static const char *const slow[] = {"kotlin", "scala", "java", "clojure", "haskell"};
	size_t k = 0;
	for (size_t s = 0; s < sizeof(slow) / sizeof(slow[0]); s++)
		for (size_t j = k; j < n_langs; j++)
			if (strcmp(langs[j].name, slow[s]) == 0) {
				struct lang tmp = langs[k];
				langs[k++] = langs[j];
				langs[j] = tmp;
				break;
			}
	/* The floor: 30 languages or more on a machine with them all. */
	if (getenv("CI") && strcmp(getenv("CI"), "true") == 0)
		CHECKF(n_installed >= 33, "CI has %zu languages installed", n_installed);
	sbx_runtimes_free(rt);
	th_rep_fini(&r);
}

int main(void)
{
	const char *jobs_env = getenv("SBX_LANG_JOBS");
	int jobs = jobs_env ? atoi(jobs_env) : 2;
	pthread_t th[16];
	int64_t t0;

	if (jobs < 1 || jobs > 16)
		jobs = 2;
	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT); /* before the worker threads */
	if (th_stack_start(&st, "sbx-languages", NULL) < 0) {
		th_stack_stop(&st);
		TEST_DONE();
	}
	list_languages();
	t0 = sbx_clock_mono_ms();
	for (int i = 0; i < jobs; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < jobs; i++)
		pthread_join(th[i], NULL);
	printf("%zu languages x %d cases on %d threads: %lld ms\n", n_langs, N_CASES, jobs,
	       (long long)(sbx_clock_mono_ms() - t0));
	for (size_t i = 0; i < n_langs; i++) {
		printf("%-12s", langs[i].name);
		for (int c = 0; c < N_CASES; c++)
			printf(" %s %lld", case_names[c], (long long)langs[i].ms[c]);
		printf(" ms\n");
	}
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
