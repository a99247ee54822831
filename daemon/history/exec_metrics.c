#include "exec_metrics.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "exec_status.h"
#include "executor.h"

/* Seconds; from a fast Execute to a long compile and run (the largest
 * wall-time limits are minutes). */
static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
				1,     2.5,  5,	    10,	  30,  60,   300};
#define N_BOUNDS (sizeof(bounds) / sizeof(bounds[0]))

enum { H_QUEUE, H_SETUP, H_RUN, H_REQUEST, N_HIST };
static const char *const hist_names[N_HIST] = {"queue_wait", "setup", "run", "request"};

/* Label values are short words; longer ones are cut (they come from the
 * spec's kind and the runtimes table, both the daemon's). */
#define LABEL_MAX SBX_METRICS_LABEL_MAX

struct series {
	char kind[LABEL_MAX], language[LABEL_MAX], status[LABEL_MAX];
	uint64_t n;
};

struct hist {
	uint64_t counts[N_BOUNDS + 1];
	uint64_t sum_us; /* whole µs: no rounding drift over millions of adds */
	uint64_t count;
};

struct sbx_exec_metrics {
	pthread_mutex_t lock; /* everything below */
	struct series series[SBX_METRICS_MAX_SERIES];
	size_t n_series;
	struct hist hist[N_HIST];
	uint64_t log_dropped_bytes;
};

int sbx_exec_metrics_new(struct sbx_exec_metrics **ret)
{
	struct sbx_exec_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	*ret = m;
	return 0;
}

void sbx_exec_metrics_free(struct sbx_exec_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Copy src into dst[LABEL_MAX], cut, in lower case. */
static void label_copy(char *dst, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < LABEL_MAX; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

void sbx_exec_metrics_status(const struct sbx_exec_report *rep, char out[SBX_METRICS_LABEL_MAX])
{
	const ProtobufCEnumValue *v;

	if (!rep->res) {
		label_copy(out, rep->error == -EINVAL				    ? "invalid"
				: rep->error == -EAGAIN || rep->error == -ETIMEDOUT ? "rejected"
										    : "error");
		return;
	}
	v = protobuf_c_enum_descriptor_get_value(&sbx__exec_status__descriptor,
						 (int)sbx_exec_status_shown(rep->res->status));
	if (!v) {
		label_copy(out, "unknown");
		return;
	}
	label_copy(out, strncmp(v->name, "EXEC_STATUS_", 12) == 0 ? v->name + 12 : v->name);
}

static void observe(struct hist *h, int64_t us)
{
	double s = (double)us / 1e6;
	size_t i = 0;

	if (us < 0)
		return;
	while (i < N_BOUNDS && s > bounds[i])
		i++;
	h->counts[i]++;
	h->sum_us += (uint64_t)us;
	h->count++;
}

/* Under m->lock: the row of (kind, language, status), made when new. */
static struct series *series_of(struct sbx_exec_metrics *m, const char *kind, const char *language,
				const char *status)
{
	struct series *s;

	for (size_t i = 0; i < m->n_series; i++) {
		s = &m->series[i];
		if (!strcmp(s->kind, kind) && !strcmp(s->language, language) &&
		    !strcmp(s->status, status))
			return s;
	}
	if (m->n_series + 1 >= SBX_METRICS_MAX_SERIES) {
		/* The last row is the overflow's. */
		s = &m->series[SBX_METRICS_MAX_SERIES - 1];
		if (m->n_series < SBX_METRICS_MAX_SERIES) {
			label_copy(s->kind, "other");
			label_copy(s->language, "other");
			label_copy(s->status, "other");
			m->n_series = SBX_METRICS_MAX_SERIES;
		}
		return s;
	}
	s = &m->series[m->n_series++];
	label_copy(s->kind, kind);
	label_copy(s->language, language);
	label_copy(s->status, status);
	return s;
}

void sbx_exec_metrics_record(struct sbx_exec_metrics *m, const struct sbx_exec_report *rep,
			     const char *language)
{
	char kind[LABEL_MAX], lang[LABEL_MAX], status[LABEL_MAX];

	label_copy(kind, rep->kind && *rep->kind ? rep->kind : "unknown");
	label_copy(lang, language && *language ? language : "other");
	sbx_exec_metrics_status(rep, status);
	pthread_mutex_lock(&m->lock);
	series_of(m, kind, lang, status)->n++;
	observe(&m->hist[H_QUEUE], rep->queue_us);
	observe(&m->hist[H_SETUP], rep->setup_us);
	observe(&m->hist[H_RUN], rep->run_us);
	observe(&m->hist[H_REQUEST], rep->total_us);
	m->log_dropped_bytes += rep->log_dropped_bytes;
	pthread_mutex_unlock(&m->lock);
}

static Sbx__ExecutionCount *count_new(const struct series *s)
{
	Sbx__ExecutionCount *c =
		(Sbx__ExecutionCount *)sbx_message_new(&sbx__execution_count__descriptor);

	if (!c)
		return NULL;
	c->kind = strdup(s->kind);
	c->language = strdup(s->language);
	c->status = strdup(s->status);
	c->count = s->n;
	if (!c->kind || !c->language || !c->status) {
		protobuf_c_message_free_unpacked(&c->base, NULL);
		return NULL;
	}
	return c;
}

static Sbx__MetricsHistogram *hist_new(const char *name, const struct hist *h)
{
	Sbx__MetricsHistogram *m =
		(Sbx__MetricsHistogram *)sbx_message_new(&sbx__metrics_histogram__descriptor);

	if (!m)
		return NULL;
	m->name = strdup(name);
	m->bounds = malloc(sizeof(bounds));
	m->counts = malloc(sizeof(h->counts));
	if (!m->name || !m->bounds || !m->counts) {
		protobuf_c_message_free_unpacked(&m->base, NULL);
		return NULL;
	}
	memcpy(m->bounds, bounds, sizeof(bounds));
	m->n_bounds = N_BOUNDS;
	memcpy(m->counts, h->counts, sizeof(h->counts));
	m->n_counts = N_BOUNDS + 1;
	m->sum = (double)h->sum_us / 1e6;
	m->count = h->count;
	return m;
}

int sbx_exec_metrics_fill(struct sbx_exec_metrics *m, Sbx__NodeMetrics *r)
{
	struct sbx_exec_metrics *snap = malloc(sizeof(*snap));
	int rv = -ENOMEM;

	if (!snap)
		return -ENOMEM;
	/* A copy, so that the messages are built without the lock. */
	pthread_mutex_lock(&m->lock);
	memcpy(snap->series, m->series, m->n_series * sizeof(m->series[0]));
	snap->n_series = m->n_series;
	memcpy(snap->hist, m->hist, sizeof(m->hist));
	snap->log_dropped_bytes = m->log_dropped_bytes;
	pthread_mutex_unlock(&m->lock);

	r->log_dropped_bytes = snap->log_dropped_bytes;
	r->executions = calloc(snap->n_series ? snap->n_series : 1, sizeof(*r->executions));
	r->latency = calloc(N_HIST, sizeof(*r->latency));
	if (!r->executions || !r->latency)
		goto out;
	for (size_t i = 0; i < snap->n_series; i++) {
		if (!(r->executions[i] = count_new(&snap->series[i])))
			goto out;
		r->n_executions++;
	}
	for (size_t i = 0; i < N_HIST; i++) {
		if (!(r->latency[i] = hist_new(hist_names[i], &snap->hist[i])))
			goto out;
		r->n_latency++;
	}
	rv = 0;
out:
	free(snap);
	return rv;
}
