#include "load.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

/* Callers get ready, then wait here until the main thread has seen them
 * all ready and opens the gate with the round's deadline. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned ready;
	bool open;
	uint64_t deadline_ns; /* 0: the round was called off */
};

struct caller {
	const struct peer *peer;
	const struct load_opts *opts;
	struct gate *gate;
	uint64_t *lat_ns;
	size_t cap, n;
	uint64_t begin_ns, end_ns;
	int err;
	pthread_t thread;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	struct gate *g = c->gate;
	void *state = NULL;
	uint64_t t0, t1, deadline;

	c->err = c->peer->ops->caller_new(c->peer->state, &state);
	pthread_mutex_lock(&g->lock);
	g->ready++;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	deadline = g->deadline_ns;
	pthread_mutex_unlock(&g->lock);
	c->begin_ns = t0 = sbx_clock_mono_ns();
	while (c->err == 0 && c->n < c->cap && t0 < deadline) {
		if (c->opts->stop && *c->opts->stop) {
			c->err = -EINTR;
			break;
		}
		c->err = c->peer->ops->call(state);
		t1 = sbx_clock_mono_ns();
		if (c->err < 0)
			break;
		c->lat_ns[c->n++] = t1 - t0;
		t0 = t1;
	}
	c->end_ns = sbx_clock_mono_ns();
	if (state)
		c->peer->ops->caller_free(state);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n), n > 0. */
static double percentile_us(const uint64_t *v, size_t n, unsigned pct)
{
	size_t rank = (n * pct + 99) / 100;

	return (double)v[rank ? rank - 1 : 0] / 1000.0;
}

/* Gather the callers' samples into one sorted array and fill *ret. */
static int summarize(struct caller *cs, unsigned n, struct load_result *ret)
{
	uint64_t begin = UINT64_MAX, end = 0, *all;
	size_t total = 0, k = 0;

	for (unsigned i = 0; i < n; i++) {
		total += cs[i].n;
		begin = cs[i].begin_ns < begin ? cs[i].begin_ns : begin;
		end = cs[i].end_ns > end ? cs[i].end_ns : end;
	}
	if (total == 0 || end <= begin)
		return -ENODATA;
	all = malloc(total * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		for (size_t j = 0; j < cs[i].n; j++)
			all[k++] = cs[i].lat_ns[j];
	qsort(all, total, sizeof(*all), cmp_u64);
	*ret = (struct load_result){
		.calls = total,
		.seconds = (double)(end - begin) / 1e9,
		.p50_us = percentile_us(all, total, 50),
		.p99_us = percentile_us(all, total, 99),
	};
	ret->calls_per_s = (double)total / ret->seconds;
	free(all);
	return 0;
}

int load_run(const struct peer *p, const struct load_opts *o, struct load_result *ret)
{
	struct gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	struct caller *cs;
	unsigned started = 0;
	int r = 0;

	if (o->callers == 0 || o->callers > LOAD_MAX_CALLERS || o->duration_ms == 0)
		return -EINVAL;
	cs = calloc(o->callers, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	for (unsigned i = 0; i < o->callers; i++) {
		cs[i] = (struct caller){
			.peer = p, .opts = o, .gate = &g, .cap = LOAD_MAX_SAMPLES / o->callers};
		cs[i].lat_ns = malloc(cs[i].cap * sizeof(*cs[i].lat_ns));
		if (!cs[i].lat_ns) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (; started < o->callers; started++)
		if (pthread_create(&cs[started].thread, NULL, caller_main, &cs[started]) != 0)
			break;
	pthread_mutex_lock(&g.lock);
	while (g.ready < started)
		pthread_cond_wait(&g.cond, &g.lock);
	/* A thread that could not be created calls the round off. */
	g.deadline_ns = started == o->callers
				? sbx_clock_mono_ns() + (uint64_t)o->duration_ms * 1000000u
				: 0;
	g.open = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(cs[i].thread, NULL);
	if (started < o->callers)
		r = -EAGAIN;
	for (unsigned i = 0; i < started && r == 0; i++)
		if (cs[i].err < 0)
			r = cs[i].err;
	if (r == 0)
		r = summarize(cs, o->callers, ret);
out:
	for (unsigned i = 0; i < o->callers; i++)
		free(cs[i].lat_ns);
	free(cs);
	return r;
}
