/* The language matrix in Judge0's vocabulary, through the real gateway:
 * every installed language (GET /languages) has its Judge0 id
 * (gw_j0_language_of, the gateway's own table) in GET /judge0/languages,
 * and its programs of tests/lang/snippets.h, submitted with wait=true and
 * Judge0's default limits, get Judge0's statuses:
 *   hello          3 Accepted, with expected_output "Hello, World!";
 *   echo           4 Wrong Answer against an expected_output it does not print;
 *   compile_error  6 Compilation Error when compiled, else a runtime error
 *                  (7 to 12), as Judge0's interpreters give;
 *   runtime_error  11 Runtime Error (NZEC) with its exit code;
 *   loop           5 Time Limit Exceeded with cpu_time_limit 2.
 * Cases run on SBX_LANG_JOBS threads (default 2); SBX_LANG_ONLY=java,go
 * narrows it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gw_judge0.h"
#include "httpc.h"
#include "snippets.h"
#include "stack.h"
#include "testlib.h"

#define MAX_LANGS 64
#define N_CASES 5

static const char *const case_names[N_CASES] = {"hello", "echo", "compile_error", "runtime_error",
						"loop"};

struct lang {
	struct gw_j0_language j0;
	const struct sbx_lang_snippets *sn;
};

static struct th_stack st;
static struct lang langs[MAX_LANGS];
static size_t n_langs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static size_t next_job;

/* The request body of case c of language l (caller frees). */
static char *body_of(const struct lang *l, int c)
{
	const char *const code[N_CASES] = {l->sn->hello, l->sn->echo, l->sn->compile_error,
					   l->sn->runtime_error, l->sn->loop};
	json_t *b = json_pack("{s:s, s:i}", "source_code", code[c], "language_id", l->j0.id);
	char *text;

	if (c == 0)
		json_object_set_new(b, "expected_output", json_string("Hello, World!"));
	if (c == 1) {
		json_object_set_new(b, "stdin", json_string(SBX_LANG_ECHO_IN));
		json_object_set_new(b, "expected_output", json_string("something else"));
	}
	if (c == 4) {
		json_object_set_new(b, "cpu_time_limit", json_real(2));
		json_object_set_new(b, "cpu_extra_time", json_real(0.5));
		json_object_set_new(b, "wall_time_limit", json_real(8));
	}
	text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return text;
}

static bool status_ok(const struct lang *l, int c, int id, const json_t *j)
{
	switch (c) {
	case 0:
		return id == 3;
	case 1:
		return id == 4;
	case 2:
		return l->j0.compiled ? id == 6 : id >= 7 && id <= 12;
	case 3:
		return id == 11 &&
		       json_integer_value(json_object_get(j, "exit_code")) == l->sn->exit_code;
	default:
		return id == 5;
	}
}

static void run_case(const struct lang *l, int c)
{
	char *body = body_of(l, c);
	struct th_resp r = {0};
	json_t *j;
	int id;

	th_http(st.base, "POST",
		"/judge0/submissions?wait=true&fields=status_id,exit_code,message,stderr,"
		"compile_output",
		body, NULL, 300000, &r);
	j = th_json(&r);
	id = (int)json_integer_value(json_object_get(j, "status_id"));
	CHECKF(r.status == 201 && status_ok(l, c, id, j), "%s (%d) %s: %ld %s", l->j0.runtime,
	       l->j0.id, case_names[c], r.status, r.body);
	json_decref(j);
	th_resp_fini(&r);
	free(body);
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		size_t job;

		pthread_mutex_lock(&lock);
		job = next_job++;
		pthread_mutex_unlock(&lock);
		if (job >= n_langs * N_CASES)
			return NULL;
		run_case(&langs[job / N_CASES], (int)(job % N_CASES));
	}
}

static bool wanted(const char *name)
{
	const char *only = getenv("SBX_LANG_ONLY");
	size_t n = strlen(name);

	for (const char *p = only; p && *p; p += strcspn(p, ","), p += *p == ',')
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || !p[n]))
			return true;
	return !only || !*only;
}

/* The installed languages, each with its Judge0 id, which GET
 * /judge0/languages must list. */
static void collect(void)
{
	struct th_resp r = {0}, r0 = {0};
	json_t *list, *j0, *v;
	size_t i;

	th_http(st.base, "GET", "/languages", NULL, NULL, 120000, &r);
	th_http(st.base, "GET", "/judge0/languages", NULL, NULL, 120000, &r0);
	list = th_json(&r);
	j0 = th_json(&r0);
	json_array_foreach(list, i, v)
	{
		Sbx__Language l = SBX__LANGUAGE__INIT;
		struct lang *x = &langs[n_langs];
		bool listed = false;
		size_t k;
		json_t *w;

		l.name = (char *)json_string_value(json_object_get(v, "name"));
		l.version = (char *)json_string_value(json_object_get(v, "version"));
		l.source_file = (char *)json_string_value(json_object_get(v, "source_file"));
		l.compiled = json_is_true(json_object_get(v, "compiled"));
		CHECKF(l.name && gw_j0_language_of(&l, &x->j0), "%s has no Judge0 id", l.name);
		json_array_foreach(j0, k, w) listed |=
			json_integer_value(json_object_get(w, "id")) == x->j0.id &&
			strcmp(json_string_value(json_object_get(w, "name")), x->j0.name) == 0;
		CHECKF(listed, "%s: %d %s is not in GET /judge0/languages", l.name, x->j0.id,
		       x->j0.name);
		x->sn = l.name ? sbx_lang_snippets_find(l.name) : NULL;
		CHECKF(x->sn, "%s has no snippets", l.name ? l.name : "?");
		if (x->sn && n_langs < MAX_LANGS - 1 && wanted(l.name))
			n_langs++;
	}
	CHECKF(n_langs > 0, "no language: %s", r.body);
	json_decref(list);
	json_decref(j0);
	th_resp_fini(&r);
	th_resp_fini(&r0);
}

int main(void)
{
	const char *jobs_env = getenv("SBX_LANG_JOBS");
	int jobs = jobs_env ? atoi(jobs_env) : 2;
	pthread_t t[8];
	int64_t t0;

	th_require_sandboxes();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	jobs = jobs < 1 ? 1 : jobs > 8 ? 8 : jobs;
	if (th_stack_start(&st, "sbx-judge0-languages", NULL) == 0) {
		collect();
		t0 = sbx_clock_mono_ms();
		for (int i = 0; i < jobs; i++)
			pthread_create(&t[i], NULL, worker, NULL);
		for (int i = 0; i < jobs; i++)
			pthread_join(t[i], NULL);
		printf("  %zu languages x %d cases in %lld ms on %d threads\n", n_langs, N_CASES,
		       (long long)(sbx_clock_mono_ms() - t0), jobs);
	}
	th_stack_stop(&st);
	curl_global_cleanup();
	TEST_DONE();
}
