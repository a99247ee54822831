#include "stats.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "history.h"
#include "store.h"

/* Per-language counters are bounded by the runtimes table (history.h);
 * this bounds the reply even if the store holds more. */
#define MAX_LANGUAGES 64

struct totals {
	int64_t total, ok, failed, timeouts, rejected, time_ms;
};

static int64_t *slot(struct totals *t, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} map[] = {
		{"executions_total", offsetof(struct totals, total)},
		{"executions_ok", offsetof(struct totals, ok)},
		{"executions_failed", offsetof(struct totals, failed)},
		{"executions_timeouts", offsetof(struct totals, timeouts)},
		{"executions_rejected", offsetof(struct totals, rejected)},
		{"executions_time_ms", offsetof(struct totals, time_ms)},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, name) == 0)
			return (int64_t *)((char *)t + map[i].off);
	return NULL;
}

static int on_total(void *arg, const char *name, int64_t value)
{
	int64_t *p = slot(arg, name);

	if (p)
		*p = value;
	return 0;
}

static int on_language(void *arg, const char *name, int64_t value)
{
	Sbx__StatsReply *r = arg;
	Sbx__StatsReply__ExecutionsByLanguageEntry *e;

	if (r->n_executions_by_language >= MAX_LANGUAGES)
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	sbx__stats_reply__executions_by_language_entry__init(e);
	e->key = strdup(name + strlen(SBX_HISTORY_PREFIX_LANG));
	e->value = value > 0 ? (uint64_t)value : 0;
	if (!e->key) {
		free(e);
		return -ENOMEM;
	}
	r->executions_by_language[r->n_executions_by_language++] = e;
	return 0;
}

static uint64_t nonneg(int64_t v)
{
	return v > 0 ? (uint64_t)v : 0;
}

int sbx_stats_get(struct sbx_store *store, unsigned running, unsigned queued, uint64_t uptime_s,
		  Sbx__StatsReply **ret)
{
	Sbx__StatsReply *r = (Sbx__StatsReply *)sbx_message_new(&sbx__stats_reply__descriptor);
	struct totals t = {0};
	int rv;

	if (!r)
		return -ENOMEM;
	r->executions_by_language = calloc(MAX_LANGUAGES, sizeof(*r->executions_by_language));
	if (!r->executions_by_language) {
		rv = -ENOMEM;
		goto fail;
	}
	rv = sbx_store_each_counter(store, "executions_", on_total, &t);
	if (rv == 0)
		rv = sbx_store_each_counter(store, SBX_HISTORY_PREFIX_LANG, on_language, r);
	if (rv < 0)
		goto fail;
	r->total_executions = nonneg(t.total);
	r->successful_executions = nonneg(t.ok);
	r->failed_executions = nonneg(t.failed);
	r->timeouts = nonneg(t.timeouts);
	r->rejected = nonneg(t.rejected);
	r->running = running;
	r->queued = queued;
	r->average_execution_time_ms = t.total > 0 ? (double)t.time_ms / (double)t.total : 0.0;
	r->uptime_seconds = uptime_s;
	*ret = r;
	return 0;
fail:
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return rv;
}
