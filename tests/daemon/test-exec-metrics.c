/* The daemon's execution metrics (daemon/history/exec_metrics.h): status
 * labels, one row per (kind, language, status), the bound on rows with
 * its "other" row, histogram buckets per phase and phases that did not
 * happen, and a consistent copy under concurrent reports. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "exec_metrics.h"
#include "executor.h"
#include "testlib.h"

static Sbx__ExecResult res_ok = SBX__EXEC_RESULT__INIT;

static struct sbx_exec_report report(const char *kind, const Sbx__ExecResult *res, int error,
				     int64_t run_us)
{
	return (struct sbx_exec_report){.kind = kind,
					.res = res,
					.error = error,
					.queue_us = res ? 10 : -1,
					.setup_us = res ? 2000 : -1,
					.run_us = res ? run_us : -1,
					.total_us = run_us + 3000,
					.log_dropped_bytes = 5};
}

static const Sbx__ExecutionCount *row(const Sbx__NodeMetrics *r, const char *kind, const char *lang,
				      const char *status)
{
	for (size_t i = 0; i < r->n_executions; i++)
		if (!strcmp(r->executions[i]->kind, kind) &&
		    !strcmp(r->executions[i]->language, lang) &&
		    !strcmp(r->executions[i]->status, status))
			return r->executions[i];
	return NULL;
}

static const Sbx__MetricsHistogram *hist(const Sbx__NodeMetrics *r, const char *name)
{
	for (size_t i = 0; i < r->n_latency; i++)
		if (!strcmp(r->latency[i]->name, name))
			return r->latency[i];
	return NULL;
}

static void test_status_words(void)
{
	Sbx__ExecResult tl = SBX__EXEC_RESULT__INIT, stopped = SBX__EXEC_RESULT__INIT;
	struct sbx_exec_report rep = {.res = &res_ok};
	char wbuf[SBX_METRICS_LABEL_MAX];
	const char *w = wbuf;

	sbx_exec_metrics_status(&rep, wbuf);
	CHECK_STR(w, "ok");
	tl.status = SBX__EXEC_STATUS__EXEC_STATUS_WALL_TIME_LIMIT;
	rep.res = &tl;
	sbx_exec_metrics_status(&rep, wbuf);
	CHECK_STR(w, "wall_time_limit");
	/* Shown outside the daemon as SIGNALED (exec_status.h). */
	stopped.status = SBX__EXEC_STATUS__EXEC_STATUS_STOPPED;
	rep.res = &stopped;
	sbx_exec_metrics_status(&rep, wbuf);
	CHECK_STR(w, "signaled");
	rep.res = NULL;
	rep.error = -EINVAL;
	sbx_exec_metrics_status(&rep, wbuf);
	CHECK_STR(w, "invalid");
	rep.error = -EAGAIN;
	sbx_exec_metrics_status(&rep, wbuf);
	CHECK_STR(w, "rejected");
	rep.error = -ETIMEDOUT;
	sbx_exec_metrics_status(&rep, wbuf);
	CHECK_STR(w, "rejected");
	rep.error = -EIO;
	sbx_exec_metrics_status(&rep, wbuf);
	CHECK_STR(w, "error");
}

