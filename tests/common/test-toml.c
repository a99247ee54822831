/* common/toml.c, against toml.h: the subset config.toml uses ([tables],
 * strings with \n \t \" \\ escapes, base-10 integers, booleans, comments),
 * "line N" in every syntax error, the key and string length limits, the
 * callback's error stopping the parse, and values of other TOML types
 * (floats, arrays, dates, literal strings, inline tables) refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "toml.h"

#define MAX_KEYS 16

/* CHECK_STR of a char array (its address is never NULL). */
#define CHECK_ARR(arr, want)                                                                       \
	do {                                                                                       \
		const char *got_ = (arr);                                                          \
		CHECK_STR(got_, want);                                                             \
	} while (0)

struct got {
	int n;
	char key[MAX_KEYS][300];
	struct sbx_toml_value v[MAX_KEYS];
	char str[MAX_KEYS][5000];
	int stop_at; /* callback number that fails with -ERANGE, 0 = none */
};

static int collect(void *arg, const char *key, const struct sbx_toml_value *v, char *err,
		   size_t errlen)
{
	struct got *g = arg;

	if (g->n >= MAX_KEYS)
		return -E2BIG;
	snprintf(g->key[g->n], sizeof(g->key[g->n]), "%s", key);
	g->v[g->n] = *v;
	if (v->type == SBX_TOML_STRING) {
		snprintf(g->str[g->n], sizeof(g->str[g->n]), "%s", v->str);
		g->v[g->n].str = g->str[g->n];
	}
	g->n++;
	if (g->stop_at && g->n == g->stop_at) {
		snprintf(err, errlen, "line %d: %s is out of range", v->line, key);
		return -ERANGE;
	}
	return 0;
}

/* Parse text into *g; returns the parse's result and leaves err in errbuf. */
static int parse(const char *text, struct got *g, char *errbuf, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	errbuf[0] = 0;
	return sbx_toml_parse(text, collect, g, errbuf, errlen);
}

/* A document that must fail with a syntax error naming `line`. */
static void check_syntax_error(const char *text, int line)
{
	struct got g;
	char err[256], want[32];
	int r = parse(text, &g, err, sizeof(err));

	snprintf(want, sizeof(want), "line %d: ", line);
	CHECKF(r == -EINVAL, "'%s' gave %d", text, r);
	CHECKF(strncmp(err, want, strlen(want)) == 0, "'%s': err '%s', want '%s...'", text, err,
	       want);
}

/* A document of one key whose value must be accepted as the integer n. */
static void check_int(const char *text, long long n)
{
	struct got g;
	char err[256];
	int r = parse(text, &g, err, sizeof(err));

	CHECKF(r == 0 && g.n == 1 && g.v[0].type == SBX_TOML_INT && g.v[0].num == n,
	       "'%s': r %d n %d num %lld (err '%s')", text, r, g.n, g.v[0].num, err);
}

