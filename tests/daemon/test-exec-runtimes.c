/* daemon/exec/runtimes.c, against runtimes.h, on this host: a language is
 * found by name or alias in any case exactly when its probe binary is
 * installed (typescript: bun, else tsx); unknown, empty and partial names
 * are not; each row's source file, compile step and run argv (NULL-ended,
 * absolute or the compiled ./main, naming the source); sbx_runtimes_at
 * lists distinct names that sbx_runtimes_names joins; no alias of one
 * language is another's name; versions are read once and cached. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtimes.h"
#include "testlib.h"

/* What the contract and the seeds promise, row by row. */
struct want {
	const char *name;
	const char *spellings[6]; /* aliases, in several cases */
	const char *source;
	const char *probe; /* NULL: see typescript */
	bool compiled;
};

static const struct want wants[] = {
	{"python",
	 {"python3", "py", "PYTHON", "Python3", "pY"},
	 "main.py",
	 "/usr/bin/python3",
	 false},
	{"node",
	 {"javascript", "js", "nodejs", "JavaScript", "NODE"},
	 "main.js",
	 "/usr/bin/node",
	 false},
	{"bun", {"BUN", "Bun"}, "index.ts", "/usr/bin/bun", false},
	{"typescript", {"ts", "TS", "TypeScript"}, "main.ts", NULL, false},
	{"shell", {"bash", "sh", "SH", "Bash"}, "main.sh", "/bin/bash", false},
	{"rust", {"rs", "RUST", "Rs"}, "main.rs", "/usr/bin/rustc", true},
};

static bool installed(const struct want *w)
{
	if (w->probe)
		return access(w->probe, X_OK) == 0;
	return access("/usr/bin/bun", X_OK) == 0 || access("/usr/bin/tsx", X_OK) == 0;
}

static size_t argv_len(const char *const *argv)
{
	size_t n = 0;

	while (n < SBX_RT_ARGV_MAX && argv[n])
		n++;
	return n;
}

static bool argv_has(const char *const *argv, const char *s)
{
	for (size_t i = 0; i < SBX_RT_ARGV_MAX && argv[i]; i++)
		if (strcmp(argv[i], s) == 0)
			return true;
	return false;
}

