/* The option table (common/options.c): defaults, environment, argv under
 * getopt_long's rules, EXACT and IN_ORDER, refusal sentences, --help,
 * --print-config and the Markdown table, on a table of its own. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "testlib.h"

struct cfg {
	char *name;
	const char *ref;
	uint32_t n;
	uint64_t size;
	bool on, sw;
	int odd;
};

static int set_odd(void *cfg, const char *v)
{
	uint64_t n;

	if (sbx_opts_parse_uint(v, false, &n) < 0 || n % 2 == 0)
		return -EINVAL;
	((struct cfg *)cfg)->odd = (int)n;
	return 0;
}

#define O(f) offsetof(struct cfg, f)
static const struct sbx_opt rows[] = {
	{.key = "t.name",
	 .env = "NAME",
	 .flag = "name",
	 .type = SBX_OPT_STR,
	 .offset = O(name),
	 .def = "x",
	 .help = "a name",
	 .flags = SBX_OPT_SECRET},
	{.env = "REF",
	 .flag = "ref",
	 .type = SBX_OPT_REF,
	 .offset = O(ref),
	 .def = "r",
	 .help = "a borrowed string",
	 .flags = SBX_OPT_NONEMPTY},
	{.key = "t.n",
	 .env = "N",
	 .flag = "number",
	 .type = SBX_OPT_U32,
	 .offset = O(n),
	 .def = "5",
	 .min = 1,
	 .max = 10,
	 .help = "a number"},
	{.key = "t.nice",
	 .flag = "numbers-too",
	 .type = SBX_OPT_U32,
	 .offset = O(n),
	 .max = 10,
	 .help = "shares a prefix with --number"},
	{.key = "t.size",
	 .flag = "size",
	 .type = SBX_OPT_SIZE,
	 .offset = O(size),
	 .def = "1k",
	 .min = 1,
	 .max = 1u << 30,
	 .help = "a size"},
	{.key = "t.on",
	 .flag = "on",
	 .type = SBX_OPT_BOOL,
	 .offset = O(on),
	 .def = "yes",
	 .help = "a bool"},
	{.flag = "switch",
	 .short_flag = 's',
	 .type = SBX_OPT_SWITCH,
	 .offset = O(sw),
	 .help = "a switch"},
	{.flag = "odd",
	 .type = SBX_OPT_CUSTOM,
	 .set = set_odd,
	 .must = "be odd",
	 .arg = "N",
	 .help = "an odd number",
	 .def_help = "none"},
	{.flag = "help", .short_flag = 'h', .type = SBX_OPT_ACTION, .min = 7, .help = "help"},
};

static const struct sbx_opts loose = SBX_OPTS(rows, SBX_OPTS_KEY_IN_ERRORS, "unknown '%s'",
					      "missing '%s' (%s)", "positional '%s'");
static const struct sbx_opts exact =
	SBX_OPTS(rows, SBX_OPTS_EXACT | SBX_OPTS_ENV_DOLLAR, "unknown '%s'", "missing '%s' (%s)",
		 "positional '%s'");
static const struct sbx_opts in_order =
	SBX_OPTS(rows, SBX_OPTS_IN_ORDER | SBX_OPTS_TERSE, "unknown '%s'", "missing '%s' (%s)",
		 "positional '%s'", .ambiguous = "'%s' is ambiguous:");

static char err_buf[256], *err = err_buf;

static int load(const struct sbx_opts *t, struct cfg *c, char **envp, char **argv, int *action)
{
	int argc = 0, r;

	while (argv[argc])
		argc++;
	sbx_opts_fini(t, c);
	*c = (struct cfg){0};
	err[0] = 0;
	*action = 0;
	if ((r = sbx_opts_defaults(t, c, err, sizeof(err_buf))) < 0 ||
	    (r = sbx_opts_env(t, c, envp, err, sizeof(err_buf))) < 0)
		return r;
	return sbx_opts_argv(t, c, argc, argv, action, err, sizeof(err_buf));
}

#define ARGV(...) ((char *[]){"prog", __VA_ARGS__, NULL})

static void test_values(void)
{
	struct cfg c = {0};
	char *none[] = {NULL}, *env[] = {"NAME=from-env", "N=7", "NX=1", NULL};
	int a;

	CHECK_INT(load(&loose, &c, none, ARGV(NULL), &a), 0);
	CHECK_STR(c.name, "x");
	CHECK_STR(c.ref, "r");
	CHECK_INT(c.n, 5);
	CHECK_INT(c.size, 1024);
	CHECK(c.on && !c.sw);
	CHECK_INT(load(&loose, &c, env, ARGV("--number=9", "--size", "2m", "--on", "NO", "-s"), &a),
		  0);
	CHECK_STR(c.name, "from-env");
	CHECK_INT(c.n, 9);
	CHECK_INT(c.size, 2 << 20);
	CHECK(!c.on && c.sw);
	CHECK_INT(load(&loose, &c, none, ARGV("--number", "11"), &a), -EINVAL);
	CHECK_STR(err, "--number: t.n must be an integer from 1 to 10, not '11'");
	CHECK_INT(load(&loose, &c, none, ARGV("--number", "+5"), &a), -EINVAL);
	CHECK_INT(load(&loose, &c, none, ARGV("--number", " 5"), &a), -EINVAL);
	CHECK_INT(load(&loose, &c, none, ARGV("--size", "1t"), &a), -EINVAL);
	CHECK_INT(load(&loose, &c, none, ARGV("--on", "maybe"), &a), -EINVAL);
	CHECK_STR(err, "--on: t.on must be true or false, not 'maybe'");
	CHECK_INT(load(&loose, &c, none, ARGV("--odd", "4"), &a), -EINVAL);
	CHECK_STR(err, "--odd must be odd, not '4'");
	CHECK_INT(load(&exact, &c, (char *[]){"N=0", NULL}, ARGV(NULL), &a), -EINVAL);
	CHECK_STR(err, "$N must be an integer from 1 to 10, not '0'");
	CHECK_INT(load(&exact, &c, (char *[]){"REF=", NULL}, ARGV(NULL), &a), -EINVAL);
	CHECK_STR(err, "$REF must not be empty");
	CHECK_INT(load(&in_order, &c, none, ARGV("--odd", "2", "cmd"), &a), -EINVAL);
	CHECK_STR(err, "invalid value for --odd: 2");
	sbx_opts_fini(&loose, &c);
	CHECK(c.name == NULL);
}

static void test_argv(void)
{
	struct cfg c = {0};
	char *none[] = {NULL};
	struct sbx_opts_iter it;
	const struct sbx_opt *o;
	const char *v;
	char **argv;
	int a;

	/* getopt_long's rules: a unique prefix, the exact name over a
	 * longer one, -sh clusters, positional arguments refused last. */
	CHECK_INT(load(&loose, &c, none, ARGV("--na", "y", "--number", "3", "-sh"), &a), 0);
	CHECK_STR(c.name, "y");
	CHECK_INT(c.n, 3);
	CHECK(c.sw);
	CHECK_INT(a, 7);
	CHECK_INT(load(&loose, &c, none, ARGV("--nu", "3"), &a), -EINVAL);
	CHECK_STR(err, "unknown '--nu'");
	CHECK_INT(load(&loose, &c, none, ARGV("-sx"), &a), -EINVAL);
	CHECK_STR(err, "unknown '-x'");
	CHECK_INT(load(&loose, &c, none, ARGV("--help=1"), &a), -EINVAL);
	CHECK_STR(err, "unknown '--help=1'");
	CHECK_INT(load(&loose, &c, none, ARGV("--name"), &a), -EINVAL);
	CHECK_STR(err, "missing '--name' ()");
	CHECK_INT(load(&loose, &c, none, ARGV("pos", "--bogus"), &a), -EINVAL);
	CHECK_STR(err, "unknown '--bogus'");
	CHECK_INT(load(&loose, &c, none, ARGV("pos", "-h"), &a), -EINVAL);
	CHECK_STR(err, "positional 'pos'");
	CHECK_INT(load(&loose, &c, none, ARGV("-s", "--", "-h"), &a), -EINVAL);
	CHECK_STR(err, "positional '-h'");
	CHECK_INT(load(&loose, &c, none, ARGV("-s", "--"), &a), 0);

	/* EXACT: no prefix, no cluster, a positional refused at once. */
	CHECK_INT(load(&exact, &c, none, ARGV("--na", "y"), &a), -EINVAL);
	CHECK_STR(err, "unknown '--na'");
	CHECK_INT(load(&exact, &c, none, ARGV("-sh"), &a), -EINVAL);
	CHECK_STR(err, "positional '-sh'");
	CHECK_INT(load(&exact, &c, none, ARGV("pos", "--bogus"), &a), -EINVAL);
	CHECK_STR(err, "positional 'pos'");
	CHECK_INT(load(&exact, &c, none, ARGV("--odd"), &a), -EINVAL);
	CHECK_STR(err, "missing '--odd' (N)");
	CHECK_INT(load(&exact, &c, none, ARGV("-s", "-h"), &a), 0);
	CHECK_INT(a, 7);

	CHECK_INT(load(&in_order, &c, none, ARGV("--nu", "3"), &a), -EINVAL);
	CHECK_STR(err, "'--nu' is ambiguous: '--number' '--numbers-too'");
	CHECK_INT(load(&in_order, &c, none, ARGV("--nx", "3"), &a), -EINVAL);
	CHECK_STR(err, "unknown '--nx'");

	/* IN_ORDER: the first positional argument (or what follows "--")
	 * ends the options; the walk leaves argv as it was. */
	argv = ARGV("-s", "cmd", "--name", "z");
	sbx_opts_iter_init(&it, &in_order, 5, argv);
	CHECK_INT(sbx_opts_next(&it, &o, &v, err, sizeof(err_buf)), 1);
	CHECK_STR(o->flag, "switch");
	CHECK_INT(sbx_opts_next(&it, &o, &v, err, sizeof(err_buf)), 0);
	CHECK_INT(it.pos, 2);
	CHECK_STR(argv[3], "--name");
	argv = ARGV("--", "--name");
	sbx_opts_iter_init(&it, &in_order, 3, argv);
	CHECK_INT(sbx_opts_next(&it, &o, &v, err, sizeof(err_buf)), 0);
	CHECK_INT(it.pos, 2);
	sbx_opts_fini(&loose, &c);
}