static void test_document(void)
{
	struct got g;
	char err[256];
	const char *doc = "# sandboxd\n"
			  "top = 1\n"
			  "\n"
			  "[server]\n"
			  "  listen = \"ipc:///run/sandboxd.sock\"   # the socket\n"
			  "\tworkers=8\n"
			  "tls = false\n"
			  "   # an indented comment\n"
			  "[ limits ]  # with spaces inside the brackets\n"
			  "max-memory_mb = -512\n"
			  "strict = true\n"
			  "[a.b-c_d]\n"
			  "x.y = \"\"\n";

	CHECK_INT(parse(doc, &g, err, sizeof(err)), 0);
	CHECK_INT(g.n, 7);
	CHECK_ARR(g.key[0], "top");
	CHECK_INT(g.v[0].type, SBX_TOML_INT);
	CHECK_INT(g.v[0].num, 1);
	CHECK_INT(g.v[0].line, 2);
	CHECK_ARR(g.key[1], "server.listen");
	CHECK_INT(g.v[1].type, SBX_TOML_STRING);
	CHECK_STR(g.v[1].str, "ipc:///run/sandboxd.sock");
	CHECK_INT(g.v[1].line, 5);
	CHECK_ARR(g.key[2], "server.workers");
	CHECK_INT(g.v[2].num, 8);
	CHECK_INT(g.v[2].line, 6);
	CHECK_ARR(g.key[3], "server.tls");
	CHECK_INT(g.v[3].type, SBX_TOML_BOOL);
	CHECK_INT(g.v[3].num, 0);
	CHECK_ARR(g.key[4], "limits.max-memory_mb");
	CHECK_INT(g.v[4].num, -512);
	CHECK_INT(g.v[4].line, 10);
	CHECK_ARR(g.key[5], "limits.strict");
	CHECK_INT(g.v[5].type, SBX_TOML_BOOL);
	CHECK_INT(g.v[5].num, 1);
	CHECK_ARR(g.key[6], "a.b-c_d.x.y");
	CHECK_STR(g.v[6].str, "");
	CHECK_INT(g.v[6].line, 13);
	CHECK_ARR(err, "");

	/* Nothing at all, only blank lines and comments, CRLF line ends, no
	 * newline at the end. */
	CHECK_INT(parse("", &g, err, sizeof(err)), 0);
	CHECK_INT(g.n, 0);
	CHECK_INT(parse("\n\n  \t\n# x = 1\n", &g, err, sizeof(err)), 0);
	CHECK_INT(g.n, 0);
	CHECK_INT(parse("[t]\r\na = 1\r\n\r\nb = \"x\"\r\n", &g, err, sizeof(err)), 0);
	CHECK_INT(g.n, 2);
	CHECK_ARR(g.key[0], "t.a");
	CHECK_INT(g.v[0].num, 1);
	CHECK_STR(g.v[1].str, "x");
	CHECK_INT(g.v[1].line, 4);
	CHECK_INT(parse("k = 7", &g, err, sizeof(err)), 0);
	CHECK_INT(g.n, 1);
	CHECK_INT(g.v[0].num, 7);

	/* A later table replaces the earlier one; a key repeated is passed
	 * on twice (the callback decides). */
	CHECK_INT(parse("[a]\n[b]\nk = 1\nk = 2\n", &g, err, sizeof(err)), 0);
	CHECK_INT(g.n, 2);
	CHECK_ARR(g.key[0], "b.k");
	CHECK_ARR(g.key[1], "b.k");
	CHECK_INT(g.v[1].num, 2);
}

static void test_strings(void)
{
	struct got g;
	char err[256];

	CHECK_INT(parse("s = \"a\\nb\\tc\\\"d\\\\e\"\n", &g, err, sizeof(err)), 0);
	CHECK_STR(g.v[0].str, "a\nb\tc\"d\\e");
	CHECK_INT(parse("s = \"# not a comment\" # a comment\n", &g, err, sizeof(err)), 0);
	CHECK_STR(g.v[0].str, "# not a comment");
	CHECK_INT(parse("s = \"héllo wörld\"\n", &g, err, sizeof(err)), 0);
	CHECK_STR(g.v[0].str, "héllo wörld");
	CHECK_INT(parse("s = \"true\"\n", &g, err, sizeof(err)), 0);
	CHECK_INT(g.v[0].type, SBX_TOML_STRING);
	CHECK_INT(parse("s = \"12\"\n", &g, err, sizeof(err)), 0);
	CHECK_INT(g.v[0].type, SBX_TOML_STRING);
	CHECK_STR(g.v[0].str, "12");

	/* Escapes outside the subset, a backslash at the very end, an
	 * unterminated string, one running into the next line. */
	check_syntax_error("s = \"\\u00e9\"\n", 1);
	check_syntax_error("s = \"\\r\"\n", 1);
	check_syntax_error("a = 1\ns = \"abc\\", 2);
	check_syntax_error("s = \"abc\\\n\"\n", 1);
	check_syntax_error("s = \"abc\n", 1);
	check_syntax_error("\n\ns = \"abc\nd\"\n", 3);
	check_syntax_error("s = \"abc\"x\n", 1);
	check_syntax_error("s = \"a\" \"b\"\n", 1);
}