static void test_rows_and_histograms(void)
{
	Sbx__NodeMetrics *rp = (Sbx__NodeMetrics *)sbx_message_new(&sbx__node_metrics__descriptor);
	struct sbx_exec_metrics *m;
	struct sbx_exec_report rep;
	const Sbx__MetricsHistogram *h;

	CHECK(rp != NULL);
	CHECK_INT(sbx_exec_metrics_new(&m), 0);
	if (!rp)
		return;
#define r (*rp)
	rep = report("execute", &res_ok, 0, 50000); /* 0.05 s */
	sbx_exec_metrics_record(m, &rep, "python");
	sbx_exec_metrics_record(m, &rep, "python");
	rep = report("execute", NULL, -EINVAL, 0);
	sbx_exec_metrics_record(m, &rep, "other");
	CHECK_INT(sbx_exec_metrics_fill(m, &r), 0);
	CHECK_INT(r.n_executions, 2);
	CHECK(row(&r, "execute", "python", "ok") && row(&r, "execute", "python", "ok")->count == 2);
	CHECK(row(&r, "execute", "other", "invalid") &&
	      row(&r, "execute", "other", "invalid")->count == 1);
	CHECK_INT(r.log_dropped_bytes, 15);
	CHECK_INT(r.n_latency, 4);
	h = hist(&r, "run");
	CHECK(h != NULL);
	if (h) {
		CHECK_INT(h->n_counts, h->n_bounds + 1);
		CHECK_INT(h->count, 2); /* the refused one never ran */
		CHECKF(h->sum > 0.0999 && h->sum < 0.1001, "sum %g", h->sum);
		/* 0.05 s falls in the bucket whose bound is 0.05 (le). */
		for (size_t i = 0; i < h->n_bounds; i++)
			if (h->bounds[i] == 0.05)
				CHECK_INT(h->counts[i], 2);
	}
	h = hist(&r, "request");
	CHECK(h && h->count == 3);
	h = hist(&r, "queue_wait");
	CHECK(h && h->count == 2);
#undef r
	protobuf_c_message_free_unpacked(&rp->base, NULL);
	sbx_exec_metrics_free(m);
}

/* Past SBX_METRICS_MAX_SERIES combinations, new ones go to one "other"
 * row; nothing is lost and the rows stay bounded. */
static void test_bound(void)
{
	Sbx__NodeMetrics *r = (Sbx__NodeMetrics *)sbx_message_new(&sbx__node_metrics__descriptor);
	struct sbx_exec_metrics *m;
	struct sbx_exec_report rep = report("run", &res_ok, 0, 1000);
	const Sbx__ExecutionCount *other;
	uint64_t total = 0;
	char lang[32];

	CHECK_INT(sbx_exec_metrics_new(&m), 0);
	for (int i = 0; i < SBX_METRICS_MAX_SERIES + 100; i++) {
		snprintf(lang, sizeof(lang), "lang%d", i);
		sbx_exec_metrics_record(m, &rep, lang);
	}
	CHECK_INT(sbx_exec_metrics_fill(m, r), 0);
	CHECK_INT(r->n_executions, SBX_METRICS_MAX_SERIES);
	for (size_t i = 0; i < r->n_executions; i++)
		total += r->executions[i]->count;
	CHECK_INT(total, SBX_METRICS_MAX_SERIES + 100);
	other = row(r, "other", "other", "other");
	CHECK(other && other->count == 101);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	sbx_exec_metrics_free(m);
}

#define THREADS 4
#define PER_THREAD 5000

static void *reporter(void *arg)
{
	struct sbx_exec_metrics *m = arg;
	struct sbx_exec_report rep = report("execute", &res_ok, 0, 1000);

	for (int i = 0; i < PER_THREAD; i++)
		sbx_exec_metrics_record(m, &rep, "python");
	return NULL;
}

/* Reports from several threads while another reads: every copy is
 * consistent (the row's count equals the request histogram's). */
static void test_threads(void)
{
	struct sbx_exec_metrics *m;
	pthread_t t[THREADS];
	uint64_t last = 0;

	CHECK_INT(sbx_exec_metrics_new(&m), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, reporter, m);
	while (last < (uint64_t)THREADS * PER_THREAD) {
		Sbx__NodeMetrics *r =
			(Sbx__NodeMetrics *)sbx_message_new(&sbx__node_metrics__descriptor);
		const Sbx__ExecutionCount *c;
		const Sbx__MetricsHistogram *h;

		if (!r || sbx_exec_metrics_fill(m, r) < 0) {
			CHECK(!"fill");
			break;
		}
		c = row(r, "execute", "python", "ok");
		h = hist(r, "request");
		if (c && h) {
			CHECKF(c->count == h->count, "count %llu, histogram %llu",
			       (unsigned long long)c->count, (unsigned long long)h->count);
			CHECK(c->count >= last);
			last = c->count;
		}
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_INT(last, THREADS * PER_THREAD);
	sbx_exec_metrics_free(m);
}

int main(void)
{
	test_status_words();
	test_rows_and_histograms();
	test_bound();
	test_threads();
	TEST_DONE();
}
