/* Prometheus' text exposition format, version 0.0.4: the writer behind
 * GET /metrics (gateway/metrics.h). Pure formatting into a bounded buffer,
 * unit-tested alone (tests/gateway/test-prom.c).
 *
 * A family is announced once (`# HELP`, `# TYPE`) and its samples follow
 * it, all of them together, as the format wants; announcing a family a
 * second time adds nothing, so callers that write one family per node in
 * a loop stay valid. Label values and HELP text are escaped (\\, \" and
 * \n in values; \\ and \n in HELP). Errors are sticky: the first one
 * (-E2BIG past the buffer's maximum, -ENOMEM, -EINVAL for a family
 * written again after another family began, or too many families) is
 * kept in `err` and later calls do nothing. */
#ifndef SBX_GW_PROM_H
#define SBX_GW_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define GW_PROM_MAX_FAMILIES 128
#define GW_PROM_NAME_MAX 96

struct gw_prom_label {
	const char *name, *value;
};

struct gw_prom {
	struct sbx_buf *out;
	int err;
	size_t n_families;
	char families[GW_PROM_MAX_FAMILIES][GW_PROM_NAME_MAX];
};

void gw_prom_init(struct gw_prom *p, struct sbx_buf *out);

/* Announce family `name` of `type` ("counter", "gauge", "histogram")
 * with `help`, unless it is the family being written already. */
void gw_prom_family(struct gw_prom *p, const char *name, const char *type, const char *help);

/* One sample of the current family: name, its n labels, value. */
void gw_prom_sample(struct gw_prom *p, const char *name, const struct gw_prom_label *labels,
		    size_t n, double value);

/* One histogram of the current family `name` (labels as above): counts
 * per upper bound, not cumulative, then one beyond the last bound
 * (counts has n_bounds + 1 entries); written as cumulative `_bucket`
 * samples with `le`, the last `le="+Inf"`, then `_sum` and `_count`
 * (count is the +Inf bucket). */
void gw_prom_histogram(struct gw_prom *p, const char *name, const struct gw_prom_label *labels,
		       size_t n, const double *bounds, const uint64_t *counts, size_t n_bounds,
		       double sum);

/* Escape `s` as a label value (esc_quote true) or HELP text into out. */
void gw_prom_escape(struct gw_prom *p, const char *s, int esc_quote);

#endif
