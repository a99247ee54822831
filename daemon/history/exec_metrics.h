/* What GET /metrics shows of a daemon's executions (GetMetrics,
 * proto/admin.proto NodeMetrics): counts by kind, language and status,
 * and histograms of queue wait, set-up, run and whole-request times. In
 * memory, since the daemon started (Prometheus' counters may reset; the
 * persistent totals are GetStats'), fed by the executor's observer.
 * Thread-safe: one short lock per report and per read. Bounded: at most
 * SBX_METRICS_MAX_SERIES count rows; later new combinations are counted
 * in one row of kind, language and status "other". */
#ifndef SBX_EXEC_METRICS_H
#define SBX_EXEC_METRICS_H

#include <stdint.h>

#include "admin.pb-c.h"

struct sbx_exec_report;

#define SBX_METRICS_MAX_SERIES 512

struct sbx_exec_metrics;

/* 0 and *ret, or -ENOMEM. */
int sbx_exec_metrics_new(struct sbx_exec_metrics **ret);
void sbx_exec_metrics_free(struct sbx_exec_metrics *m); /* NULL is ok */

/* Count one report (executor.h) whose language is `language` as the
 * caller made it bounded (a runtime's name or "other"). */
void sbx_exec_metrics_record(struct sbx_exec_metrics *m, const struct sbx_exec_report *rep,
			     const char *language);

/* Fill r's executions, latency and log_dropped_bytes. 0 or -ENOMEM (r
 * keeps what was filled: free it whole). */
int sbx_exec_metrics_fill(struct sbx_exec_metrics *m, Sbx__NodeMetrics *r);

/* The status label of a report into out: ExecStatus in lower case
 * ("ok", "time_limit", ... as shown outside the daemon), or for a request
 * with no result "invalid" (-EINVAL), "rejected" (-EAGAIN, -ETIMEDOUT:
 * not admitted) or "error". */
#define SBX_METRICS_LABEL_MAX 32
void sbx_exec_metrics_status(const struct sbx_exec_report *rep, char out[SBX_METRICS_LABEL_MAX]);

#endif