static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	fn(f, arg);
	fclose(f);
	return out;
}

static void usage(FILE *f, const void *t)
{
	sbx_opts_usage(t, f);
}
static void markdown(FILE *f, const void *t)
{
	sbx_opts_markdown(t, f);
}
static void print(FILE *f, const void *c)
{
	sbx_opts_print(&loose, c, f);
}

static void test_output(void)
{
	struct cfg c = {0};
	char *out, *none[] = {NULL};
	int a;

	out = capture(usage, &loose);
	CHECKF(strstr(out, "      --number N               a number (default 5, $N, key t.n)\n"),
	       "%s", out);
	CHECKF(strstr(out, "  -h, --help                   help\n"), "%s", out);
	CHECKF(strstr(out, "--odd N                  an odd number (default none)\n"), "%s", out);
	free(out);
	out = capture(markdown, &loose);
	CHECKF(strstr(out, "| `--size` | — | `t.size` | 1k | a size |\n"), "%s", out);
	CHECKF(strstr(out, "| `--name` | `NAME` | `t.name` | `x` | a name |\n"), "%s", out);
	CHECKF(strstr(out, "| `--odd` | — | — | none | an odd number |\n"), "%s", out);
	CHECKF(!strstr(out, "--help"), "%s", out);
	free(out);
	CHECK_INT(load(&loose, &c, none, ARGV("--name", "secret"), &a), 0);
	out = capture(print, &c);
	CHECK_STR(out, "t.name = \"********\"\nt.n = 5\nt.nice = 5\nt.size = 1024\nt.on = true\n");
	free(out);
	sbx_opts_fini(&loose, &c);
}