static void test_integers_and_bools(void)
{
	check_int("n = 0\n", 0);
	check_int("n = -0\n", 0);
	check_int("n = +42\n", 42);
	check_int("n = 9223372036854775807\n", 9223372036854775807LL);
	check_int("n = -9223372036854775808\n", (-9223372036854775807LL - 1));
	check_int("n = 5 # five\n", 5);
	check_int("n=5\t\n", 5);

	check_syntax_error("n = 9223372036854775808\n", 1);
	check_syntax_error("n = -9223372036854775809\n", 1);
	check_syntax_error("n = 99999999999999999999999\n", 1);
	check_syntax_error("n = 12abc\n", 1);
	check_syntax_error("n = 0x10\n", 1);
	check_syntax_error("n = 1_000\n", 1);
	check_syntax_error("n = - 1\n", 1);
	check_syntax_error("n =\n", 1);
	check_syntax_error("n = ", 1);

	struct got g;
	char err[256];

	CHECK_INT(parse("a = true\nb = false # no\n", &g, err, sizeof(err)), 0);
	CHECK_INT(g.n, 2);
	CHECK_INT(g.v[0].type, SBX_TOML_BOOL);
	CHECK_INT(g.v[0].num, 1);
	CHECK_INT(g.v[1].type, SBX_TOML_BOOL);
	CHECK_INT(g.v[1].num, 0);
	check_syntax_error("b = True\n", 1);
	check_syntax_error("b = truex\n", 1);
	check_syntax_error("b = falsey\n", 1);
	check_syntax_error("b = yes\n", 1);
	check_syntax_error("b = tru\n", 1);
}

static void test_errors(void)
{
	/* Other TOML types: each is refused on its own line. */
	check_syntax_error("a = 1\nf = 1.5\n", 2);
	check_syntax_error("a = 1\nf = 1e3\n", 2);
	check_syntax_error("a = [1, 2]\n", 1);
	check_syntax_error("a = { b = 1 }\n", 1);
	check_syntax_error("a = 1979-05-27\n", 1);
	check_syntax_error("a = 07:32:00\n", 1);
	check_syntax_error("a = 'literal'\n", 1);
	check_syntax_error("a = \"\"\"multi\nline\"\"\"\n", 1);
	check_syntax_error("a = inf\n", 1);

	/* Malformed lines. */
	check_syntax_error("= 1\n", 1);
	check_syntax_error("key\n", 1);
	check_syntax_error("key 1\n", 1);
	check_syntax_error("\"quoted\" = 1\n", 1);
	check_syntax_error("k-é = 1\n", 1);
	check_syntax_error("a = 1 2\n", 1);
	check_syntax_error("[t\n", 1);
	check_syntax_error("[]\n", 1);
	check_syntax_error("[ ]\n", 1);
	check_syntax_error("[[array]]\n", 1);
	check_syntax_error("[t] x\n", 1);
	check_syntax_error("[t x]\n", 1);
	check_syntax_error("[\"t\"]\n", 1);
	check_syntax_error("# c\n\n[ok]\na = 1\n\nb == 2\n", 6);
	check_syntax_error("a = 1\r\nb = 2\rc = 3\r\n", 2);

	/* The value belongs on the key's line: a number on the next line is
	 * not this key's value (and would shift every later line number). */
	check_syntax_error("a =\n5\n", 1);
	check_syntax_error("a = \n\n7\n", 1);
	check_syntax_error("a =\r\n5\r\n", 1);

	/* The error buffer is respected: cut, terminated, or not written. */
	struct got g;
	char small[8];

	memset(small, 'x', sizeof(small));
	CHECK_INT(sbx_toml_parse("bad\n", collect, &g, small, sizeof(small)), -EINVAL);
	CHECK_ARR(small, "line 1:");
	memset(&g, 0, sizeof(g));
	CHECK_INT(sbx_toml_parse("bad\n", collect, &g, NULL, 0), -EINVAL);

	/* Keys before the error were passed on, those after were not. */
	char err[256];

	CHECK_INT(parse("a = 1\nb = ?\nc = 3\n", &g, err, sizeof(err)), -EINVAL);
	CHECK_INT(g.n, 1);
	CHECK_ARR(g.key[0], "a");
}