static void test_rows(struct sbx_runtimes *rt)
{
	size_t n_installed = 0;

	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		const struct sbx_runtime *r = sbx_runtimes_find(rt, w->name);

		if (!installed(w)) {
			CHECKF(r == NULL, "%s found without its binary", w->name);
			for (size_t j = 0; j < 6 && w->spellings[j]; j++)
				CHECKF(sbx_runtimes_find(rt, w->spellings[j]) == NULL,
				       "'%s' found without its binary", w->spellings[j]);
			continue;
		}
		n_installed++;
		CHECKF(r != NULL, "%s is installed but not found", w->name);
		if (!r)
			continue;
		CHECK_STR(r->name, w->name);
		for (size_t j = 0; j < 6 && w->spellings[j]; j++)
			CHECKF(sbx_runtimes_find(rt, w->spellings[j]) == r, "'%s' is not %s",
			       w->spellings[j], w->name);
		CHECK_STR(r->source, w->source);
		if (w->probe)
			CHECK_STR(r->probe, w->probe);
		CHECKF(access(r->probe, X_OK) == 0, "%s: probe %s", w->name, r->probe);

		/* argv arrays end in NULL within SBX_RT_ARGV_MAX, so that
		 * a caller can pass them as they are. */
		CHECKF(argv_len(r->run) > 0 && argv_len(r->run) < SBX_RT_ARGV_MAX, "%s run",
		       w->name);
		CHECKF(argv_len(r->compile) < SBX_RT_ARGV_MAX, "%s compile", w->name);
		CHECKF(argv_len(r->version) > 0 && argv_len(r->version) < SBX_RT_ARGV_MAX,
		       "%s version", w->name);
		CHECK_STR(r->version[0], r->probe);

		if (w->compiled) {
			/* Compile the source into ./main, then run that. */
			CHECK(argv_len(r->compile) >= 2);
			CHECK_STR(r->compile[0], r->probe);
			CHECK(argv_has(r->compile, w->source));
			CHECK(argv_has(r->compile, "main"));
			CHECK_STR(r->run[0], "./main");
			CHECK_INT(argv_len(r->run), 1);
		} else {
			/* Interpreted: no compile step; the interpreter, an
			 * absolute path on the host, runs the source file. */
			CHECKF(r->compile[0] == NULL, "%s has a compile step", w->name);
			CHECKF(r->run[0][0] == '/' && access(r->run[0], X_OK) == 0, "%s runs %s",
			       w->name, r->run[0]);
			CHECKF(argv_has(r->run, w->source), "%s does not run %s", w->name,
			       w->source);
		}
	}

	/* typescript is bun's when bun is there, else tsx's. */
	const struct sbx_runtime *ts = sbx_runtimes_find(rt, "typescript");
	if (access("/usr/bin/bun", X_OK) == 0)
		CHECK(ts && strcmp(ts->run[0], "/usr/bin/bun") == 0);
	else if (access("/usr/bin/tsx", X_OK) == 0)
		CHECK(ts && strcmp(ts->run[0], "/usr/bin/tsx") == 0);

	/* Listing: distinct installed names, each found as itself. */
	size_t n = 0;
	char names[256] = "";
	while (sbx_runtimes_at(rt, n)) {
		const struct sbx_runtime *r = sbx_runtimes_at(rt, n);

		CHECKF(sbx_runtimes_find(rt, r->name) == r, "%s listed but found as another row",
		       r->name);
		for (size_t j = 0; j < n; j++)
			CHECKF(strcmp(sbx_runtimes_at(rt, j)->name, r->name) != 0,
			       "%s listed twice", r->name);
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 n ? ", " : "", r->name);
		n++;
	}
	CHECK_INT(n, n_installed);
	CHECK(sbx_runtimes_at(rt, n) == NULL);
	CHECK(sbx_runtimes_at(rt, (size_t)-1) == NULL);
	const char *got = sbx_runtimes_names(rt);
	const char *want_names = names;

	CHECK_STR(got, want_names);

	/* No name or alias belongs to two languages (one would hide the
	 * other). */
	for (size_t i = 0; i < n; i++) {
		const struct sbx_runtime *r = sbx_runtimes_at(rt, i);

		for (size_t j = 0; j < 4 && r->aliases[j]; j++)
			CHECKF(sbx_runtimes_find(rt, r->aliases[j]) == r, "alias %s of %s is %s",
			       r->aliases[j], r->name, sbx_runtimes_find(rt, r->aliases[j])->name);
	}
}

/* A compile step's limits are its row's (never literals of the executor):
 * every installed row with one carries CPU, wall and memory limits; an
 * interpreted row carries none. */
static void test_compile_limits(struct sbx_runtimes *rt)
{
	const struct sbx_runtime *r;

	for (size_t i = 0; (r = sbx_runtimes_at(rt, i)); i++) {
		const struct sbx_runtime_limits *l = &r->compile_limits;

		if (r->compile[0])
			CHECKF(l->cpu_time_ms && l->wall_time_ms && l->memory_kb,
			       "%s compiles without CPU, wall or memory limits", r->name);
		else
			CHECKF(!l->cpu_time_ms && !l->wall_time_ms && !l->memory_kb && !l->pids &&
				       !l->fsize_kb && !l->nofile,
			       "%s has compile limits but no compile step", r->name);
	}
	r = sbx_runtimes_find(rt, "rust");
	if (r) {
		CHECK_INT(r->compile_limits.cpu_time_ms, 60000);
		CHECK_INT(r->compile_limits.wall_time_ms, 60000);
		CHECK_INT(r->compile_limits.memory_kb, 2u << 20);
	}
}

static void test_unknown(struct sbx_runtimes *rt)
{
	static const char *const unknown[] = {
		"",	"cobol", "pytho", "pythonn", "python ", " python",	    "py3",
		"java", "c",	 "go",	  "node.js", "main.py", "/usr/bin/python3", "python\n"};

	CHECK(sbx_runtimes_find(rt, NULL) == NULL);
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECKF(sbx_runtimes_find(rt, unknown[i]) == NULL, "'%s' found", unknown[i]);
}