/* SBX_OPT_LIST: the default and the environment replace the list, so does
 * the first flag; later flags add to it. */
struct list_cfg {
	struct sbx_opt_list urls;
};

static const struct sbx_opt list_rows[] = {
	{.key = "t.urls",
	 .env = "URLS",
	 .flag = "url",
	 .type = SBX_OPT_LIST,
	 .offset = offsetof(struct list_cfg, urls),
	 .def = "d",
	 .help = "urls",
	 .flags = SBX_OPT_NONEMPTY},
};
static const struct sbx_opts list_table =
	SBX_OPTS(list_rows, 0, "unknown '%s'", "missing '%s' (%s)", "positional '%s'");

static int load_list(struct list_cfg *c, char **envp, char **argv)
{
	int argc = 0, r;

	while (argv[argc])
		argc++;
	sbx_opts_fini(&list_table, c);
	err[0] = 0;
	if ((r = sbx_opts_defaults(&list_table, c, err, sizeof(err_buf))) < 0 ||
	    (r = sbx_opts_env(&list_table, c, envp, err, sizeof(err_buf))) < 0)
		return r;
	return sbx_opts_argv(&list_table, c, argc, argv, NULL, err, sizeof(err_buf));
}

static void list_print(FILE *f, const void *c)
{
	sbx_opts_print(&list_table, c, f);
}

