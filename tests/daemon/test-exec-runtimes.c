/* daemon/exec/runtimes.c and runtime_table.c, against runtimes.h, on this
 * host: a language is found by name or alias in any case exactly when its
 * probe binary is installed (typescript: bun, else tsx); unknown, empty
 * and partial names are not; each row's source file, compile step and run
 * argv (NULL-ended, absolute or the compiled ./main, naming the source);
 * every language of the issue #15 contract has a row whose Debian package
 * is the one scripts/deps.sh installs for it; sbx_runtimes_at lists
 * distinct names that sbx_runtimes_names joins; no alias of one language is
 * another's name; a language past the 32nd can be disabled; versions are
 * read once, cached, and every installed language has one. */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
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

/* Languages with a row whose probe and binds are on this host. */
static size_t languages_installed(void)
{
	size_t n = 0;
	const char *l;

	for (unsigned i = 0; (l = sbx_runtime_language_name(i)); i++) {
		bool any = false;

		for (size_t k = 0; k < sbx_runtime_table_len && !any; k++) {
			const struct sbx_runtime *r = &sbx_runtime_table[k];
			bool ok = strcmp(r->name, l) == 0 && access(r->probe, X_OK) == 0;

			for (size_t j = 0; ok && j < SBX_RT_BINDS_MAX && r->binds[j]; j++)
				ok = access(r->binds[j], R_OK) == 0;
			any = ok;
		}
		n += any;
	}
	return n;
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
	CHECK(n >= n_installed);
	CHECK_INT(n, languages_installed());
	CHECK(sbx_runtimes_at(rt, n) == NULL);
	CHECK(sbx_runtimes_at(rt, (size_t)-1) == NULL);
	const char *got = sbx_runtimes_names(rt);
	const char *want_names = names;

	CHECK_STR(got, want_names);

	/* No name or alias belongs to two languages (one would hide the
	 * other). */
	for (size_t i = 0; i < n; i++) {
		const struct sbx_runtime *r = sbx_runtimes_at(rt, i);

		for (size_t j = 0; j < SBX_RT_ALIASES_MAX && r->aliases[j]; j++)
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
		"",	  "cobol85", "pytho",	"pythonn", "python ", " python",	  "py3",
		"java8", "cc",	    "golang2", "node.js", "main.py", "/usr/bin/python3", "python\n",
		"c ",	  "C#8",     "brainfuck"};

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
	struct sbx_runtime stranger = {.name = "python",
				       .source = "main.py",
				       .probe = "/usr/bin/python3",
				       .version = {"/usr/bin/python3", "--version"}};

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
	/* Every installed language has a real version: one line, not empty. */
	for (size_t i = 0; sbx_runtimes_at(rt, i); i++) {
		const struct sbx_runtime *r = sbx_runtimes_at(rt, i);
		const char *v = sbx_runtimes_version(rt, r);

		CHECKF(v[0] && !strchr(v, '\n') && !strstr(v, "warning"), "%s: version '%s'",
		       r->name, v);
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
	CHECK(n >= 33 && n <= SBX_RT_LANGUAGES_MAX);
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

	/* The set is wider than 32 bits: the last language too. */
	int last = (int)n - 1;
	const char *ln = sbx_runtime_language_name((unsigned)last);
	CHECK(last >= 32);
	CHECK_INT(sbx_runtimes_new(UINT64_C(1) << last, &rt), 0);
	if (!rt)
		return;
	CHECK(sbx_runtimes_find(rt, ln) == NULL);
	CHECK_STR(sbx_runtimes_disabled(rt, ln), ln);
	CHECK(sbx_runtimes_disabled(rt, "python") == NULL);
	sbx_runtimes_free(rt);
}

/* Some element of argv contains s (a shell command names its files). */
static bool argv_mentions(const char *const *argv, const char *s)
{
	for (size_t i = 0; i < SBX_RT_ARGV_MAX && argv[i]; i++)
		if (strstr(argv[i], s))
			return true;
	return false;
}

/* Every row, installed or not: the shape a caller relies on. */
static void test_table(void)
{
	for (size_t i = 0; i < sbx_runtime_table_len; i++) {
		const struct sbx_runtime *r = &sbx_runtime_table[i];
		const struct sbx_runtime_limits *cl = &r->compile_limits;

		for (const char *c = r->name; *c; c++)
			CHECKF(!isupper((unsigned char)*c), "%s is not lower case", r->name);
		CHECKF(r->probe[0] == '/' && r->version[0] && r->version[0][0] == '/', "%s probe",
		       r->name);
		CHECKF(argv_len(r->version) < SBX_RT_ARGV_MAX && argv_len(r->run) > 0 &&
			       argv_len(r->run) < SBX_RT_ARGV_MAX &&
			       argv_len(r->compile) < SBX_RT_ARGV_MAX,
		       "%s: argv not NULL-ended", r->name);
		CHECKF(argv_mentions(r->compile[0] ? r->compile : r->run, r->source),
		       "%s: %s is never read", r->name, r->source);
		CHECKF(r->run[0][0] == '/' || strcmp(r->run[0], "./main") == 0, "%s runs %s",
		       r->name, r->run[0]);
		if (r->compile[0])
			CHECKF(r->compile[0][0] == '/' && cl->cpu_time_ms && cl->wall_time_ms &&
				       cl->memory_kb && cl->pids,
			       "%s: compile step without absolute argv or limits", r->name);
		for (size_t j = 0; j < SBX_RT_BINDS_MAX && r->binds[j]; j++)
			CHECKF(r->binds[j][0] == '/' && strncmp(r->binds[j], "/usr/", 5) != 0 &&
				       strncmp(r->binds[j], "/tmp", 4) != 0,
			       "%s binds %s", r->name, r->binds[j]);
		for (size_t j = 0; j < SBX_RT_ENV_MAX && r->env[j]; j++)
			CHECKF(strchr(r->env[j], '=') > r->env[j], "%s env %s", r->name,
			       r->env[j]);
		/* Only the npm-installed runtimes come without a Debian package. */
		CHECKF(r->package || strstr(r->probe, "bun") || strstr(r->probe, "tsx"),
		       "%s names no package", r->name);
	}
}

/* The contract's languages (issue #15) and some spellings of each. */
static void test_contract_names(void)
{
	static const char *const names[][5] = {
		{"c", "C", "gcc"},	       {"cpp", "c++", "cplusplus", "CPP"},
		{"java", "Java"},	       {"go", "golang"},
		{"ruby"},		       {"php"},
		{"perl"},		       {"lua"},
		{"csharp", "c#", "cs", "mono"}, {"kotlin"},
		{"scala"},		       {"haskell", "hs"},
		{"ocaml"},		       {"fortran"},
		{"pascal", "fpc"},	       {"cobol"},
		{"ada"},		       {"d"},
		{"r", "R"},		       {"elixir"},
		{"erlang"},		       {"clojure"},
		{"lisp", "commonlisp", "sbcl"}, {"prolog"},
		{"tcl"},		       {"asm", "nasm"},
		{"sql", "sqlite", "sqlite3"},   {"python"},
		{"node", "js"},		       {"bun"},
		{"typescript"},		       {"shell", "bash"},
		{"rust"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int li = sbx_runtime_language_index(names[i][0]);
		const char *ln = li >= 0 ? sbx_runtime_language_name((unsigned)li) : NULL;

		CHECKF(ln && strcmp(ln, names[i][0]) == 0, "no row named %s", names[i][0]);
		for (size_t j = 1; j < 5 && names[i][j]; j++)
			CHECKF(sbx_runtime_language_index(names[i][j]) == li, "%s is not %s",
			       names[i][j], names[i][0]);
	}
}

/* scripts/deps.sh's languages=( "name package" ... ): the same pairs as the
 * table's rows with a package, so `make deps LANGUAGES=...` installs what
 * the table probes for. */
static void test_deps_script(void)
{
	const char *src = getenv("SBX_SOURCE_DIR");
	char path[4096], line[512], pairs[64][2][64];
	size_t n = 0;
	bool in = false;
	FILE *f;

	CHECKF(src != NULL, "SBX_SOURCE_DIR is not set");
	if (!src)
		return;
	snprintf(path, sizeof(path), "%s/scripts/deps.sh", src);
	f = fopen(path, "re");
	CHECKF(f != NULL, "%s", path);
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line;

		if (strncmp(line, "languages=(", 11) == 0) {
			in = true;
			continue;
		}
		if (!in)
			continue;
		if (line[0] == ')')
			break;
		while (n < 64 && (p = strchr(p, '"'))) {
			char *end = strchr(p + 1, '"');

			if (!end || sscanf(p + 1, "%63s %63[^\"]", pairs[n][0], pairs[n][1]) != 2)
				break;
			n++;
			p = end + 1;
		}
	}
	if (f)
		fclose(f);
	/* All but bun and typescript (npm). */
	CHECKF(n >= 31, "deps.sh lists %zu languages", n);
	for (size_t i = 0; i < sbx_runtime_table_len; i++) {
		const struct sbx_runtime *r = &sbx_runtime_table[i];
		bool found = false;

		for (size_t k = 0; r->package && k < n; k++)
			found |= strcmp(pairs[k][0], r->name) == 0 &&
				 strcmp(pairs[k][1], r->package) == 0;
		CHECKF(!r->package || found, "deps.sh does not install %s for %s", r->package,
		       r->name);
	}
	for (size_t k = 0; k < n; k++) {
		bool found = false;

		for (size_t i = 0; i < sbx_runtime_table_len; i++)
			found |= strcmp(pairs[k][0], sbx_runtime_table[i].name) == 0 &&
				 sbx_runtime_table[i].package &&
				 strcmp(pairs[k][1], sbx_runtime_table[i].package) == 0;
		CHECKF(found, "deps.sh installs %s for %s, which no row names", pairs[k][1],
		       pairs[k][0]);
	}
}

int main(void)
{
	struct sbx_runtimes *rt = NULL;

	test_disabled();
	test_table();
	test_contract_names();
	test_deps_script();
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
