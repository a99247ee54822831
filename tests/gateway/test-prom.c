/* The Prometheus text writer (gateway/prom.h): escaping of label values
 * and HELP text, one HELP/TYPE per family, cumulative histogram buckets
 * ending in +Inf with _sum and _count, number syntax, sticky errors. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"
#include "testlib.h"

#define MAX (1u << 16)

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_escaping(void)
{
	struct sbx_buf b;
	struct gw_prom p;
	struct gw_prom_label l[2] = {{"path", "a\\b\"c\nd"}, {"empty", NULL}};

	sbx_buf_init(&b, MAX);
	gw_prom_init(&p, &b);
	gw_prom_family(&p, "x_total", "counter", "Back\\slash, \"quotes\" kept,\nnew line.");
	gw_prom_sample(&p, "x_total", l, 2, 3);
	CHECK_INT(p.err, 0);
	CHECK_STR(b.data, "# HELP x_total Back\\\\slash, \"quotes\" kept,\\nnew line.\n"
			  "# TYPE x_total counter\n"
			  "x_total{path=\"a\\\\b\\\"c\\nd\",empty=\"\"} 3\n");
	sbx_buf_fini(&b);
}

static void test_one_type_per_family(void)
{
	struct sbx_buf b;
	struct gw_prom p;
	struct gw_prom_label l[1] = {{"node", "n1"}};

	sbx_buf_init(&b, MAX);
	gw_prom_init(&p, &b);
	/* One family written per node in a loop: announced once. */
	for (int i = 0; i < 3; i++) {
		gw_prom_family(&p, "up", "gauge", "Up.");
		gw_prom_sample(&p, "up", l, 1, 1);
	}
	gw_prom_family(&p, "other", "gauge", "Other.");
	gw_prom_sample(&p, "other", NULL, 0, 0);
	CHECK_INT(p.err, 0);
	CHECK_INT(count(b.data, "# TYPE up gauge\n"), 1);
	CHECK_INT(count(b.data, "# HELP up Up.\n"), 1);
	CHECK_INT(count(b.data, "up{node=\"n1\"} 1\n"), 3);
	CHECK_STR(strstr(b.data, "other"), "other Other.\n# TYPE other gauge\nother 0\n");
	/* Back to an earlier family would split its samples: refused. */
	gw_prom_family(&p, "up", "gauge", "Up.");
	CHECK_INT(p.err, -EINVAL);
	sbx_buf_fini(&b);
}

static void test_histogram(void)
{
	static const double bounds[] = {0.005, 0.1, 2.5};
	static const uint64_t counts[] = {1, 0, 4, 2}; /* the last: above 2.5 */
	struct gw_prom_label l[1] = {{"node", "a"}};
	struct sbx_buf b;
	struct gw_prom p;

	sbx_buf_init(&b, MAX);
	gw_prom_init(&p, &b);
	gw_prom_family(&p, "t_seconds", "histogram", "Times.");
	gw_prom_histogram(&p, "t_seconds", l, 1, bounds, counts, 3, 12.25);
	CHECK_INT(p.err, 0);
	CHECK_STR(b.data, "# HELP t_seconds Times.\n"
			  "# TYPE t_seconds histogram\n"
			  "t_seconds_bucket{node=\"a\",le=\"0.005\"} 1\n"
			  "t_seconds_bucket{node=\"a\",le=\"0.1\"} 1\n"
			  "t_seconds_bucket{node=\"a\",le=\"2.5\"} 5\n"
			  "t_seconds_bucket{node=\"a\",le=\"+Inf\"} 7\n"
			  "t_seconds_sum{node=\"a\"} 12.25\n"
			  "t_seconds_count{node=\"a\"} 7\n");
	sbx_buf_fini(&b);
}

static void test_numbers(void)
{
	struct sbx_buf b;
	struct gw_prom p;

	sbx_buf_init(&b, MAX);
	gw_prom_init(&p, &b);
	gw_prom_family(&p, "v", "gauge", "Values.");
	gw_prom_sample(&p, "v", NULL, 0, 18446744073709551615.0);
	gw_prom_sample(&p, "v", NULL, 0, 9007199254740991.0);
	gw_prom_sample(&p, "v", NULL, 0, 0.1);
	gw_prom_sample(&p, "v", NULL, 0, -2);
	gw_prom_sample(&p, "v", NULL, 0, INFINITY);
	gw_prom_sample(&p, "v", NULL, 0, -INFINITY);
	gw_prom_sample(&p, "v", NULL, 0, NAN);
	CHECK_INT(p.err, 0);
	CHECK_STR(strstr(b.data, "v 1"), "v 1.8446744073709552e+19\n"
					 "v 9007199254740991\n"
					 "v 0.1\n"
					 "v -2\n"
					 "v +Inf\n"
					 "v -Inf\n"
					 "v NaN\n");
	sbx_buf_fini(&b);
}

static void test_bounded(void)
{
	struct sbx_buf b;
	struct gw_prom p;
	size_t len;

	sbx_buf_init(&b, 64);
	gw_prom_init(&p, &b);
	gw_prom_family(&p, "a_long_family_name_total", "counter", "Fills the small buffer.");
	CHECK_INT(p.err, -E2BIG);
	len = b.len;
	gw_prom_sample(&p, "a", NULL, 0, 1);
	CHECK_INT(b.len, len); /* sticky: nothing more */
	CHECK(b.len <= 64);
	sbx_buf_fini(&b);

	/* Too many families, a name too long: refused, not cut. */
	sbx_buf_init(&b, MAX);
	gw_prom_init(&p, &b);
	for (int i = 0; i <= GW_PROM_MAX_FAMILIES && p.err == 0; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		gw_prom_family(&p, name, "gauge", "F.");
	}
	CHECK_INT(p.err, -EINVAL);
	CHECK_INT(p.n_families, GW_PROM_MAX_FAMILIES);
	sbx_buf_fini(&b);
}

int main(void)
{
	test_escaping();
	test_one_type_per_family();
	test_histogram();
	test_numbers();
	test_bounded();
	TEST_DONE();
}