static void test_list(void)
{
	struct list_cfg c = {0};
	char *none[] = {NULL}, *env[] = {"URLS=e1,e2", NULL}, *out;

	CHECK_INT(load_list(&c, none, ARGV(NULL)), 0);
	CHECK_STR(c.urls.joined, "d");
	CHECK_INT(load_list(&c, none, ARGV("--url", "a", "--url=b,c", "--url", "d")), 0);
	CHECK_STR(c.urls.joined, "a,b,c,d");
	CHECK_INT(load_list(&c, env, ARGV(NULL)), 0);
	CHECK_STR(c.urls.joined, "e1,e2");
	CHECK_INT(load_list(&c, env, ARGV("--url", "f")), 0);
	CHECK_STR(c.urls.joined, "f");
	out = capture(list_print, &c);
	CHECK_STR(out, "t.urls = \"f\"\n");
	free(out);
	CHECK_INT(load_list(&c, none, ARGV("--url", "a,,b")), -EINVAL);
	CHECK_STR(err, "--url must be a comma-separated list without empty items, not 'a,,b'");
	CHECK_INT(load_list(&c, none, ARGV("--url", "a", "--url", "b,")), -EINVAL);
	CHECK_INT(load_list(&c, none, ARGV("--url", "")), -EINVAL);
	CHECK_STR(err, "--url must not be empty");
	sbx_opts_fini(&list_table, &c);
	CHECK(c.urls.joined == NULL);
}

static void test_read_file(void)
{
	char *dir = tl_tmpdir("opts"), path[512], buf[8];
	static const struct {
		const char *text;
		size_t len;
		const char *want; /* NULL: refused */
	} cases[] = {
		{"key\n", 4, "key"},   {"key", 3, "key"},
		{"key\r\n", 5, "key"}, {"1234567\n", 8, "1234567"},
		{"12345678", 8, NULL}, {"1234567\nx", 9, NULL},
		{"", 0, NULL},	       {"\n", 1, NULL},
		{"a\nb", 3, NULL},     {"a\0b", 3, NULL},
	};

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/key", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(path, "w");
		int r;

		if (!f || fwrite(cases[i].text, 1, cases[i].len, f) != cases[i].len) {
			CHECKF(0, "cannot write %s", path);
			if (f)
				fclose(f);
			break;
		}
		fclose(f);
		r = sbx_opts_read_file(path, "--key-file", buf, sizeof(buf), err, sizeof(err_buf));
		if (cases[i].want) {
			CHECKF(r == 0, "case %zu: %s", i, err);
			CHECKF(strcmp(buf, cases[i].want) == 0, "case %zu: %s", i, buf);
		} else {
			CHECKF(r == -EINVAL && strstr(err, "--key-file") && strstr(err, path),
			       "case %zu: %d %s", i, r, err);
		}
	}
	unlink(path);
	CHECK_INT(sbx_opts_read_file(path, "--key-file", buf, sizeof(buf), err, sizeof(err_buf)),
		  -EINVAL);
	CHECKF(strstr(err, "No such file"), "%s", err);
	rmdir(dir);
	free(dir);
}

int main(void)
{
	test_values();
	test_argv();
	test_output();
	test_list();
	test_read_file();
	TEST_DONE();
}
