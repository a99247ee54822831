/* sbx_engine_warm_pools (engine.h): the spawner's pools as messages. Off:
 * none and a NULL array. On (2): the "exec" pool fills, a run takes one
 * and leaves none in use, and many threads asking at once while
 * executions run all get an answer (each one's memory freed as a
 * repeated field's would be: the sanitizers watch). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "engine_util.h"
#include "testlib.h"

#define POOL 2
#define ASKERS 4
#define ASKS 50
#define RUNNERS 2
#define RUNS 10

static struct sbx_engine *on;

static void pools_free(Sbx__WarmPool **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sbx__warm_pool__free_unpacked(v[i], NULL);
	free(v);
}

/* The "exec" pool's figures into *ret; false when not listed. */
static bool exec_pool(struct sbx_engine *e, Sbx__WarmPool *ret)
{
	Sbx__WarmPool **v = NULL;
	size_t n = 0;
	bool found = false;

	if (sbx_engine_warm_pools(e, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++) {
		if (strcmp(v[i]->kind, "exec") != 0)
			continue;
		*ret = *v[i];
		ret->kind = NULL;
		found = true;
	}
	pools_free(v, n);
	return found;
}

/* Until POOL are ready, none in use, and at least `seen` executions were
 * counted (taken + misses: an answer is reused for 100 ms). */
static bool wait_idle_full(uint64_t seen, Sbx__WarmPool *p)
{
	int64_t until = sbx_clock_mono_ms() + 30000;

	do {
		if (exec_pool(on, p) && p->ready == POOL && p->in_use == 0 &&
		    p->taken + p->misses >= seen)
			return true;
		struct timespec ts = {0, 50 * 1000000};
		nanosleep(&ts, NULL);
	} while (sbx_clock_mono_ms() < until);
	return false;
}

static void *ask(void *arg)
{
	int *fails = arg;

	for (int i = 0; i < ASKS; i++) {
		Sbx__WarmPool p = SBX__WARM_POOL__INIT;

		*fails += !exec_pool(on, &p) || p.size != POOL;
	}
	return NULL;
}

static void *run(void *arg)
{
	int *fails = arg;

	for (int i = 0; i < RUNS; i++) {
		Sbx__ExecResult *r = tu_sh(on, "true", NULL);

		*fails += r->status != ST(OK);
		tu_free(r);
	}
	return NULL;
}

int main(void)
{
	Sbx__WarmPool a = SBX__WARM_POOL__INIT, b = SBX__WARM_POOL__INIT;
	pthread_t t[ASKERS + RUNNERS];
	int fails[ASKERS + RUNNERS] = {0};
	Sbx__WarmPool **v = (Sbx__WarmPool **)&v;
	size_t n = 99;
	struct sbx_engine *off;

	/* One at a time (a second spawner would hold the first one's control
	 * socket, which it forked with), before any thread (engine.h). */
	setenv("SANDBOX_WARM_POOL", "0", 1);
	off = tu_engine(SBX_CGROUP_AUTO);
	CHECK_INT(sbx_engine_warm_pools(off, &v, &n), 0);
	CHECK(v == NULL);
	CHECK_INT(n, 0);
	sbx_engine_free(off);
	setenv("SANDBOX_WARM_POOL", "2", 1);
	on = tu_engine(SBX_CGROUP_AUTO);

	CHECKF(wait_idle_full(0, &a), "the pool never showed %d ready, none in use (ready %u)",
	       POOL, a.ready);
	CHECK_INT(a.size, POOL);
	CHECK(a.built >= POOL);
	CHECK(a.refill_per_s > 0);
	tu_free(tu_sh(on, "true", NULL));
	CHECK(wait_idle_full(a.taken + a.misses + 1, &b));
	CHECK_INT(b.taken, a.taken + 1);
	CHECK_INT(b.misses, a.misses);

	for (int i = 0; i < ASKERS + RUNNERS; i++)
		CHECK(pthread_create(&t[i], NULL, i < ASKERS ? ask : run, &fails[i]) == 0);
	for (int i = 0; i < ASKERS + RUNNERS; i++) {
		pthread_join(t[i], NULL);
		CHECKF(fails[i] == 0, "%s thread %d: %d failed", i < ASKERS ? "asking" : "running",
		       i, fails[i]);
	}
	CHECK(wait_idle_full(a.taken + a.misses + 1 + RUNNERS * RUNS, &b));
	/* Every run that could take one took one or missed. */
	CHECK_INT(b.failed, a.failed);
	CHECKF(b.taken + b.misses == a.taken + a.misses + 1 + RUNNERS * RUNS,
	       "taken %llu + misses %llu after %d more runs", (unsigned long long)b.taken,
	       (unsigned long long)b.misses, 1 + RUNNERS * RUNS);
	sbx_engine_free(on);
	TEST_DONE();
}
