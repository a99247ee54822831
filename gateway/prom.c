#include "prom.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_PROM_MAX_LABELS 8

void gw_prom_init(struct gw_prom *p, struct sbx_buf *out)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
}

static void put(struct gw_prom *p, const char *s, size_t n)
{
	if (p->err == 0)
		p->err = sbx_buf_append(p->out, s, n);
}

static void puts_(struct gw_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

void gw_prom_escape(struct gw_prom *p, const char *s, int esc_quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep = *s == '\\'		   ? "\\\\"
				  : *s == '\n'		   ? "\\n"
				  : *s == '"' && esc_quote ? "\\\""
							   : NULL;

		if (!rep)
			continue;
		put(p, run, (size_t)(s - run));
		puts_(p, rep);
		run = s + 1;
	}
	put(p, run, (size_t)(s - run));
}

/* The shortest of %.15g and %.17g that reads back as v. */
static void format_double(char *num, size_t size, double v)
{
	snprintf(num, size, "%.15g", v);
	if (strtod(num, NULL) != v)
		snprintf(num, size, "%.17g", v);
}

/* Prometheus' float syntax: integers exactly, +Inf, -Inf, NaN. */
static void put_value(struct gw_prom *p, double v)
{
	char num[40];

	if (isnan(v))
		snprintf(num, sizeof(num), "NaN");
	else if (isinf(v))
		snprintf(num, sizeof(num), "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
		snprintf(num, sizeof(num), "%.0f", v);
	else
		format_double(num, sizeof(num), v);
	puts_(p, num);
}

void gw_prom_family(struct gw_prom *p, const char *name, const char *type, const char *help)
{
	if (p->err)
		return;
	if (p->n_families && strcmp(p->families[p->n_families - 1], name) == 0)
		return;
	for (size_t i = 0; i < p->n_families; i++)
		if (strcmp(p->families[i], name) == 0) {
			p->err = -EINVAL; /* its samples would be split */
			return;
		}
	if (p->n_families == GW_PROM_MAX_FAMILIES || strlen(name) >= GW_PROM_NAME_MAX) {
		p->err = -EINVAL;
		return;
	}
	snprintf(p->families[p->n_families++], GW_PROM_NAME_MAX, "%s", name);
	puts_(p, "# HELP ");
	puts_(p, name);
	puts_(p, " ");
	gw_prom_escape(p, help, 0);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	puts_(p, " ");
	puts_(p, type);
	puts_(p, "\n");
}

static void put_labels(struct gw_prom *p, const struct gw_prom_label *labels, size_t n)
{
	if (!n)
		return;
	puts_(p, "{");
	for (size_t i = 0; i < n; i++) {
		if (i)
			puts_(p, ",");
		puts_(p, labels[i].name);
		puts_(p, "=\"");
		gw_prom_escape(p, labels[i].value ? labels[i].value : "", 1);
		puts_(p, "\"");
	}
	puts_(p, "}");
}

void gw_prom_sample(struct gw_prom *p, const char *name, const struct gw_prom_label *labels,
		    size_t n, double value)
{
	puts_(p, name);
	put_labels(p, labels, n);
	puts_(p, " ");
	put_value(p, value);
	puts_(p, "\n");
}

void gw_prom_histogram(struct gw_prom *p, const char *name, const struct gw_prom_label *labels,
		       size_t n, const double *bounds, const uint64_t *counts, size_t n_bounds,
		       double sum)
{
	struct gw_prom_label l[GW_PROM_MAX_LABELS + 1];
	char metric[GW_PROM_NAME_MAX + 16], le[40];
	uint64_t cum = 0;

	if (n > GW_PROM_MAX_LABELS) {
		if (!p->err)
			p->err = -EINVAL;
		return;
	}
	memcpy(l, labels, n * sizeof(*l));
	l[n].name = "le";
	snprintf(metric, sizeof(metric), "%s_bucket", name);
	for (size_t i = 0; i <= n_bounds; i++) {
		cum += counts[i];
		if (i < n_bounds)
			format_double(le, sizeof(le), bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		l[n].value = le;
		gw_prom_sample(p, metric, l, n + 1, (double)cum);
	}
	snprintf(metric, sizeof(metric), "%s_sum", name);
	gw_prom_sample(p, metric, labels, n, sum);
	snprintf(metric, sizeof(metric), "%s_count", name);
	gw_prom_sample(p, metric, labels, n, (double)cum);
}