struct vthread {
	struct sbx_runtimes *rt;
	const struct sbx_runtime *r;
	const char *v;
};

static void *version_thread(void *arg)
{
	struct vthread *t = arg;

	t->v = sbx_runtimes_version(t->rt, t->r);
	return NULL;
}

static void test_versions(struct sbx_runtimes *rt)
{
	const struct sbx_runtime *py = sbx_runtimes_find(rt, "python");
	const struct sbx_runtime *sh = sbx_runtimes_find(rt, "shell");
	struct sbx_runtime stranger = {
		"python", {0}, "main.py", "/usr/bin/python3", {"/usr/bin/python3", "--version"},
		{0},	  {0}, {0}};

	/* Four threads ask at once: one answer, computed once. */
	if (py) {
		struct vthread t[4];
		pthread_t th[4];

		for (int i = 0; i < 4; i++) {
			t[i] = (struct vthread){rt, py, NULL};
			pthread_create(&th[i], NULL, version_thread, &t[i]);
		}
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		CHECKF(t[0].v && strncmp(t[0].v, "Python 3.", 9) == 0, "python: '%s'",
		       t[0].v ? t[0].v : "(null)");
		CHECK(!strchr(t[0].v, '\n'));
		for (int i = 1; i < 4; i++)
			CHECK(t[i].v == t[0].v);
		CHECK(sbx_runtimes_version(rt, py) == t[0].v);
	}
	if (sh) {
		const char *v = sbx_runtimes_version(rt, sh);

		/* bash --version prints several lines: only the first. */
		CHECKF(strncmp(v, "GNU bash, version ", 18) == 0 && !strchr(v, '\n'), "bash: '%s'",
		       v);
	}
	/* A row that is not one of the table's installed rows has none. */
	CHECK_STR(sbx_runtimes_version(rt, &stranger), "");
}

/* The configuration's ENABLE_<LANGUAGE> rows: every language and alias has
 * an index naming its language; a disabled language is found by none of
 * its spellings, named by sbx_runtimes_disabled, listed nowhere. */
static void test_disabled(void)
{
	struct sbx_runtimes *rt = NULL;
	unsigned n = 0;

	while (sbx_runtime_language_name(n))
		n++;
	CHECK(n >= 6 && n <= 32);
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		int li = sbx_runtime_language_index(wants[i].name);

		CHECKF(li >= 0 &&
			       strcmp(sbx_runtime_language_name((unsigned)li), wants[i].name) == 0,
		       "%s", wants[i].name);
		for (size_t j = 0; j < 6 && wants[i].spellings[j]; j++)
			CHECK_INT(sbx_runtime_language_index(wants[i].spellings[j]), li);
	}
	int py = sbx_runtime_language_index("python");
	CHECK_INT(sbx_runtimes_new(1u << py, &rt), 0);
	if (!rt)
		return;
	CHECK(sbx_runtimes_find(rt, "python") == NULL && sbx_runtimes_find(rt, "PY") == NULL);
	CHECK_STR(sbx_runtimes_disabled(rt, "Python3"), "python");
	CHECK(sbx_runtimes_disabled(rt, "bash") == NULL);
	CHECK_STR(sbx_runtimes_disabled_argv0(rt, "python3"), "python");
	CHECK(sbx_runtimes_disabled_argv0(rt, "/usr/bin/env") == NULL);
	for (size_t i = 0; sbx_runtimes_at(rt, i); i++)
		CHECK(strcmp(sbx_runtimes_at(rt, i)->name, "python") != 0);
	CHECK(strstr(sbx_runtimes_names(rt), "python") == NULL);
	sbx_runtimes_free(rt);
}

int main(void)
{
	struct sbx_runtimes *rt = NULL;

	test_disabled();
	CHECK_INT(sbx_runtimes_new(0, &rt), 0);
	if (!rt)
		TEST_DONE();
	test_rows(rt);
	test_compile_limits(rt);
	test_unknown(rt);
	test_versions(rt);
	sbx_runtimes_free(rt);
	sbx_runtimes_free(NULL);
	TEST_DONE();
}