static void test_callback_error(void)
{
	struct got g;
	char err[256] = "";

	memset(&g, 0, sizeof(g));
	g.stop_at = 2;
	CHECK_INT(sbx_toml_parse("a = 1\n\nb = 2\nc = 3\n", collect, &g, err, sizeof(err)),
		  -ERANGE);
	CHECK_INT(g.n, 2);
	CHECK_ARR(err, "line 3: b is out of range");
}

static void test_limits(void)
{
	struct got g;
	char err[256];
	char *doc = malloc(20000);
	char name[300];

	/* Keys and table names: 127 characters fit, 128 do not. */
	memset(name, 'k', 127);
	name[127] = 0;
	snprintf(doc, 20000, "%s = 1\n", name);
	CHECK_INT(parse(doc, &g, err, sizeof(err)), 0);
	CHECK_INT(strlen(g.key[0]), 127);
	snprintf(doc, 20000, "[%s]\n%s = 1\n", name, name);
	CHECK_INT(parse(doc, &g, err, sizeof(err)), 0);
	CHECK_INT(strlen(g.key[0]), 255);
	CHECK(g.key[0][127] == '.');
	snprintf(doc, 20000, "a = 1\n%sk = 1\n", name);
	check_syntax_error(doc, 2);
	snprintf(doc, 20000, "a = 1\n\n[%st]\n", name);
	check_syntax_error(doc, 3);

	/* A deep dotted table name is one name, bounded the same way. */
	doc[0] = 0;
	strcat(doc, "[");
	for (int i = 0; i < 63; i++)
		strcat(doc, "a.");
	strcat(doc, "b]\nk = 1\n"); /* 127 characters */
	CHECK_INT(parse(doc, &g, err, sizeof(err)), 0);
	CHECK_INT(g.n, 1);
	CHECK_INT(strlen(g.key[0]), 129);
	doc[0] = 0;
	strcat(doc, "[");
	for (int i = 0; i < 64; i++)
		strcat(doc, "a.");
	strcat(doc, "b]\nk = 1\n"); /* 129 characters */
	check_syntax_error(doc, 1);

	/* Strings: 4095 bytes after unescaping fit, 4096 do not; an escape
	 * counts as the one byte it stands for. */
	strcpy(doc, "s = \"");
	memset(doc + 5, 'v', 4095);
	strcpy(doc + 5 + 4095, "\"\n");
	CHECK_INT(parse(doc, &g, err, sizeof(err)), 0);
	CHECK_INT(strlen(g.str[0]), 4095);
	strcpy(doc, "a = 1\ns = \"");
	memset(doc + 11, 'v', 4096);
	strcpy(doc + 11 + 4096, "\"\n");
	check_syntax_error(doc, 2);
	strcpy(doc, "s = \"");
	for (int i = 0; i < 4095; i++)
		memcpy(doc + 5 + 2 * i, "\\n", 2);
	strcpy(doc + 5 + 2 * 4095, "\"\n");
	CHECK_INT(parse(doc, &g, err, sizeof(err)), 0);
	CHECK_INT(strlen(g.str[0]), 4095);

	/* A long comment line and a long run of blank lines are fine, and
	 * line numbers keep counting through them. */
	memset(doc, 0, 20000);
	doc[0] = '#';
	memset(doc + 1, 'c', 15000);
	strcat(doc, "\n");
	for (int i = 0; i < 1000; i++)
		strcat(doc, "\n");
	strcat(doc, "x = @\n");
	check_syntax_error(doc, 1002);
	free(doc);
}

int main(void)
{
	test_document();
	test_strings();
	test_integers_and_bools();
	test_errors();
	test_callback_error();
	test_limits();
	TEST_DONE();
}
